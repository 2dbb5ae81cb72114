#!/usr/bin/env python3
"""live_tail_ordered.py: `sluice tail --ordered` against build/sluice-broker.

Run by tests/live_tail_ordered.sh, which exports BUILD and LIVE_DIR (a
scratch directory). The broker is started here through live_kafka.Broker;
records are produced with kcat, one invocation per record (kcat's -H sets
the headers of a whole invocation), the partitions in parallel. Each
record's value is {"id":N}, which maps what tail prints back to what was
produced.

ord.a (4 partitions): 240 data records of 12 keys, each sent to a random
partition and every partition shuffled, so one key's sequences are out of
order within and across partitions; 15 of them sent again on another
partition (duplicates); 3 heartbeats on every partition (no key, a shared
sequence). With a window that holds everything:
  - everything is printed once, in global sequence order; the duplicates
    are dropped, or printed with "late":true under --late print;
  - --max 50 prints the 50 smallest;
  - SIGINT once every partition was read prints what is held, in order;
  - --group with --max 50 commits, per partition, only up to the first
    record it did not print: a second run of the group starts exactly
    there;
  - a 4 KiB --reorder-bytes releases early: no longer in global order,
    and every invariant below still holds.

ord.b (4 partitions), window 4: partition 0 has A@100, then more than a
window of records above 100 (so A@100 is released, whatever the other
partitions do), then A@5 (far older than the window: late) and A@100
again (a duplicate), then disorder that the window fixes, duplicates held
together, a heartbeat below what was released. Read alone (ord.b:0), the
arrival order is the offset order, and what tail prints must equal a
Python model of the reorder buffer line for line, with --reorder-keys 1
too (a forgotten key's late record passes as in order) and --late print.
Read whole, the interleaving of partitions is the consumer's, so the
checks are invariants: each key's sequences strictly increase among the
records not marked late, every record marked late follows a record of
its key at or above it, A@5 and the second A@100 are late, and the
summary line counts exactly the late and duplicate records.

ord.c: release by time. Phase 1 (each key on one partition, in order) must
come out while tail still runs (--reorder-ms 300, the window far from
full); then a record older than a key's printed one and a duplicate are
dropped and new records printed.

Errors: a data record without a sequence, or with one that is not a
number, ends tail with exit 1 naming topic, partition and offset (a
heartbeat without one passes); invalid option values are usage errors
(exit 2) naming the option and the range.
"""

import heapq
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, 'lib'))
import live_kafka as lk  # noqa: E402
from workload import fail  # noqa: E402

SLUICE = lk.SLUICE
WORK = lk.WORK
SEED = int(os.environ.get('SEED') or 1)
FOREVER_MS = '600000'  # a --reorder-ms that never fires during a test
SUMMARY = re.compile(r'^tail: (\d+) records in order, (\d+) late (dropped|printed), '
                     r'(\d+) duplicates (dropped|printed)$')


def log(msg):
    print(msg, flush=True)


class Rec:
    """One record to produce. seq is an int, or raw header text, or None
    for no sequence header."""
    _next = 0

    def __init__(self, part, key, seq, hb=False, dup_of=None):
        Rec._next += 1
        self.id = Rec._next
        self.part, self.key, self.seq, self.hb, self.dup_of = part, key, seq, hb, dup_of
        self.offset = None

    def kcat_args(self):
        args = ['-p', str(self.part)]
        if self.key is not None:
            args += ['-k', self.key]
        args += ['-H', 'type=%s' % ('heartbeat' if self.hb else 'data')]
        if self.seq is not None:
            args += ['-H', 'sequence=%s' % self.seq]
        return args

    def ident(self):
        """What a duplicate shares with its original."""
        return (self.key, self.seq)


def key_of(i):
    return '["db","t",%d]' % i


def produce(bootstrap, topic, recs):
    """kcat, one invocation per record, each partition in its own thread
    so that a partition's records keep their order. The topic is fresh, so
    a record's offset is its index in its partition."""
    parts = {}
    for r in recs:
        r.offset = len(parts.setdefault(r.part, []))
        parts[r.part].append(r)
    errors = []

    def run(lst):
        for r in lst:
            p = subprocess.run(['kcat', '-P', '-b', bootstrap, '-t', topic] + r.kcat_args(),
                               input=b'{"id":%d}\n' % r.id, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            if p.returncode != 0:
                errors.append('kcat -P %s: exit %d: %s' % (topic, p.returncode,
                                                          p.stderr.decode()[-500:]))
                return

    threads = [threading.Thread(target=run, args=(lst,)) for lst in parts.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        fail(errors[0])


def parse_out(stdout, what):
    lines = []
    for ln in stdout.decode().splitlines():
        try:
            lines.append(json.loads(ln))
        except ValueError:
            fail('%s: not a JSON line: %r' % (what, ln[:300]))
    return lines


def parse_summary(stderr, what):
    found = [m for m in (SUMMARY.match(ln) for ln in stderr.decode().splitlines()) if m]
    if len(found) != 1:
        fail('%s: expected one summary line on stderr, got %d: %s' %
             (what, len(found), stderr.decode()[-2000:]))
    m = found[0]
    return (int(m.group(1)), int(m.group(2)), int(m.group(4)))


def tail(bootstrap, args, what, rc=0, env=None):
    p = subprocess.run([SLUICE, 'tail', '-b', bootstrap] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=180, env=env)
    with open(os.path.join(WORK, re.sub(r'\W+', '_', what) + '.out'), 'wb') as f:
        f.write(p.stdout + b'\n--- stderr\n' + p.stderr)
    if p.returncode != rc:
        fail('%s: sluice tail %s: exit %d, expected %d: %s' %
             (what, ' '.join(args), p.returncode, rc, p.stderr.decode()[-2000:]))
    return p


def by_id(recs):
    return {r.id: r for r in recs}


def check_lines(lines, ids, what):
    """Every line names a produced record at its partition and offset;
    returns the records, in output order, with the late flag."""
    out = []
    for ln in lines:
        r = ids.get(ln['value']['id']) if isinstance(ln.get('value'), dict) else None
        if r is None:
            fail('%s: a line for no record produced: %r' % (what, ln))
        if (ln['partition'], ln['offset']) != (r.part, r.offset):
            fail('%s: record %d printed at [%d] %d, produced at [%d] %d' %
                 (what, r.id, ln['partition'], ln['offset'], r.part, r.offset))
        want_seq = None if r.seq is None else str(r.seq)
        if ln['headers'].get('sequence') != want_seq or ln['key'] != r.key:
            fail('%s: record %d printed with key %r sequence %r' %
                 (what, r.id, ln['key'], ln['headers'].get('sequence')))
        late = ln.get('late', False)
        if late not in (False, True) or ('late' in ln and late is not True):
            fail('%s: record %d: "late" is %r' % (what, r.id, ln.get('late')))
        out.append((r, late))
    return out


def check_invariants(out, recs, summary, late_print, what):
    """What any interleaving must give: per key strictly increasing among
    the records printed in order; each late one justified by an earlier
    record of its key at or above it; the summary counting exactly."""
    last = {}
    n_in, n_late, n_dup = 0, 0, 0
    for r, late in out:
        if r.hb:
            if late:
                fail('%s: heartbeat %d marked late' % (what, r.id))
            n_in += 1
            continue
        prev = last.get(r.key)
        if not late:
            if prev is not None and r.seq <= prev:
                fail('%s: key %s: sequence %d printed after %d' % (what, r.key, r.seq, prev))
            last[r.key] = r.seq
            n_in += 1
        else:
            if prev is None or r.seq > prev:
                fail('%s: record %d (key %s, sequence %d) marked late, but the last of its key '
                     'printed was %r' % (what, r.id, r.key, r.seq, prev))
            if r.seq == prev:
                n_dup += 1
            else:
                n_late += 1
    printed = [r.id for r, _ in out]
    if len(set(printed)) != len(printed):
        fail('%s: a record printed twice' % what)
    if late_print:
        if set(printed) != set(r.id for r in recs):
            missing = sorted(set(r.id for r in recs) - set(printed))
            fail('%s: with --late print every record must be printed; missing %s' %
                 (what, missing[:10]))
        if summary != (n_in, n_late, n_dup):
            fail('%s: summary %r, but the output has %d in order, %d late, %d duplicates' %
                 (what, summary, n_in, n_late, n_dup))
    else:
        if summary[0] != len(out):
            fail('%s: summary says %d in order, %d lines printed' % (what, summary[0], len(out)))
        if sum(summary) != len(recs):
            fail('%s: summary %r does not add up to the %d records' % (what, summary, len(recs)))
        if any(late for _, late in out):
            fail('%s: "late" printed without --late print' % what)


def model(recs, window, max_keys, late_print):
    """The reorder buffer, for records arriving in list order: the lines
    it prints, as (id, late), and (in order, late, duplicates)."""
    heap, last, out = [], OrderedDict(), []
    stats = [0, 0, 0]

    def judge(r):
        if r.hb or r.key not in last or r.seq > last[r.key]:
            return 0
        return 2 if r.seq == last[r.key] else 1

    def emit(r, v):
        stats[v] += 1
        if v == 0:
            out.append((r.id, False))
            if not r.hb:
                if r.key in last:
                    last.move_to_end(r.key)
                elif len(last) >= max_keys:
                    last.popitem(last=False)
                last[r.key] = r.seq
        elif late_print:
            out.append((r.id, True))

    for n, r in enumerate(recs):
        v = judge(r)
        if v:
            emit(r, v)
            continue
        heapq.heappush(heap, (r.seq, n, r))
        while len(heap) > window:
            r2 = heapq.heappop(heap)[2]
            emit(r2, judge(r2))
    while heap:
        r2 = heapq.heappop(heap)[2]
        emit(r2, judge(r2))
    return out, tuple(stats)


# ------------------------------------------------------------------ data

def data_a(rng):
    recs = []
    seqs = [1000 + 7 * i for i in range(240)]
    for s in seqs:
        recs.append(Rec(rng.randrange(4), key_of(rng.randrange(12)), s))
    for orig in rng.sample(recs, 15):
        recs.append(Rec((orig.part + 1 + rng.randrange(3)) % 4, orig.key, orig.seq, dup_of=orig))
    for s in (1003, 1502, 2004):  # no data record has these
        for p in range(4):
            recs.append(Rec(p, None, s, hb=True))
    parts = [[r for r in recs if r.part == p] for p in range(4)]
    for lst in parts:
        rng.shuffle(lst)
    return [r for lst in parts for r in lst]


def data_b(rng):
    A, B, D = key_of(100), key_of(101), key_of(102)
    p0 = [Rec(0, A, 100)]
    p0 += [Rec(0, key_of(200 + i), 101 + i) for i in range(6)]  # > window above 100
    p0 += [Rec(0, A, 5), Rec(0, A, 100)]                        # late; duplicate
    p0 += [Rec(0, B, 203), Rec(0, B, 201), Rec(0, B, 202)]      # fixed by the window
    p0 += [Rec(0, D, 300), Rec(0, D, 300)]                      # duplicates held together
    p0 += [Rec(0, None, 150, hb=True)]                          # below what was released
    p0 += [Rec(0, B, 200), Rec(0, A, 301), Rec(0, key_of(200), 90)]
    p0 += [Rec(0, key_of(300 + i), 400 + i) for i in range(5)]
    p0 += [Rec(0, key_of(201), 101), Rec(0, A, 302)]
    others = []
    for i in range(30):
        others.append(Rec(1 + rng.randrange(3), key_of(rng.choice([100, 101, 400, 401])),
                          rng.randrange(90, 500)))
    return p0, p0 + others


def phase_c():
    p1 = []
    for p in range(4):
        for j in range(5):
            p1.append(Rec(p, key_of(500 + p), 10 * p + j + 1))
    # an older sequence of key 500 (printed up to 5), a duplicate of key 501's 13
    p2 = [Rec(1, key_of(500), 3), Rec(2, key_of(501), 15), Rec(3, key_of(502), 100),
          Rec(0, key_of(503), 101), Rec(0, key_of(509), 102)]
    return p1, p2


# ------------------------------------------------------------------ checks

def check_a(bootstrap, recs):
    ids = by_id(recs)
    data = [r for r in recs if not r.hb]
    dups = [r for r in data if r.dup_of]
    hb = [r for r in recs if r.hb]
    big = ['--ordered', '--until-end', '--reorder-window', '10000', '--reorder-ms', FOREVER_MS]

    p = tail(bootstrap, ['ord.a'] + big, 'a: window holds everything')
    out = check_lines(parse_out(p.stdout, 'a'), ids, 'a')
    summary = parse_summary(p.stderr, 'a')
    check_invariants(out, recs, summary, False, 'a')
    seqs = [r.seq for r, _ in out]
    if seqs != sorted(seqs):
        fail('a: not in global sequence order: %s' % seqs[:40])
    want = sorted(set(r.ident() for r in data))
    got = [r.ident() for r, _ in out if not r.hb]
    if got != sorted(got, key=lambda x: x[1]) or sorted(got) != want:
        fail('a: printed %d data records, expected the %d distinct ones' % (len(got), len(want)))
    if sum(1 for r, _ in out if r.hb) != len(hb):
        fail('a: heartbeats printed %d, expected %d' % (sum(1 for r, _ in out if r.hb), len(hb)))
    if summary != (len(want) + len(hb), 0, len(dups)):
        fail('a: summary %r, expected %r' % (summary, (len(want) + len(hb), 0, len(dups))))
    order_a = [(r.seq, r.key or '') for r, _ in out]
    log('a: %d records (%d duplicates, %d heartbeats) over 4 partitions: %d printed in global '
        'order, summary %r' % (len(recs), len(dups), len(hb), len(out), summary))

    p = tail(bootstrap, ['ord.a', '--late', 'print'] + big, 'a: late print')
    out = check_lines(parse_out(p.stdout, 'a late print'), ids, 'a late print')
    summary = parse_summary(p.stderr, 'a late print')
    check_invariants(out, recs, summary, True, 'a late print')
    if summary != (len(want) + len(hb), 0, len(dups)):
        fail('a late print: summary %r' % (summary,))
    marked = sorted(r.ident() for r, late in out if late)
    if marked != sorted(r.ident() for r in dups):
        fail('a late print: the records marked late are not the duplicates')
    log('a: --late print: all %d printed, %d marked "late":true, summary %r' %
        (len(out), len(marked), summary))

    p = tail(bootstrap, ['ord.a', '--max', '50'] + big, 'a: max 50')
    out = check_lines(parse_out(p.stdout, 'a max'), ids, 'a max')
    summary = parse_summary(p.stderr, 'a max')
    if [(r.seq, r.key or '') for r, _ in out] != order_a[:50]:
        fail('a max: --max 50 did not print the 50 smallest')
    seq50 = out[-1][0].seq
    n_dup = sum(1 for r in dups if r.seq < seq50)
    if summary != (50, 0, n_dup):
        fail('a max: summary %r, expected %r' % (summary, (50, 0, n_dup)))
    log('a: --max 50 printed the 50 smallest (up to sequence %d), summary %r' % (seq50, summary))

    check_sigint(bootstrap, ids, order_a)
    check_group(bootstrap, recs, ids, order_a)

    # 4 KiB: about a dozen records held; the key map's own 4 KiB still
    # holds all 12 keys (a smaller one would forget keys, and then a late
    # record passes as in order).
    p = tail(bootstrap, ['ord.a', '--ordered', '--until-end', '--reorder-bytes', '4K',
                         '--reorder-ms', FOREVER_MS, '--late', 'print'], 'a: 4K bytes')
    out = check_lines(parse_out(p.stdout, 'a bytes'), ids, 'a bytes')
    summary = parse_summary(p.stderr, 'a bytes')
    check_invariants(out, recs, summary, True, 'a bytes')
    seqs = [r.seq for r, late in out if not late]
    if seqs == sorted(seqs):
        fail('a bytes: a 4 KiB buffer cannot sort shuffled partitions, yet the output is sorted')
    log('a: --reorder-bytes 4K: released early, invariants hold, summary %r' % (summary,))


def check_sigint(bootstrap, ids, order_a):
    """No exit condition: SIGINT once every partition was read to its end
    (the debug log says so) must print everything held, in order."""
    env = dict(os.environ, SLUICE_LOG='debug')
    proc = subprocess.Popen([SLUICE, 'tail', '-b', bootstrap, 'ord.a', '--ordered',
                             '--reorder-ms', FOREVER_MS], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    err = []
    ends = threading.Event()

    def read_err():
        n = 0
        for ln in proc.stderr:
            err.append(ln)
            if b'at its end' in ln:
                n += 1
                if n == 4:
                    ends.set()

    th = threading.Thread(target=read_err, daemon=True)
    th.start()
    if not ends.wait(60):
        proc.kill()
        fail('sigint: tail did not reach the end of 4 partitions: %s' % b''.join(err)[-2000:])
    proc.send_signal(signal.SIGINT)
    # stderr is the thread's: read stdout here, not with communicate()
    stdout = proc.stdout.read()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail('sigint: tail did not exit after SIGINT')
    th.join(10)
    if proc.returncode != 0:
        fail('sigint: exit %d: %s' % (proc.returncode, b''.join(err)[-2000:]))
    out = check_lines(parse_out(stdout, 'sigint'), ids, 'sigint')
    if [(r.seq, r.key or '') for r, _ in out] != order_a:
        fail('sigint: what SIGINT flushed is not everything in order')
    summary = parse_summary(b''.join(err), 'sigint')
    log('a: SIGINT with everything held: %d printed in order, summary %r' % (len(out), summary))


def check_group(bootstrap, recs, ids, order_a):
    """--group: a run printing 50 commits, per partition, the offset of
    the first record it still held; the next run of the group starts
    exactly there (everything is printed once, so nothing is lost)."""
    # The mock cluster rebalances for the next member only once the one
    # that left has timed out (45 s by default): a short session.
    args = ['ord.a', '--group', 'g-ordered', '--ordered', '--until-end', '--reorder-ms',
            FOREVER_MS, '-X', 'session.timeout.ms=6000']
    p = tail(bootstrap, args + ['--max', '50'], 'group run 1')
    out1 = check_lines(parse_out(p.stdout, 'group 1'), ids, 'group 1')
    if [(r.seq, r.key or '') for r, _ in out1] != order_a[:50]:
        fail('group 1: did not print the 50 smallest')
    seq50 = out1[-1][0].seq
    printed = set(r.id for r, _ in out1)
    # what left the buffer: the 50 printed and the duplicates dropped before the 50th
    done = printed | set(r.id for r in recs if r.dup_of and r.seq < seq50 and not r.hb)
    end = {p: sum(1 for r in recs if r.part == p) for p in range(4)}
    want = {}
    for part in range(4):
        held = [r.offset for r in recs if r.part == part and r.id not in done]
        want[part] = min(held) if held else end[part]
    p = tail(bootstrap, args + ['--late', 'print'], 'group run 2')
    out2 = check_lines(parse_out(p.stdout, 'group 2'), ids, 'group 2')
    for part in range(4):
        offs = sorted(r.offset for r, _ in out2 if r.part == part)
        if offs != list(range(want[part], end[part])):
            fail('group 2: partition %d: read offsets %s..., expected %d to %d (the first record '
                 'run 1 held)' % (part, offs[:5], want[part], end[part] - 1))
    seen = printed | set(r.id for r, _ in out2) | done
    if seen != set(r.id for r in recs):
        fail('group: records neither printed nor dropped by either run')
    log('group: run 1 printed 50 and committed %s; run 2 resumed exactly there (%d records)' %
        (want, len(out2)))


def check_b(bootstrap, p0, recs):
    ids = by_id(recs)
    w = ['--ordered', '--until-end', '--reorder-window', '4', '--reorder-ms', FOREVER_MS]
    for keys, late_print in ((1000000, False), (1000000, True), (1, False), (2, True)):
        args = ['ord.b:0'] + w + ['--reorder-keys', str(keys)]
        if late_print:
            args += ['--late', 'print']
        what = 'b:0 keys %d%s' % (keys, ' late print' if late_print else '')
        p = tail(bootstrap, args, what)
        out = check_lines(parse_out(p.stdout, what), ids, what)
        summary = parse_summary(p.stderr, what)
        want, want_summary = model(p0, 4, keys, late_print)
        got = [(r.id, late) for r, late in out]
        if got != want or summary != want_summary:
            fail('%s: printed %s summary %r; the model prints %s summary %r' %
                 (what, got, summary, want, want_summary))
        if keys > 100:
            check_invariants(out, p0, summary, late_print, what)
        log('%s: %d lines and summary %r, as the model says' % (what, len(out), summary))

    A = key_of(100)
    a5 = next(r for r in p0 if r.key == A and r.seq == 5)
    a100 = [r for r in p0 if r.key == A and r.seq == 100][1]
    for late_print in (False, True):
        what = 'b whole%s' % (' late print' if late_print else '')
        p = tail(bootstrap, ['ord.b'] + w + (['--late', 'print'] if late_print else []), what)
        out = check_lines(parse_out(p.stdout, what), ids, what)
        summary = parse_summary(p.stderr, what)
        check_invariants(out, recs, summary, late_print, what)
        marked = set(r.id for r, late in out if late)
        printed = set(r.id for r, _ in out)
        if late_print and not {a5.id, a100.id} <= marked:
            fail('%s: A@5 and the second A@100 must be marked late' % what)
        if not late_print and (a5.id in printed or a100.id in printed):
            fail('%s: A@5 or the second A@100 printed' % what)
        if summary[1] < 1 or summary[2] < 1:
            fail('%s: summary %r counts no late record or no duplicate' % (what, summary))
        log('%s: %d lines over 4 partitions, window 4: invariants hold, summary %r' %
            (what, len(out), summary))


def check_c(bootstrap):
    """Release by time: phase 1 comes out while tail runs, then phase 2."""
    p1, p2 = phase_c()
    recs = p1 + p2
    ids = by_id(recs)
    produce(bootstrap, 'ord.c', p1)
    proc = subprocess.Popen([SLUICE, 'tail', '-b', bootstrap, 'ord.c', '--ordered',
                             '--reorder-ms', '300', '--idle-exit', '3000'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = []
    got1 = threading.Event()

    def read_out():
        for ln in proc.stdout:
            lines.append(ln)
            if len(lines) == len(p1):
                got1.set()

    th = threading.Thread(target=read_out, daemon=True)
    th.start()
    if not got1.wait(30):
        proc.kill()
        fail('c: phase 1 not printed by time: %d of %d lines' % (len(lines), len(p1)))
    if proc.poll() is not None:
        fail('c: tail exited (%d) before phase 1 came out by time' % proc.returncode)
    # produced with the offsets going on after phase 1
    counts = {p: sum(1 for r in p1 if r.part == p) for p in range(4)}
    produce(bootstrap, 'ord.c', p2)
    for r in p2:
        r.offset += counts.get(r.part, 0)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail('c: --idle-exit did not end tail')
    th.join(10)
    stderr = proc.stderr.read()  # stdout is the thread's
    if proc.returncode != 0:
        fail('c: exit %d: %s' % (proc.returncode, stderr.decode()[-2000:]))
    out = check_lines(parse_out(b''.join(lines), 'c'), ids, 'c')
    summary = parse_summary(stderr, 'c')
    check_invariants(out, recs, summary, False, 'c')
    want = [r.id for r in p1] + [r.id for r in p2[2:]]
    if sorted(r.id for r, _ in out) != sorted(want) or summary != (len(want), 1, 1):
        fail('c: printed %s, summary %r; expected %s and one late, one duplicate' %
             ([r.id for r, _ in out], summary, want))
    log('c: --reorder-ms 300: phase 1 out before any exit condition, then one late and one '
        'duplicate dropped; summary %r' % (summary,))


def check_errors(bootstrap):
    hb = Rec(0, None, None, hb=True)
    noseq = Rec(0, key_of(1), None)
    produce(bootstrap, 'ord.e1', [hb, noseq])
    p = tail(bootstrap, ['ord.e1', '--ordered', '--until-end'], 'e1', rc=1)
    err = p.stderr.decode()
    if 'ord.e1 [0] offset 1: no sequence header' not in err:
        fail('e1: the error does not name the record: %s' % err)
    out = check_lines(parse_out(p.stdout, 'e1'), by_id([hb, noseq]), 'e1')
    if [r.id for r, _ in out] != [hb.id]:
        fail('e1: expected only the heartbeat without a sequence printed')
    bad = Rec(0, key_of(1), '12x')
    produce(bootstrap, 'ord.e2', [bad])
    p = tail(bootstrap, ['ord.e2', '--ordered', '--until-end'], 'e2', rc=1)
    if "ord.e2 [0] offset 0: the sequence header '12x' is not a number" not in p.stderr.decode():
        fail('e2: the error does not name the record and value: %s' % p.stderr.decode())
    log('errors: no sequence and a bad one end tail (exit 1) naming topic, partition, offset; '
        'a heartbeat without one passes')

    cases = [
        (['--ordered', '--reorder-window', '0'], '--reorder-window', '1 to 10000000'),
        (['--ordered', '--reorder-window', '10000001'], '--reorder-window', '1 to 10000000'),
        (['--ordered', '--reorder-ms', '0'], '--reorder-ms', '1 to 86400000'),
        (['--ordered', '--reorder-keys', '0'], '--reorder-keys', '1 to 100000000'),
        (['--ordered', '--reorder-bytes', '100'], '--reorder-bytes', '1K to 1024G'),
        (['--ordered', '--reorder-bytes', '2T'], '--reorder-bytes', '1K to 1024G'),
        (['--ordered', '--late', 'keep'], '--late', 'drop or print'),
        (['--reorder-window', '5'], '--reorder-window', 'only with --ordered'),
    ]
    for args, opt, allowed in cases:
        p = tail(bootstrap, ['ord.a'] + args, 'usage %s' % ' '.join(args), rc=2)
        err = p.stderr.decode()
        if opt not in err or allowed not in err:
            fail('usage %s: the message must name %s and %r: %s' % (args, opt, allowed, err))
    log('usage: %d invalid values exit 2 naming the option and the range' % len(cases))


def main():
    rng = random.Random(SEED)
    broker = lk.Broker(['ord.a:4', 'ord.b:4', 'ord.c:4', 'ord.e1:1', 'ord.e2:1'])
    try:
        recs_a = data_a(rng)
        p0, recs_b = data_b(rng)
        produce(broker.bootstrap, 'ord.a', recs_a)
        produce(broker.bootstrap, 'ord.b', recs_b)
        check_errors(broker.bootstrap)
        check_a(broker.bootstrap, recs_a)
        check_b(broker.bootstrap, p0, recs_b)
        check_c(broker.bootstrap)
    finally:
        broker.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
