#!/usr/bin/env python3
"""live_merge.py: `sluice merge` under fire, checked from the tables' files.

Run by tests/live_merge.sh, which starts a throwaway MariaDB and exports
MDB_SOCK, MDB_PORT, MDB_DATADIR, BUILD and LIVE_DIR.

The pipeline: a seeded random workload (tests/lib/workload.py: inserts,
updates, deletes, primary-key changes, NULLs, multi-table transactions,
rollbacks) on five tables covering the common column types (signed and
unsigned integers, DECIMAL, FLOAT/DOUBLE, BIT, DATE/DATETIME/TIMESTAMP/TIME
with fractions, YEAR, CHAR/VARCHAR/TEXT in utf8mb4 and latin1, BINARY/BLOB,
ENUM/SET, JSON; composite primary keys), `sluice run` into the local broker
(one topic of 3 partitions per table, heartbeats every second), and, in
rounds while the workload runs, build/kafka-shuffle copying each topic into
a 4-partition topic (random partitions, reordered within a window, 7%
duplicates). Each round copies the whole topic again, so most records
arrive several times.

Three mergers consume the shuffled topics, each its own --path:
  mor   --kind mor --buckets 4
  hive  --kind hive --partition-by ev (t_ev's DATETIME(6); other tables go
        to the default partition), JSON lines
  text  --kind hive --format text (partitioned by commit time)
with small batches and a short maintenance interval, so that compactions,
cleaning and checkpoints happen during the run (`sluice table compact`
also runs on some tables while they merge). They are SIGKILLed (KILLS in
all) once they have their partitions: soon after, later, the moment one of
their tables has an instant in flight, or the moment an instant is
completed but its markers are not yet removed; each is started again, each
run in a consumer group of its own (offsets live in the tables; a fresh
group skips the mock broker's wait for the dead member's session).

Meanwhile a reader reads every table straight from its files
(tests/lib/mergeread.py, not sluice) as often as it can, and checks each
time: every visible file decompresses and parses to its last line (and
holds the rows its instant says); no key twice in a Hive partition, and no
key in two Hive partitions at once (a copy of higher sequence read before a
copy of lower sequence proves both were there together); per key, the
sequence never goes below what an earlier read showed, and in
merge-on-read tables (which keep tombstones) no key ever disappears; no
file of a pending instant is visible. Now and then `sluice table read`
must agree with those floors.

At the end, every merger runs to the end of its topics (--idle-exit); at
rest no timeline may hold a pending instant (checked last, after all the
others: markers a killed writer left behind are taken for a pending
instant once a checkpoint folds the completed one, and rolled back with
its files). For each table of each kind:
  - the direct read equals the state of the ORIGINAL topic applied in
    offset order per partition (per Kafka key the last record; -U/-D
    delete): key, sequence, commit time, db, table and every column's JSON
    text byte for byte (for text tables, the value as Hive text renders it);
    Hive rows sit in the partition of their column / commit time, and the
    key index agrees with the data
  - `sluice table verify --source` says the table equals the source table
  - `sluice table read` prints the same rows as the direct read, no key twice
Then every merger consumes again from offset 0 (--from-beginning), and
`sluice table compact` runs on every table: the merged views (direct and
`sluice table read`, sorted) stay byte-identical.

Idle partition: t_idle gets a few rows whose DATETIME column lies ~2 hours
back, then nothing. A Hive merger on its (unshuffled) topic has a
--success-delay so that the watermark of the data (their commit time)
cannot pass the partition's end plus the delay, but heartbeats sent
IDLE_MARGIN seconds later can: no _SUCCESS once the rows are visible,
_SUCCESS after that, from heartbeats alone.

Negative checks: the comparison must report a value changed in a copy of
a view, and a copy of a merge-on-read table with one row changed by a
hand-made deltacommit must differ, for the direct read, for `sluice table
read` and for `sluice table verify`.

SEED=n replays a workload; LIVE_MERGE_SECONDS sets the workload's length;
SANITIZE=1 (make SANITIZE=1) paces everything slower.
"""

import ctypes
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import mergeread as mr  # noqa: E402
from workload import Client, Col, Q, TYPES, Table, TestFailure, Workload, fail, qi  # noqa: E402

SOCK = os.environ.get('MDB_SOCK', '')
PORT = os.environ.get('MDB_PORT', '')
WORK = os.environ.get('LIVE_DIR', '')
BUILD = os.environ.get('BUILD', 'build')
SLUICE = os.path.abspath(os.path.join(BUILD, 'sluice'))
BROKER = os.path.abspath(os.path.join(BUILD, 'sluice-broker'))
SHUFFLE = os.path.abspath(os.path.join(BUILD, 'kafka-shuffle'))
SANITIZE = os.environ.get('SANITIZE') == '1'
SLOW = 2.0 if SANITIZE else 1.0
DB = 'lm'
WORK_SECONDS = float(os.environ.get('LIVE_MERGE_SECONDS') or 15)
PACE = 0.03 * SLOW                      # seconds per workload step
ROUND_SECONDS = 5.0                     # shuffle rounds while the workload runs
KILLS = 21                              # SIGKILLs of the mergers, at least
JOIN_SECONDS = 3.0 * (1.5 if SANITIZE else 1)   # a new group's first assignment
IDLE_MARGIN = 25.0 if SANITIZE else 15.0        # heartbeat lead over the data
IDLE_EXIT_MS = 2000
TABLES = ['t_num', 't_time', 't_text', 't_bin', 't_ev']
KINDS = {
    'mor': ['--kind', 'mor', '--buckets', '4', '--batch-rows', '150'],
    'hive': ['--kind', 'hive', '--partition-by', 'ev', '--granularity', 'hour',
             '--success-delay', '60000', '--batch-rows', '200'],
    'text': ['--kind', 'hive', '--format', 'text', '--batch-rows', '200'],
}
COMMON = ['--commit-interval', '300', '--maintain-interval', '1000', '--compact-files', '3',
          '--clean-retain', '2000']

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    # PR_SET_PDEATHSIG: a merger must not outlive the test (the shell's
    # cleanup only knows `sluice run`). It fires when the thread that
    # started the process ends, so every thread stops its own children.
    _libc.prctl(1, signal.SIGKILL)


def log(msg):
    print(msg, flush=True)


def topic(t):
    return '%s.%s' % (DB, t)


def shuffled(t):
    return '%s.%s.sh' % (DB, t)


# ---------------------------------------------------------------- broker

class Broker:
    def __init__(self, topics):
        self.err = open(os.path.join(WORK, 'broker.log'), 'wb')
        args = [BROKER, '--brokers', '1']
        for t in topics:
            args += ['--topic', t]
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, preexec_fn=_die_with_parent)
        first = self.p.stdout.readline().decode().strip()
        if not first.startswith('bootstrap.servers='):
            fail('sluice-broker said %r' % first)
        self.bootstrap = first.split('=', 1)[1]

    def stop(self):
        self.p.terminate()
        self.p.wait(10)
        self.err.close()


# -------------------------------------------------------------- mergers

class Merger:
    """One `sluice merge` of topics into self.path; runs numbered, each with
    its own log file and consumer group."""

    def __init__(self, name, path, topics, extra, bootstrap):
        self.name, self.path, self.topics, self.extra = name, path, topics, extra
        self.bootstrap = bootstrap
        self.proc = None
        self.runs = self.kills = self.kills_assigned = self.kills_pending = 0
        self.logdir = os.path.join(WORK, 'logs')
        os.makedirs(self.logdir, exist_ok=True)
        self.log = None

    def start(self, more=()):
        self.runs += 1
        self.log = os.path.join(self.logdir, '%s.%d.log' % (self.name, self.runs))
        args = [SLUICE, 'merge', '-b', self.bootstrap, '--group',
                'lm-%s-%d' % (self.name, self.runs), '--path', self.path]
        for t in self.topics:
            args += ['--topic', t]
        args += self.extra + list(more)
        with open(self.log, 'wb') as lf:
            lf.write(('# %s\n' % ' '.join(args)).encode())
            lf.flush()
            self.proc = subprocess.Popen(args, stdout=lf, stderr=lf, preexec_fn=_die_with_parent,
                                         env=dict(os.environ, SLUICE_LOG='info'))
        self.started = time.time()
        self.is_assigned = False

    def tail(self, n=25):
        try:
            with open(self.log, 'rb') as f:
                return b''.join(f.readlines()[-n:]).decode('utf-8', 'replace')
        except OSError:
            return ''

    def check(self):
        if self.proc and self.proc.poll() is not None:
            fail('merger %s (run %d) exited by itself, status %d:\n%s' % (
                self.name, self.runs, self.proc.returncode, self.tail()))

    def assigned(self):
        if not self.is_assigned:
            with open(self.log, 'rb') as f:
                self.is_assigned = b': assigned, from ' in f.read()
        return self.is_assigned

    def pending(self, completing=False):
        """True when one of its tables has an instant in flight (with
        completing: one that is completed, its markers not yet removed)."""
        for t in self.topics:
            try:
                names = os.listdir(os.path.join(self.path, t, '.sluice', 'timeline'))
            except FileNotFoundError:
                continue
            fl = [n[:-len('.inflight')] for n in names if n.endswith('.inflight')]
            if fl and (not completing or set(fl) & set(names)):
                return True
        return False

    def kill(self, pending=False):
        self.check()
        assigned = self.assigned()
        self.proc.kill()
        self.proc.wait(30)
        self.kills += 1
        self.kills_assigned += assigned
        self.kills_pending += pending
        self.proc = None

    def stop(self):
        """SIGTERM: commits what it has and exits 0."""
        if not self.proc:
            return
        self.check()
        # A SIGTERM before the merger has installed its handler kills it
        # (-15): that is the signal's default, not the merger's answer.
        # Its first log line comes after the handler is in place.
        deadline = time.time() + 30 * SLOW
        while True:
            with open(self.log, 'rb') as f:
                if b'merging ' in f.read():
                    break
            self.check()
            if time.time() > deadline:
                fail('merger %s: not started in %.0f s:\n%s' % (self.name, 30 * SLOW,
                                                                self.tail()))
            time.sleep(0.02)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60 * SLOW)
        except subprocess.TimeoutExpired:
            fail('merger %s: SIGTERM did not stop it in %.0f s:\n%s' % (
                self.name, 60 * SLOW, self.tail()))
        if rc != 0:
            fail('merger %s: exit %d after SIGTERM:\n%s' % (self.name, rc, self.tail()))
        self.proc = None

    def run_to_end(self, more=()):
        self.start(['--idle-exit', str(IDLE_EXIT_MS)] + list(more))
        try:
            rc = self.proc.wait(180 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail('merger %s: --idle-exit run did not end in %.0f s:\n%s' % (
                self.name, 180 * SLOW, self.tail()))
        if rc != 0:
            fail('merger %s: --idle-exit run exited %d:\n%s' % (self.name, rc, self.tail()))
        self.proc = None

    def heartbeats(self):
        """The heartbeats the runs counted (their last stats lines)."""
        n = 0
        for f in os.listdir(self.logdir):
            if f.startswith(self.name + '.'):
                with open(os.path.join(self.logdir, f), 'rb') as fh:
                    hb = [int(ln.split(b' heartbeats')[0].split()[-1])
                          for ln in fh.read().splitlines() if b' heartbeats,' in ln]
                n += max(hb or [0])
        return n

    def logs_count(self, needle):
        n = 0
        for f in os.listdir(self.logdir):
            if f.startswith(self.name + '.'):
                with open(os.path.join(self.logdir, f), 'rb') as fh:
                    n += fh.read().count(needle)
        return n


def run_all_to_end(mergers, more=()):
    """Every merger to the end, in parallel (each in its own thread)."""
    errs = []

    def one(m):
        try:
            m.run_to_end(more)
        except BaseException as e:
            errs.append(e)
    ts = [threading.Thread(target=one, args=(m,)) for m in mergers]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]


# --------------------------------------------------------- the pipeline

def pipeline_config(bootstrap):
    d = os.path.join(WORK, 'run')
    os.makedirs(d)
    cfg = os.path.join(d, 'sluice.yaml')
    with open(cfg, 'w') as f:
        f.write('''source:
  type: mariadb
  name: lm
  hostname: 127.0.0.1
  port: %s
  username: cdc
  password-file: %s
  server-id: 5601
  scan.startup.mode: earliest-offset
  heartbeat.interval: 1s
  connect.backoff.max: 1s
sink:
  type: kafka
  bootstrap.servers: %s
  delivery: at-least-once
  heartbeat.interval: 1s
  linger: 2ms
route:
  - database: %s
    table: .*
    topic: %s.${table}
pipeline:
  name: lm
  state-dir: %s
  checkpoint.interval: 200ms
''' % (PORT, os.path.join(WORK, 'pw'), bootstrap, DB, DB, os.path.join(d, 'state')))
    return cfg, os.path.join(d, 'state', 'lm.offsets.json'), os.path.join(d, 'sluice.log')


def seq_stored(state):
    try:
        with open(state) as f:
            return int(json.load(f)['seq_last'])
    except (OSError, ValueError, KeyError):
        return 0


def tail_topic(bootstrap, t):
    """[(partition, offset, key, headers, raw value text)] of a whole topic."""
    p = subprocess.run([SLUICE, 'tail', '-b', bootstrap, '--until-end', t],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        fail('sluice tail %s: exit %d: %s' % (t, p.returncode, p.stderr.decode()[-2000:]))
    out = []
    for line in p.stdout.splitlines():
        k = line.find(b',"value":')
        head = json.loads(line[:k] + b'}')
        out.append((head['partition'], head['offset'], head['key'], head['headers'],
                    line[k + len(b',"value":'):-1].decode('utf-8')))
    return out


def first_offsets(bootstrap, t):
    """partition -> (lowest offset, records) of a whole topic."""
    p = subprocess.run([SLUICE, 'tail', '-b', bootstrap, '--until-end', t],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        fail('sluice tail %s: exit %d: %s' % (t, p.returncode, p.stderr.decode()[-2000:]))
    res = {}
    for line in p.stdout.splitlines():
        k = line.find(b',"value":')
        head = json.loads(line[:k] + b'}')
        lo, n = res.get(head['partition'], (head['offset'], 0))
        res[head['partition']] = (min(lo, head['offset']), n + 1)
    return res


# --------------------------------------------------------- the workload

def ev_gen(rng):
    """Event time: the last 36 hours, microseconds (UTC, as the merger
    reads a DATETIME)."""
    t = time.time() - rng.uniform(0, 36 * 3600)
    return Q(datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
             .strftime('%Y-%m-%d %H:%M:%S.%f'))


def tables():
    def cols(*keys):
        return [Col(k, k) for k in keys]
    TYPES['evtime'] = ('DATETIME(6)', ev_gen)
    return [
        Table('t_num', cols('tinyint', 'utinyint', 'smallint', 'usmallint', 'int', 'uint', 'bigint',
                            'ubigint', 'bool', 'dec52', 'dec189', 'udec124', 'float', 'double',
                            'bit1', 'bit13', 'bit64')),
        Table('t_time', cols('date', 'datetime', 'datetime3', 'datetime6', 'timestamp',
                             'timestamp2', 'timestamp6', 'time', 'time6', 'year'),
              pk=('k', 'id'), options='DEFAULT CHARSET=utf8mb4'),
        Table('t_text', cols('char', 'varchar', 'varchar_bin', 'tinytext', 'text', 'char_l',
                             'varchar_l', 'enum', 'set', 'json'),
              pk=('k', 'id'), options='DEFAULT CHARSET=utf8mb4'),
        Table('t_bin', cols('binary', 'varbinary', 'tinyblob', 'blob', 'mediumint', 'umediumint'),
              id_type='BIGINT UNSIGNED NOT NULL'),
        Table('t_ev', [Col('ev', 'evtime'), Col('amount', 'dec189'), Col('qty', 'usmallint'),
                       Col('note', 'varchar'), Col('status', 'enum'), Col('payload', 'json'),
                       Col('paid', 'timestamp6')], id_type='BIGINT NOT NULL'),
    ]


# -------------------------------------------------------------- reading

class Reader:
    """Reads every table from its files in a loop (a thread) and checks the
    invariants a reader relies on; counts what it saw."""

    def __init__(self, dirs):
        self.dirs = dirs            # [(kind, table, dir)]
        self.caches = {d: mr.FileCache() for _, _, d in dirs}
        self.floor = {d: {} for _, _, d in dirs}
        self.reads = self.passes = self.retries = self.sluice_reads = self.sluice_retries = 0
        self.files_parsed = 0
        self.instants = {}          # action -> set of instant names seen
        self.successes = set()
        self.replaced = set()       # files replaced by a compaction
        self.cleaned = set()        # ... and since removed by cleaning
        self.skew_dups = 0          # a key in two partitions, explained by read order
        self.together = []          # a key in two partitions at one moment
        self.stop = threading.Event()
        self.error = None
        self.lock = threading.Lock()
        self.rng = random.Random(7)

    # one table

    def read_table(self, kind, d):
        if not os.path.exists(os.path.join(d, '.sluice', 'table.json')):
            return None
        cache = self.caches[d]
        cache.begin()
        misses = cache.misses
        try:
            if kind == 'mor':
                tl, files = mr.mor_read(d, cache)
                self.check_pending(d, tl, files.keys())
                view = mr.merged(files)
                self.check_floor_mor(d, view)
            else:
                view = self.read_hive(kind, d)
        except mr.Gone:
            self.retries += 1
            raise
        cache.end()
        self.files_parsed += cache.misses - misses
        self.reads += 1
        return view

    def note_instants(self, tl):
        for n, m in tl.completed.items():
            self.instants.setdefault(n.split('.')[1], set()).add(n)
            for r in m.get('replaced') or []:
                self.replaced.add((tl.dir, r))
        for d, r in self.replaced - self.cleaned:
            if d == tl.dir and not os.path.exists(os.path.join(d, r)):
                self.cleaned.add((d, r))

    def check_pending(self, d, tl, visible):
        self.note_instants(tl)
        for name, meta in tl.open_pending.items():
            for f in (meta or {}).get('files') or []:
                if f.get('path') in visible:
                    fail('%s: file %s of pending instant %s (no completed %s, not superseded '
                         'by checkpoint %s) is visible' % (d, f['path'], name, name,
                                                           tl.latest_cp))

    def check_floor_mor(self, d, view):
        fl = self.floor[d]
        gone = fl.keys() - view.keys()
        if gone:
            k = sorted(gone)[0]
            fail('%s: %d key(s) disappeared from the merge-on-read table (which keeps '
                 'tombstones), e.g. %s, last seen at sequence %d' % (d, len(gone), k, fl[k]))
        for k, (seq, op, line) in view.items():
            old = fl.get(k)
            if old is not None and seq < old:
                fail('%s: key %s went back from sequence %d to %d: a commit was rolled back '
                     'or lost' % (d, k, old, seq))
            fl[k] = seq

    def read_hive(self, kind, d):
        parts = mr.hive_read(d, self.caches[d])
        where = {}
        for idx, (p, success, files) in enumerate(parts):
            if success:
                self.successes.add((d, p))
            seen = {}
            for fname, rows in files:
                for key, seq, op, line in rows:
                    if key in seen:
                        fail('%s/%s: key %s twice in the partition (%s, sequences %d and %d)' % (
                            d, p, key, fname, seen[key], seq))
                    seen[key] = seq
                    where.setdefault(key, []).append((idx, seq, p, line))
        view = {}
        fl = self.floor[d]
        for key, copies in where.items():
            if len(copies) > 1:
                # Partitions are read one after the other: a copy of lower
                # sequence read after one of higher sequence was there
                # while the higher one was (nothing removes a newer copy).
                hi_first = any(a[1] > b[1] for i, a in enumerate(copies) for b in copies[i + 1:])
                if hi_first:
                    self.together.append((d, key, [(c[2], c[1]) for c in copies]))
                else:
                    self.skew_dups += 1
            best = max(copies, key=lambda c: c[1])
            old = fl.get(key)
            if old is not None and best[1] < old:
                fail('%s: key %s went back from sequence %d to %d (%s): a commit was rolled '
                     'back or lost' % (d, key, old, best[1], best[2]))
            fl[key] = best[1]
            view[key] = (best[1], best[2], best[3])
        # No part file of a pending instant may be in a partition.
        tl = mr.Timeline(d)
        self.note_instants(tl)
        pend = {n.split('.')[0]: n for n in tl.open_pending}
        for p, success, files in parts:
            for fname, rows in files:
                iid = fname[len('part-'):].split('.')[0]
                if iid in pend:
                    fail('%s/%s/%s: a file of pending instant %s is visible' % (
                        d, p, fname, pend[iid]))
        self.check_pending(d, tl, tl.visible.keys())
        return view

    def sluice_read(self, kind, d):
        """`sluice table read`: every key at most once, none below the
        floors the direct reads had set before it started."""
        floor = dict(self.floor[d])
        for attempt in range(5):
            p = subprocess.run([SLUICE, 'table', 'read', d], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120 * SLOW)
            if p.returncode == 0:
                break
            err = p.stderr.decode('utf-8', 'replace')
            if 'read again' not in err:
                fail('sluice table read %s: exit %d: %s' % (d, p.returncode, err[-1500:]))
            self.sluice_retries += 1
        else:
            fail('sluice table read %s: still failing after 5 tries: %s' % (d, err[-1500:]))
        keys = {}
        for line in p.stdout.splitlines():
            o = json.loads(line)
            k, s = o['_sluice_key'], int(o['_sluice_seq'])
            if k in keys and kind == 'mor':
                fail('sluice table read %s: key %s twice' % (d, k))
            keys[k] = max(s, keys.get(k, 0))
        for k, s in keys.items():
            if k in floor and s < floor[k]:
                fail('sluice table read %s: key %s at sequence %d, a direct read before had %d' % (
                    d, k, s, floor[k]))
        self.sluice_reads += 1

    # the loop

    def one_pass(self):
        for kind, t, d in self.dirs:
            for attempt in range(5):
                try:
                    self.read_table(kind, d)
                    break
                except mr.Gone as e:
                    last = e
            else:
                fail('%s: %s' % (d, last))
        self.passes += 1
        if self.passes % 3 == 0:
            kind, t, d = self.rng.choice(self.dirs)
            if os.path.exists(os.path.join(d, '.sluice', 'table.json')):
                self.sluice_read(kind, d)

    def loop(self):
        try:
            while not self.stop.is_set():
                self.one_pass()
                time.sleep(0.02)
        except BaseException as e:
            self.error = e
            self.trace = traceback.format_exc()


# ----------------------------------------------------------- the views

def expected_state(recs, what):
    """The original topic applied in offset order per partition, keyed by
    the Kafka key: {key: (seq, op, ts_ms, db, table, [(col, raw)])} for
    the keys whose last record is +I or +U, and counts."""
    last = {}
    first = {}
    data = beats = 0
    for part, off, key, h, raw in sorted(recs, key=lambda r: (r[0], r[1])):
        first[part] = min(first.get(part, off), off)
        if h.get('type') == 'heartbeat':
            beats += 1
            continue
        data += 1
        seq = int(h['sequence'])
        old = last.get(key)
        if old is not None and old[0] > seq:
            fail('%s: key %s: offset order and sequence order disagree (%d after %d)' % (
                what, key, seq, old[0]))
        last[key] = (seq, raw)
    late = {p: o for p, o in first.items() if o != 0}
    if late:
        fail('%s: partitions %s no longer start at offset 0: the broker dropped records' % (
            what, late))
    state = {}
    for key, (seq, raw) in last.items():
        ms = dict(mr.raw_members(raw))
        op = json.loads(ms['op'])
        if op in ('-U', '-D'):
            continue
        state[key] = (seq, op, int(ms['ts_ms']), json.loads(ms['db']), json.loads(ms['table']),
                      mr.raw_members(ms['data']))
    return state, data, beats


def direct_view(kind, d):
    """The table read from its files at rest: {key: (seq, op, ts_ms, db,
    table, [(col, raw or text)], partition or None, line)} of live rows."""
    cache = mr.FileCache()
    out = {}
    if kind == 'mor':
        tl, files = mr.mor_read(d, cache)
        for key, (seq, op, line) in mr.merged(files).items():
            if op in ('-U', '-D'):
                continue
            k, s, o, ts, db, tb, cols = mr.stored_row(line.decode('utf-8'))
            out[key] = (s, o, ts, db, tb, cols, None, line)
        return out
    parts = mr.hive_read(d, cache)
    colnames = mr.columns(d)
    for p, success, files in parts:
        for fname, rows in files:
            for key, seq, op, line in rows:
                if key in out:
                    fail('%s: key %s in %s and in %s' % (d, key, out[key][6], p))
                if kind == 'text':
                    f = mr.text_fields(line)
                    cols = list(zip(colnames, f[5:]))
                    out[key] = (int(f[1]), '+U', int(f[2]), f[3], f[4], cols, p, line)
                else:
                    k, s, o, ts, db, tb, cols = mr.stored_row(line.decode('utf-8'))
                    out[key] = (s, o, ts, db, tb, cols, p, line)
    return out


def part_of(kind, row):
    """The Hive partition a row belongs in, as the merger names it."""
    seq, op, ts, db, tb, cols = row[:6]
    if kind == 'hive':
        v = dict(cols).get('ev')
        if v is None or v == 'null':
            return 'dt=__HIVE_DEFAULT_PARTITION__/hr=__HIVE_DEFAULT_PARTITION__'
        s = json.loads(v)
        return 'dt=%s/hr=%s' % (s[:10], s[11:13])
    t = datetime.datetime.fromtimestamp(ts / 1000, datetime.timezone.utc)
    return t.strftime('dt=%Y-%m-%d/hr=%H')


def compare(kind, what, want, got, colnames=None):
    """Differences between the expected state and a view (a list of
    strings, empty when equal)."""
    diffs = []
    for key in sorted(want.keys() - got.keys())[:3]:
        diffs.append('%s: key %s (sequence %d) missing' % (what, key, want[key][0]))
    for key in sorted(got.keys() - want.keys())[:3]:
        diffs.append('%s: key %s (sequence %d) should not be there' % (what, key, got[key][0]))
    nmiss = len(want.keys() ^ got.keys())
    nbad = 0
    for key in sorted(want.keys() & got.keys()):
        w, g = want[key], got[key]
        if kind == 'text':
            wc = dict(w[5])
            wcols = [(c, mr.text_value(wc[c]) if c in wc else None) for c in colnames]
            wv = (w[0], w[2], w[3], w[4], wcols)
            gv = (g[0], g[2], g[3], g[4], g[5])
        else:
            wv = (w[0], w[1], w[2], w[3], w[4], w[5])
            gv = (g[0], g[1], g[2], g[3], g[4], g[5])
        if wv != gv:
            nbad += 1
            if nbad <= 3:
                diffs.append('%s: key %s differs:\n    topic: %s\n    table: %s' % (
                    what, key, str(wv)[:600], str(gv)[:600]))
        if kind != 'mor' and g[6] != part_of(kind, w):
            nbad += 1
            diffs.append('%s: key %s in partition %s, its partition is %s' % (
                what, key, g[6], part_of(kind, w)))
    if nmiss + nbad > 6:
        diffs.append('%s: %d keys missing or extra, %d rows differ in all' % (what, nmiss, nbad))
    return diffs


def sluice_read_rows(d):
    p = subprocess.run([SLUICE, 'table', 'read', d], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        fail('sluice table read %s: exit %d: %s' % (d, p.returncode, p.stderr.decode()[-1500:]))
    return p.stdout.splitlines()


def as_read_json(kind, row):
    """A direct-read row as `sluice table read` prints it, parsed."""
    if kind != 'text':
        return json.loads(row[7], object_pairs_hook=list)
    f = mr.text_fields(row[7])
    out = [['_sluice_key', f[0]], ['_sluice_seq', int(f[1])], ['_sluice_op', '+U'],
           ['_sluice_ts_ms', int(f[2])], ['_sluice_db', f[3]], ['_sluice_table', f[4]]]
    return out + [[c, v] for c, v in row[5]]


def check_sluice_read(kind, d, view):
    """`sluice table read` prints the rows of the direct read, once each."""
    lines = sluice_read_rows(d)
    got = {}
    for ln in lines:
        o = json.loads(ln, object_pairs_hook=list)
        if o[0][0] != '_sluice_key':
            fail('sluice table read %s: a line without _sluice_key first: %r' % (d, ln[:200]))
        if o[0][1] in got:
            fail('sluice table read %s: key %s twice' % (d, o[0][1]))
        got[o[0][1]] = (ln, o)
    if got.keys() != view.keys():
        fail('sluice table read %s: %d rows, the files hold %d; e.g. only in sluice: %s, only '
             'in the files: %s' % (d, len(got), len(view), sorted(got.keys() - view.keys())[:2],
                                   sorted(view.keys() - got.keys())[:2]))
    for key, row in view.items():
        ln, o = got[key]
        if kind != 'text':
            if ln != row[7]:
                fail('sluice table read %s: key %s:\n  sluice: %r\n  files:  %r' % (
                    d, key, ln[:400], row[7][:400]))
        else:
            mine = [list(x) for x in as_read_json(kind, row)]
            if [list(x) for x in o] != mine:
                fail('sluice table read %s: key %s:\n  sluice: %r\n  files:  %r' % (
                    d, key, o, mine))
    return sorted(lines)


def rendered(kind, view):
    """The merged view as bytes: sorted lines (with the partition)."""
    out = []
    for key, row in view.items():
        out.append((row[6] or '').encode() + b'\t' + row[7])
    return b'\n'.join(sorted(out))


def verify(d, home, expect_ok=True):
    p = subprocess.run([SLUICE, 'table', 'verify', d, '--source', 'lm', '--home', home],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    out = (p.stdout + p.stderr).decode('utf-8', 'replace')
    if expect_ok and p.returncode != 0:
        fail('sluice table verify %s: exit %d:\n%s' % (d, p.returncode, out[-3000:]))
    return p.returncode, out


def fnv1a(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


# ------------------------------------------------------------------ main

def main():
    if not (SOCK and PORT and WORK):
        print('MDB_SOCK, MDB_PORT and LIVE_DIR must be set (run tests/live_merge.sh)')
        return 2
    t_start = time.time()
    seed = int(os.environ.get('SEED') or random.SystemRandom().randrange(1, 1 << 31))
    log('seed %d (replay: SEED=%d make test T=live_merge)%s' % (
        seed, seed, ' [SANITIZE: slower pace]' if SANITIZE else ''))
    rng = random.Random(seed)
    root = Client(SOCK)
    root.run("CREATE USER cdc@'%' IDENTIFIED BY 'cdc-pw'; GRANT REPLICATION SLAVE, "
             "BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO cdc@'%'")
    with open(os.path.join(WORK, 'pw'), 'w') as f:
        f.write('cdc-pw\n')
    os.chmod(os.path.join(WORK, 'pw'), 0o600)
    home = os.path.join(WORK, 'home')
    p = subprocess.run([SLUICE, 'source', 'add', 'lm', '--host', '127.0.0.1', '--port', PORT,
                        '--user', 'cdc', '--password-file', os.path.join(WORK, 'pw'),
                        '--server-id', '5699', '--home', home],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        fail('sluice source add: exit %d: %s' % (p.returncode, p.stdout.decode()[-2000:]))

    wc = Client(SOCK)
    wl = Workload(wc, DB, seed, big_every=10 ** 9, ddl_every=10 ** 9)
    wc.run('CREATE DATABASE %s; USE %s' % (qi(DB), qi(DB)))
    wc.run("SET SESSION time_zone = '+03:00'")
    for t in tables():
        wl.ddl(t.create_sql())
        wl.tables.append(t)
    wc.run('CREATE TABLE t_idle (id INT PRIMARY KEY, ev DATETIME NOT NULL, note VARCHAR(40)); '
           'CREATE TABLE t_mark (id INT PRIMARY KEY, at BIGINT)')

    topics = ['%s:3' % topic(t) for t in TABLES] + ['%s:4' % shuffled(t) for t in TABLES]
    topics += ['%s:2' % topic('t_idle'), '%s:1' % topic('t_mark')]
    broker = Broker(topics)
    B = broker.bootstrap
    cfg, state, runlog = pipeline_config(B)
    mergers = [Merger(k, os.path.join(WORK, k), [shuffled(t) for t in TABLES], v + COMMON, B)
               for k, v in KINDS.items()]
    dirs = [(m.name, t, os.path.join(m.path, shuffled(t))) for m in mergers for t in TABLES]
    reader = Reader(dirs)
    threads, errors = [], []
    run_proc = idle_m = None
    shuffles = []           # (round, table, records, duplicates)
    stop_kill = threading.Event()

    def guarded(fn):
        def wrap():
            try:
                fn()
            except BaseException as e:
                errors.append((e, traceback.format_exc()))
        return wrap

    try:
        with open(runlog, 'ab') as lf:
            run_proc = subprocess.Popen([SLUICE, 'run', '-c', cfg], stdout=lf, stderr=lf,
                                        preexec_fn=_die_with_parent,
                                        env=dict(os.environ, SLUICE_LOG='info'))
        with open(os.path.join(WORK, 'sluice.pids'), 'a') as f:
            f.write('%d\n' % run_proc.pid)

        # -- the idle table: rows ~2 hours back, then nothing
        now = time.time()
        part_lo = int((now - 7200) // 3600 * 3600)
        part_end = part_lo + 3600
        rows = ', '.join("(%d, '%s', 'idle %d')" % (
            i, datetime.datetime.fromtimestamp(part_lo + 600 + 300 * i, datetime.timezone.utc)
            .strftime('%Y-%m-%d %H:%M:%S'), i) for i in range(1, 5))
        root.run('INSERT INTO %s.t_idle VALUES %s' % (DB, rows))
        t_ins = time.time()
        delay_ms = int((t_ins - part_end + IDLE_MARGIN) * 1000)
        idle_part = datetime.datetime.fromtimestamp(part_lo, datetime.timezone.utc).strftime(
            'dt=%Y-%m-%d/hr=%H')
        idle_m = Merger('idle', os.path.join(WORK, 'idle'), [topic('t_idle')],
                        ['--kind', 'hive', '--partition-by', 'ev', '--granularity', 'hour',
                         '--success-delay', str(delay_ms), '--commit-interval', '300'], B)
        idle_m.start()
        idle_dir = os.path.join(WORK, 'idle', topic('t_idle'))
        idle = {'visible': None, 'success': None, 'success_at_visible': None}

        def idle_watch():
            cache = mr.FileCache()
            while not stop_kill.is_set() or idle['success'] is None:
                if os.path.exists(os.path.join(idle_dir, '.sluice', 'table.json')):
                    parts = mr.hive_read(idle_dir, cache)
                    n = sum(len(r) for p, s, fs in parts for _, r in fs)
                    succ = [p for p, s, fs in parts if s]
                    if n == 4 and idle['visible'] is None:
                        idle['visible'] = time.time()
                        idle['success_at_visible'] = succ
                    if succ and idle['success'] is None:
                        idle['success'] = time.time()
                        idle['success_parts'] = succ
                        if idle['visible'] is None:
                            fail('idle table: _SUCCESS (%s) before its rows were visible' % succ)
                if stop_kill.is_set() and time.time() - t_ins > 4 * IDLE_MARGIN + 60:
                    break
                time.sleep(0.1)

        # -- the mergers, the reader, the killer
        for m in mergers:
            m.start()

        def killer():
            """Each run is killed once it has its partitions: soon after
            (while it catches up), later, or the moment one of its tables
            has a pending instant (mid-commit, mid-compaction)."""
            due = {m.name: None for m in mergers}
            mode = {}
            try:
                while not (stop_kill.is_set() and sum(m.kills for m in mergers) >= KILLS):
                    busy = False
                    for m in mergers:
                        m.check()
                        now = time.time()
                        if due[m.name] is None:
                            if m.assigned() or now - m.started > 20 * SLOW:
                                mode[m.name] = rng.choice(['pending', 'pending', 'completing',
                                                           'early', 'late'])
                                due[m.name] = now + (rng.uniform(0, 0.6) if mode[m.name] == 'early'
                                                     else rng.uniform(0.6, 3.0))
                            continue
                        pending = (mode[m.name] in ('pending', 'completing') and
                                   m.pending(mode[m.name] == 'completing'))
                        busy |= mode[m.name] in ('pending', 'completing')
                        if pending or now >= due[m.name]:
                            m.kill(pending)
                            time.sleep(rng.uniform(0, 0.2))
                            m.start()
                            due[m.name] = None
                    time.sleep(0.002 if busy else 0.03)
            finally:
                # This thread started them (PDEATHSIG): stop them here.
                for m in mergers:
                    if m.proc:
                        m.stop()

        for fn in (killer, idle_watch, reader.loop):
            th = threading.Thread(target=guarded(fn) if fn != reader.loop else fn)
            th.start()
            threads.append(th)

        def shuffle_round(k):
            for i, t in enumerate(TABLES):
                p = subprocess.run([SHUFFLE, '-b', B, '--from', topic(t), '--to', shuffled(t),
                                    '--seed', str(seed % 100000 * 100 + k * 10 + i),
                                    '--window', '300', '--dup-rate', '0.07'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
                if p.returncode != 0:
                    fail('kafka-shuffle %s: exit %d: %s' % (t, p.returncode, p.stderr.decode()))
                w = p.stdout.decode().split()
                shuffles.append((k, t, int(w[1]), int(w[3].lstrip('('))))

        compactions_cli = []

        def compact_some():
            """`sluice table compact` on one table of each kind while its
            merger writes (a second writer; folds the timeline)."""
            for kind in KINDS:
                d = rng.choice([x[2] for x in dirs if x[0] == kind])
                if not os.path.exists(os.path.join(d, '.sluice', 'table.json')):
                    continue
                p = subprocess.run([SLUICE, 'table', 'compact', d, '--retain', '3000'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
                if p.returncode != 0:
                    fail('sluice table compact %s (while merging): exit %d: %s' % (
                        d, p.returncode, p.stderr.decode()[-1500:]))
                compactions_cli.append(d)

        def check_errors():
            if errors:
                e, tb = errors[0]
                sys.stderr.write(tb)
                raise e
            if reader.error:
                sys.stderr.write(reader.trace)
                raise reader.error

        # -- the workload, with shuffle rounds
        t0 = time.time()
        next_round, rounds = t0 + ROUND_SECONDS, 0
        while time.time() - t0 < WORK_SECONDS:
            wl.step()
            if time.time() >= next_round:
                rounds += 1
                shuffle_round(rounds)
                compact_some()
                next_round = time.time() + ROUND_SECONDS
                check_errors()
            if run_proc.poll() is not None:
                fail('sluice run exited %d' % run_proc.returncode)
            delay = t0 + wl.steps * PACE - time.time()
            if delay > 0:
                time.sleep(delay)
        t_work = time.time() - t0
        # -- catch up: a marker's sequence, then the stored checkpoint past it
        root.run('INSERT INTO %s.t_mark VALUES (1, %d)' % (DB, int(time.time())))
        deadline = time.time() + 120 * SLOW
        mark = None
        while mark is None:
            recs = [r for r in tail_topic(B, topic('t_mark')) if r[3].get('type') == 'data']
            if recs:
                mark = int(recs[0][3]['sequence'])
            elif time.time() > deadline:
                fail('sluice run did not deliver the marker row')
            else:
                time.sleep(0.2)
        while seq_stored(state) < mark:
            if time.time() > deadline:
                fail('sluice run did not acknowledge up to the marker (sequence %d, stored %d)' % (
                    mark, seq_stored(state)))
            time.sleep(0.2)
        rounds += 1
        shuffle_round(rounds)
        stop_kill.set()
        threads[0].join()       # the killer: the kills done, its mergers stopped
        check_errors()
        t_kills = time.time() - t0
        # -- every merger to the end of its topics
        run_all_to_end(mergers)
        time.sleep(0.3)
        reader.stop.set()
        threads[2].join()
        check_errors()
        reader.one_pass()       # one last pass at rest, its checks too
        # At rest no instant may be pending: a dead writer's are rolled
        # back by the next opener. Markers of a completed instant left
        # behind are a time bomb: once a checkpoint folds the instant, the
        # next opener takes it for pending and deletes its files. Failed
        # at the end, so that every other check runs first.
        leftover = []
        for kind, t, d in dirs:
            tl = mr.Timeline(d)
            for name in sorted(tl.pending):
                leftover.append('%s: %s.%s (%s)' % (
                    d, name, '/'.join(sorted(tl.pending[name])),
                    'completed' if name in tl.completed else
                    'folded by %s' % tl.latest_cp if name in tl.superseded else 'not completed'))
        t_reach = time.time() - t0

        # -- the idle table: _SUCCESS from heartbeats alone
        threads[1].join(4 * IDLE_MARGIN + 60)
        check_errors()
        if idle['visible'] is None:
            fail('idle table: its 4 rows never became visible:\n%s' % idle_m.tail())
        if idle['success_at_visible']:
            fail('idle table: _SUCCESS (%s) already there when the rows became visible: the '
                 'data alone passed the watermark' % idle['success_at_visible'])
        if idle['visible'] - t_ins > IDLE_MARGIN - 2:
            fail('idle table: rows visible only %.1f s after the insert: too late to tell '
                 'data from heartbeats (margin %.0f s)' % (idle['visible'] - t_ins, IDLE_MARGIN))
        if idle['success'] is None:
            fail('idle table: no _SUCCESS %.0f s after the insert, with heartbeats every second '
                 '(partition %s, success-delay %d ms):\n%s' % (
                     time.time() - t_ins, idle_part, delay_ms, idle_m.tail()))
        if idle['success'] < t_ins + IDLE_MARGIN - 1.5:
            fail('idle table: _SUCCESS %.1f s after the insert, before any heartbeat could '
                 'pass the delay (%.0f s)' % (idle['success'] - t_ins, IDLE_MARGIN))
        if idle['success_parts'] != [idle_part]:
            fail('idle table: _SUCCESS in %s, expected only %s' % (idle['success_parts'],
                                                                   idle_part))
        idle_m.stop()
        idle_beats = idle_m.heartbeats()

        # -- the topics: the expected states
        expected, counts = {}, {}
        for t in TABLES:
            recs = tail_topic(B, topic(t))
            expected[t], data, beats = expected_state(recs, 'topic ' + topic(t))
            sh = first_offsets(B, shuffled(t))
            late = {p: o for p, (o, n) in sh.items() if o != 0}
            if late:
                fail('topic %s: partitions %s no longer start at offset 0: the broker dropped '
                     'records (run less)' % (shuffled(t), late))
            counts[t] = (data, beats, sum(n for o, n in sh.values()))
        # -- each table of each kind: topic = files = sluice table read = source
        views, reads = {}, {}
        for kind, t, d in dirs:
            view = direct_view(kind, d)
            cols = mr.columns(d) if kind == 'text' else None
            diffs = compare(kind, kind + ' ' + t, expected[t], view, cols)
            if diffs:
                fail('the table differs from the topic:\n  ' + '\n  '.join(diffs))
            if kind != 'mor':
                check_index(d, view)
            reads[d] = check_sluice_read(kind, d, view)
            views[d] = rendered(kind, view)
            verify(d, home)
        verify(idle_dir, home)
        rows_total = {t: len(expected[t]) for t in TABLES}

        # -- negative checks: the comparison and verify can fail
        negative(dirs, expected, views, home)

        # -- from offset 0 again, then compaction of everything: no change
        run_all_to_end(mergers, ['--from-beginning'])
        compacted = 0
        for kind, t, d in dirs:
            p = subprocess.run([SLUICE, 'table', 'compact', d], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=300)
            if p.returncode != 0:
                fail('sluice table compact %s: exit %d: %s' % (d, p.returncode,
                                                              p.stderr.decode()[-1500:]))
            compacted += int(p.stderr.split()[1]) if p.stderr.startswith(b'compacted') else 0
        for kind, t, d in dirs:
            view = direct_view(kind, d)
            again = rendered(kind, view)
            if again != views[d]:
                a, b = views[d].split(b'\n'), again.split(b'\n')
                fail('%s: the merged view changed after --from-beginning and compaction: %d '
                     'lines before, %d after; e.g. before only %r, after only %r' % (
                         d, len(a), len(b), sorted(set(a) - set(b))[:1],
                         sorted(set(b) - set(a))[:1]))
            if check_sluice_read(kind, d, view) != reads[d]:
                fail('%s: sluice table read changed after --from-beginning and compaction' % d)
        t_end = time.time() - t_start
    finally:
        stop_kill.set()
        reader.stop.set()
        for th in threads:
            th.join(120)
        for m in mergers + ([idle_m] if idle_m else []):
            if m.proc and m.proc.poll() is None:
                m.proc.kill()
        if run_proc and run_proc.poll() is None:
            run_proc.kill()
        broker.stop()

    # -- the report
    log('workload: %.0f s, %d steps: %s' % (t_work, wl.steps, ', '.join(
        '%s %d' % kv for kv in sorted(wl.stats.items()))))
    for t in TABLES:
        d, b, s = counts[t]
        log('  %s: %d changes and %d heartbeats in %s; %d records in %s after %d shuffle '
            'rounds; %d live rows' % (t, d, b, topic(t), s, shuffled(t), rounds, rows_total[t]))
    log('shuffled: %d records copied, %d of them duplicates' % (
        sum(s[2] for s in shuffles), sum(s[3] for s in shuffles)))
    for m in mergers:
        log('merger %s: %d runs, %d SIGKILLs (%d after it had its partitions, %d with an instant '
            'in flight), %d instants of dead writers rolled back' % (
                m.name, m.runs, m.kills, m.kills_assigned, m.kills_pending,
                m.logs_count(b'rolled back')))
    log('reader: %d passes, %d table reads, %d files parsed, %d reads again (files cleaned '
        'under it), %d sluice table reads (%d again); seen %s, %d replaced files of which %d '
        'cleaned; %d Hive partitions with _SUCCESS; a key in two Hive partitions %d time(s), '
        'each explained by read order; %d sluice table compact while merging' % (
            reader.passes, reader.reads, reader.files_parsed, reader.retries,
            reader.sluice_reads, reader.sluice_retries,
            ', '.join('%d %s' % (len(v), k) for k, v in sorted(reader.instants.items())),
            len(reader.replaced), len(reader.cleaned), len(reader.successes), reader.skew_dups,
            len(compactions_cli)))
    log('final: every table of mor, hive and text equals its topic, sluice table read and the '
        'source (verify); unchanged after --from-beginning and %d compactions' % compacted)
    log('idle: rows visible %.1f s after the insert without _SUCCESS; _SUCCESS on %s at %.1f s '
        '(success-delay %d ms: data watermark short by %.0f s); %d heartbeats merged' % (
            idle['visible'] - t_ins, idle_part, idle['success'] - t_ins, delay_ms, IDLE_MARGIN,
            idle_beats))
    log('timings: kills done at %.0f s, tables at rest at %.0f s, all checks at %.0f s' % (
        t_kills, t_reach, t_end))
    if leftover:
        fail('at rest (every merger exited cleanly) %d timeline(s) still hold markers of '
             'instants a killed writer left, which no opener removes; the next opener after a '
             'checkpoint folds such an instant rolls it back and deletes its files: %s' % (
                 len(leftover), '; '.join(leftover)))
    if reader.together:
        d, key, copies = reader.together[0]
        fail('%d time(s) a Hive table held one key in two partitions at once (a reader read '
             'the newer copy first, then the older one); first: %s key %s: %s' % (
                 len(reader.together), d, key, copies))
    return 0


def check_index(d, view):
    """The Hive key index (a merge-on-read table in .sluice/index) names,
    for every live key, its sequence and partition; deleted keys are
    tombstones there."""
    tl, files = mr.mor_read(d, mr.FileCache())
    idx = mr.merged(files)
    for key, row in view.items():
        e = idx.get(key)
        if e is None or e[0] != row[0] or e[1] in ('-U', '-D'):
            fail('%s: key %s (sequence %d, in %s) is %s in the key index' % (
                d, key, row[0], row[6], 'absent' if e is None else 'at %d %s' % e[:2]))
        p = json.loads(e[2]).get('p')
        if p != row[6]:
            fail('%s: key %s is in %s, the key index says %s' % (d, key, row[6], p))
    live = [k for k, e in idx.items() if e[1] not in ('-U', '-D')]
    if len(live) != len(view):
        extra = sorted(set(live) - view.keys())[:3]
        fail('%s: the key index has %d live keys, the partitions %d (e.g. %s)' % (
            d, len(live), len(view), extra))


def negative(dirs, expected, views, home):
    """The checks can fail: a changed value is reported by the comparison,
    and a table copy with one row changed by a hand-made commit differs
    for the direct read, `sluice table read` and `sluice table verify`."""
    kind, t, d = next(x for x in dirs if x[0] == 'mor' and x[1] == 't_text')
    view = direct_view(kind, d)
    key = sorted(view)[len(view) // 2]
    row = view[key]
    cols = list(row[5])
    ci = next(i for i, (c, v) in enumerate(cols) if c == 'varchar')
    old = cols[ci][1]
    new = json.dumps((json.loads(old) if old != 'null' else '') + 'X', ensure_ascii=False)
    cols[ci] = ('varchar', new)
    bad = dict(view)
    bad[key] = row[:5] + (cols,) + row[6:]
    diffs = compare(kind, 'negative', expected[t], bad)
    if len(diffs) != 1 or key not in diffs[0]:
        fail('negative check: a changed value gave %r' % diffs)
    # A copy of the table with one row changed by a deltacommit of higher
    # sequence, in the key's bucket (FNV-1a of the key, docs/MERGER.md).
    cp = os.path.join(WORK, 'negative', os.path.basename(d))
    shutil.copytree(d, cp, symlinks=True)
    ms = mr.raw_members(row[7].decode('utf-8'))
    ms = [(n, str(row[0] + 1) if n == '_sluice_seq' else (new if n == 'varchar' else v))
          for n, v in ms]
    line = '{' + ','.join('%s:%s' % (json.dumps(n, ensure_ascii=False), v) for n, v in ms) + '}'
    buckets = mr.table_meta(cp)['buckets']
    b = fnv1a(key.encode('utf-8')) % buckets
    iid = time.strftime('%Y%m%d%H%M%S', time.gmtime()) + '999_0badc0de'
    rel = 'b%04d/%s.log.jsonl.zst' % (b, iid)
    z = subprocess.run(['zstd', '-q', '-c'], input=line.encode('utf-8') + b'\n',
                       stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(cp, rel), 'wb') as f:
        f.write(z)
    meta = {'instant': iid, 'action': 'deltacommit', 'writer': '0badc0de', 'time_ms': 0,
            'offsets': [], 'files': [{'path': rel, 'rows': 1}], 'rows': 1}
    with open(os.path.join(cp, '.sluice', 'timeline', iid + '.deltacommit'), 'w') as f:
        json.dump(meta, f)
    got = direct_view('mor', cp)
    diffs = compare('mor', 'negative copy', expected[t], got)
    if len(diffs) != 1 or key not in diffs[0]:
        fail('negative check: the changed copy gave %r' % diffs)
    lines = sluice_read_rows(cp)
    mine = [ln for ln in lines if json.loads(ln)['_sluice_key'] == key]
    if mine != [line.encode('utf-8')]:
        fail('negative check: sluice table read of the changed copy shows %r' % mine)
    rc, out = verify(cp, home, expect_ok=False)
    if rc == 0:
        fail('negative check: sluice table verify passed a table with a changed row:\n%s' % out)
    log('negative: a changed value is reported by the comparison; a copy with one row changed '
        'by a hand-made deltacommit differs in the direct read, sluice table read and verify '
        '(exit %d)' % rc)


if __name__ == '__main__':
    try:
        sys.exit(main())
    except TestFailure as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
