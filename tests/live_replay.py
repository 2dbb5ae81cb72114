#!/usr/bin/env python3
"""live_replay.py: `sluice replay` of archived binlog files gives the
records `sluice run` gave for the same transactions: the same bytes, the
same sequences, in the same order.

Run by tests/live_replay.sh, which starts a throwaway MariaDB (ROW format,
binlog_row_metadata=FULL, time zone +03:00) and exports MDB_SOCK, MDB_PORT,
MDB_DATADIR, BUILD and LIVE_DIR (a scratch directory).

The live run: a pipeline `live` (file sink with headers, a table filter,
an excluded table, a masked column, catalog auto) follows the server from
its first binlog while the seeded workload of tests/lib/workload.py runs
for LIVE_REPLAY_SECONDS (default 12; at least 300 steps): every column
type, multi-row DML, primary-key changes, rollbacks, large transactions
and DDL, the binlog rotated twice more on purpose. A marker row ends it; once the marker is in
the sink, the run is stopped with SIGTERM (exit 0). The server's binlog
files, its .index file among them, are then copied to an archive
directory, one of them gzipped.

Checks:
  full     `sluice replay --binlogs ARCHIVE` with the same configuration
           but another sink path: its file equals the live file line for
           line, byte for byte (headers, values, sequences, order); the
           schema history comes from the pipeline's state directory.
  gtids    --from-gtid/--to-gtid of two transactions in the middle: exactly
           the live lines of the transactions between them, inclusive.
  time     --from-time (ISO-8601) / --to-time (epoch ms): exactly the live
           lines committed in between.
  tables   --tables: exactly the live lines of those tables (a table the
           pipeline excludes stays excluded).
  later    the archive without its first file: the live lines of the
           transactions in the other files, same sequences (numbering
           does not need earlier files).
  kafka    the full replay into the local broker (build/sluice-broker, one
           topic of 4 partitions by a route rule), read back with `sluice
           tail`: the same records as the file (headers and value bytes per
           sequence), increasing per partition, no heartbeat; with
           sink.max-record-size 1KiB a record larger than that makes the
           replay exit 1 naming the topic.
  errors   exit 1 with a message naming the place for: an empty directory,
           a missing one, a corrupt event (bytes flipped in a copy) and a
           file cut short (the output then holds only whole transactions,
           a prefix of the live lines), a --from-gtid not in the files, one
           in a file before the archive, a sink file that exists; a gap in
           the file numbers warns; --dry-run writes nothing and counts the
           live records.

LIVE_REPLAY_FAULT=alter|drop|order|extra damages the full replay's lines
before they are compared, to see the comparison fail.
"""

import gzip
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import applier as ap  # noqa: E402
from workload import Client, Workload, fail  # noqa: E402

SOCK = os.environ.get('MDB_SOCK', '')
PORT = os.environ.get('MDB_PORT', '')
DATADIR = os.environ.get('MDB_DATADIR', '')
WORK = os.environ.get('LIVE_DIR', '')
BUILD = os.environ.get('BUILD', 'build')
SLUICE = os.path.abspath(os.path.join(BUILD, 'sluice'))
BROKER = os.path.abspath(os.path.join(BUILD, 'sluice-broker'))
DB = 'rpl'
WORK_SECONDS = float(os.environ.get('LIVE_REPLAY_SECONDS') or 12)
PACE = 0.02
MIN_STEPS = 300
FAULT = os.environ.get('LIVE_REPLAY_FAULT', '')
SOURCE = r'''source:
  type: mariadb
  name: rpl-src
  hostname: 127.0.0.1
  port: %s
  username: cdc
  password-file: %s
  server-id: 6101
  scan.startup.mode: earliest-offset
  heartbeat.interval: 1s
  connect.backoff.max: 1s
  tables: rpl\..*, other\.kept
  tables.exclude: rpl\.t_bin
  columns.mask: rpl\.t_orders\.note
'''


def log(msg):
    print(msg, flush=True)


def config(name, sink, pipeline='live'):
    """A pipeline file: the live source and filter, the given sink block,
    the live pipeline's name and state directory unless told otherwise."""
    path = os.path.join(WORK, name + '.yaml')
    with open(path, 'w') as f:
        f.write(SOURCE % (PORT, os.path.join(WORK, 'pw')))
        f.write(sink)
        f.write('pipeline:\n  name: %s\n  state-dir: %s\n  checkpoint.interval: 200ms\n' % (
            pipeline, os.path.join(WORK, pipeline + '-state')))
    return path


def file_sink(path):
    return 'sink:\n  type: file\n  path: "%s"\n  headers: true\n' % path


def replay(cfg, args, want=0, what='replay'):
    t0 = time.time()
    p = subprocess.run([SLUICE, 'replay', '-c', cfg] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=300,
                       env=dict(os.environ, SLUICE_LOG='info'))
    err = p.stderr.decode('utf-8', 'replace')
    if p.returncode != want:
        fail('%s: sluice replay %s exited %d, want %d; stderr ends:\n%s' % (
            what, ' '.join(args), p.returncode, want, err[-3000:]))
    return err, time.time() - t0


def read_lines(path, what):
    with open(path, 'rb') as f:
        data = f.read()
    if data and not data.endswith(b'\n'):
        fail('%s: %s ends with a partial line' % (what, path))
    return data.split(b'\n')[:-1] if data else []


def same_lines(what, got, want):
    """got must be want, line for line."""
    if got == want:
        return
    k = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]),
             min(len(got), len(want)))
    msg = '%s: %d lines, want %d; first difference at line %d' % (what, len(got), len(want), k)
    if k < len(got) and k < len(want):
        msg += ':\n  ' + ap.line_diff(want[k], got[k]).replace('first:', 'want:').replace(
            'repeat:', 'got: ')
    elif k < len(want):
        msg += ': missing ' + repr(want[k][:300])
    else:
        msg += ': extra ' + repr(got[k][:300])
    fail(msg)


def damage(lines):
    """LIVE_REPLAY_FAULT: what the comparison must catch."""
    lines = list(lines)
    k = len(lines) // 2
    if FAULT == 'alter':
        v = lines[k]
        j = v.rfind(b'"op":"')
        lines[k] = v[:j] + b'"op":"+X' + v[j + 8:] if j >= 0 else v + b' '
    elif FAULT == 'drop':
        del lines[k]
    elif FAULT == 'order':
        lines[k], lines[k + 1] = lines[k + 1], lines[k]
    elif FAULT == 'extra':
        lines.insert(k, lines[k])
    return lines


def gtid_seq(g):
    m = re.fullmatch(r'(\d+)-(\d+)-(\d+)', g or '')
    if not m:
        fail('GTID %r is not domain-server-seq' % g)
    return int(m.group(3))


class Broker:
    """build/sluice-broker; its first line is the bootstrap list."""

    def __init__(self, topics):
        args = [BROKER, '--brokers', '1']
        for t in topics:
            args += ['--topic', t]
        self.err = open(os.path.join(WORK, 'broker.log'), 'wb')
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(ln.decode().rstrip('\n'))
                                         for ln in self.p.stdout], daemon=True).start()
        first = lines.get(timeout=30)
        if not first.startswith('bootstrap.servers='):
            fail('sluice-broker said %r' % first)
        self.bootstrap = first.split('=', 1)[1]

    def stop(self):
        self.p.terminate()
        self.p.wait(10)
        self.err.close()


def read_topic(bootstrap, topic):
    """(partition, offset, headers, key, raw value) of every record."""
    p = subprocess.run([SLUICE, 'tail', '-b', bootstrap, '--until-end', topic],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        fail('sluice tail %s: exit %d: %s' % (topic, p.returncode, p.stderr.decode()[-2000:]))
    out = []
    for line in p.stdout.splitlines():
        k = line.find(b'},"value":')
        if k < 0 or not line.endswith(b'}'):
            fail('sluice tail: a line without a value: %r' % line[:300])
        head = json.loads(line[:k + 1] + b'}')
        out.append((head['partition'], head['offset'], head['headers'], head['key'],
                    line[k + len(b'},"value":'):-1]))
    return out


def check_kafka(broker, lines, archive, history):
    topic = 'rp.rows'
    cfg = config('kafka', '''sink:
  type: kafka
  bootstrap.servers: %s
  topic: rp.unrouted.${table}
  linger: 2ms
route:
  - database: rpl|other
    table: .*
    topic: %s
''' % (broker.bootstrap, topic), pipeline='kreplay')
    err, secs = replay(cfg, ['--binlogs', archive, '--schema-history', history],
                       what='kafka replay')
    got = read_topic(broker.bootstrap, topic)
    want = {}
    for line in lines:
        k = line.find(ap.VALUE_KEY)
        want[json.loads(line[:k] + b'}')['headers']['sequence']] = (
            json.loads(line[:k] + b'}')['headers'], line[k + len(ap.VALUE_KEY):-1])
    seen, last = set(), {}
    for part, off, h, key, value in got:
        if h.get('type') != 'data':
            fail('kafka: a record of type %r at %d:%d (no heartbeats in a replay)' % (
                h.get('type'), part, off))
        s = h.get('sequence')
        if s not in want:
            fail('kafka: sequence %s at %d:%d is not in the file replay' % (s, part, off))
        if s in seen:
            fail('kafka: sequence %s twice' % s)
        seen.add(s)
        wh, wv = want[s]
        if h != wh:
            fail('kafka: sequence %s: headers %r, the file has %r' % (s, h, wh))
        if value != wv:
            fail('kafka: sequence %s: value differs from the file:\n  %s' % (
                s, ap.line_diff(wv, value)))
        if int(s) <= last.get(part, 0):
            fail('kafka: partition %d: sequence %s after %d' % (part, s, last[part]))
        last[part] = int(s)
    if len(seen) != len(want):
        fail('kafka: %d records in %s, the file replay has %d' % (len(seen), topic, len(want)))
    log('kafka: %d records on %d partitions of %s, each with the headers and value bytes of '
        'the file replay, in sequence order per partition, no heartbeat (replay %.1f s)' % (
            len(got), len(last), topic, secs))

    # A record Kafka refuses: the replay stops with exit 1, naming it.
    small = config('kafka-small', '''sink:
  type: kafka
  bootstrap.servers: %s
  topic: rp.small
  max-record-size: 1KiB
''' % broker.bootstrap, pipeline='ksmall')
    err, _ = replay(small, ['--binlogs', archive, '--schema-history', history], want=1,
                    what='refused record')
    if 'rp.small' not in err or 'too large' not in err.lower():
        fail('refused record: the message does not name the topic and the reason:\n%s' %
             err[-1500:])
    log('kafka: a record above sink.max-record-size (1 KiB) ends the replay with exit 1: %s' %
        next(ln for ln in err.splitlines() if 'rp.small' in ln).split(': ', 1)[-1][:160])


def check_errors(archive, live_lines, counts, history, files):
    # an empty directory, a missing one
    empty = os.path.join(WORK, 'empty')
    os.makedirs(empty)
    cfg = config('err', file_sink(os.path.join(WORK, 'err.jsonl')), pipeline='err')
    err, _ = replay(cfg, ['--binlogs', empty], want=1, what='empty directory')
    if empty not in err or 'no binlog files' not in err:
        fail('empty directory: the message does not say so:\n%s' % err[-1000:])
    missing = os.path.join(WORK, 'no-such-dir')
    err, _ = replay(cfg, ['--binlogs', missing], want=1, what='missing directory')
    if missing not in err:
        fail('missing directory: the message does not name it:\n%s' % err[-1000:])
    log('errors: an empty directory and a missing one: exit 1, naming them')

    # a corrupt event, a file cut short: the records before it, whole
    # transactions only
    big = max((f for f in files if not f.endswith('.gz')),
              key=lambda f: os.path.getsize(os.path.join(archive, f)))
    for kind in ('corrupt', 'cut'):
        d = os.path.join(WORK, kind)
        shutil.copytree(archive, d)
        path = os.path.join(d, big)
        size = os.path.getsize(path)
        with open(path, 'r+b') as f:
            if kind == 'corrupt':
                f.seek(size * 6 // 10)
                b = f.read(8)
                f.seek(size * 6 // 10)
                f.write(bytes(x ^ 0x5a for x in b))
            else:
                f.truncate(size * 7 // 10)
        out = os.path.join(WORK, kind + '.jsonl')
        cfg = config(kind, file_sink(out), pipeline=kind)
        err, _ = replay(cfg, ['--binlogs', d, '--schema-history', history], want=1, what=kind)
        line = next((ln for ln in err.splitlines() if path in ln), None)
        if not line or not re.search(r'\bat \d+', line):
            fail('%s: no message names %s and the position:\n%s' % (kind, path, err[-1500:]))
        got = read_lines(out, kind)
        same_lines(kind + ' (the records before the error)', got, live_lines[:len(got)])
        if got:
            last = ap.parse_line(got[-1], kind)
            n = sum(1 for ln in got if ap.parse_line(ln, kind).gtid == last.gtid)
            if n != counts[last.gtid]:
                fail('%s: the output ends inside transaction %s (%d of its %d records)' % (
                    kind, last.gtid, n, counts[last.gtid]))
        log('errors: %s %s: exit 1, "%s"; the %d records before it are the live ones, whole '
            'transactions' % ('bytes flipped in' if kind == 'corrupt' else 'cut short:', big,
                              line.split('ERROR ', 1)[-1][:150], len(got)))

    # a sink file that exists is not written to
    cfg = config('exists', file_sink(os.path.join(WORK, 'full.jsonl')), pipeline='exists')
    err, _ = replay(cfg, ['--binlogs', archive], want=1, what='existing sink file')
    if 'exists' not in err:
        fail('existing sink file: no message says so:\n%s' % err[-1000:])

    # a gap in the numbers: a warning; --dry-run: nothing written
    gap = os.path.join(WORK, 'gap')
    shutil.copytree(archive, gap)
    os.unlink(os.path.join(gap, files[1]))
    out = os.path.join(WORK, 'dry.jsonl')
    cfg = config('dry', file_sink(out), pipeline='dry')
    err, _ = replay(cfg, ['--binlogs', gap, '--dry-run'], what='gap')
    if 'no file numbered' not in err:
        fail('a gap in the file numbers: no warning:\n%s' % err[-1000:])
    err, _ = replay(cfg, ['--binlogs', archive, '--dry-run', '--schema-history', history],
                    what='dry run')
    if os.path.exists(out):
        fail('--dry-run created %s' % out)
    m = re.search(r'dry run, nothing written: .*?: (\d+) records', err)
    if not m or int(m.group(1)) != len(live_lines):
        fail('--dry-run: the summary does not count %d records:\n%s' % (len(live_lines),
                                                                      err[-1000:]))
    log('errors: a gap in the file numbers warns; --dry-run counts the %d records and writes '
        'nothing; an existing sink file is refused' % len(live_lines))


def main():
    if not (SOCK and PORT and DATADIR and WORK):
        print('MDB_SOCK, MDB_PORT, MDB_DATADIR and LIVE_DIR must be set (run tests/live_replay.sh)')
        return 2
    t_start = time.time()
    seed = int(os.environ.get('SEED') or random.SystemRandom().randrange(1, 1 << 31))
    log('seed %d (replay: SEED=%d make test T=live_replay)' % (seed, seed))
    root = Client(SOCK)
    root.run("CREATE USER cdc@'%' IDENTIFIED BY 'cdc-pw'; GRANT REPLICATION SLAVE, "
             "BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO cdc@'%'")
    with open(os.path.join(WORK, 'pw'), 'w') as f:
        f.write('cdc-pw\n')

    live_out = os.path.join(WORK, 'live.jsonl')
    live_cfg = config('live', file_sink(live_out))
    history = os.path.join(WORK, 'live-state', 'live.schema.jsonl')
    proc = None
    broker = None
    wc = Client(SOCK)
    wl = Workload(wc, DB, seed, big_every=150, ddl_every=40)
    try:
        with open(os.path.join(WORK, 'live.log'), 'wb') as lf:
            proc = subprocess.Popen([SLUICE, 'run', '-c', live_cfg], stderr=lf,
                                    stdout=subprocess.DEVNULL,
                                    env=dict(os.environ, SLUICE_LOG='info'))
        with open(os.path.join(WORK, 'sluice.pids'), 'a') as f:
            f.write('%d\n' % proc.pid)
        wl.setup()
        # a table of another database, captured, and one that is not; a
        # row larger than 1 KiB
        wc.run("CREATE DATABASE other; CREATE TABLE other.kept (id INT PRIMARY KEY, v TEXT); "
               "CREATE TABLE other.dropped (id INT PRIMARY KEY, v TEXT); "
               "CREATE TABLE rpl.big (id INT PRIMARY KEY, t MEDIUMTEXT); "
               "INSERT INTO rpl.big VALUES (1, REPEAT('x', 5000)); USE rpl")
        t0 = time.time()
        flushes = [WORK_SECONDS / 3, 2 * WORK_SECONDS / 3]
        # at least MIN_STEPS, however slow the host (a sanitizer build)
        while time.time() - t0 < WORK_SECONDS or wl.steps < MIN_STEPS:
            if flushes and time.time() - t0 >= flushes[0]:
                flushes.pop(0)
                wc.run('FLUSH BINARY LOGS')
            if wl.steps % 25 == 0:
                wc.run('INSERT INTO other.kept VALUES (%d, %s); INSERT INTO other.dropped '
                       'VALUES (%d, %s)' % (wl.steps, "'k'", wl.steps, "'d'"))
            wl.step()
            delay = t0 + wl.steps * PACE - time.time()
            if delay > 0:
                time.sleep(delay)
        gtid = wc.value("INSERT INTO rpl.big VALUES (2, 'the end'); SELECT @@last_gtid")
        # everything is captured once the marker is in the sink
        pat = b'"gtid":"%s"' % gtid.encode()
        deadline = time.time() + 90
        while True:
            with open(live_out, 'rb') as f:
                if pat in f.read()[-4096:]:
                    break
            if proc.poll() is not None:
                fail('sluice run exited (%d) before the end' % proc.returncode)
            if time.time() > deadline:
                fail('sluice run did not capture the marker %s within 90 s' % gtid)
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        if proc.wait(60) != 0:
            fail('sluice run exited %d after SIGTERM' % proc.returncode)
        t_live = time.time() - t_start

        # the archive: every binlog file, the index too, one file gzipped
        root.run('FLUSH BINARY LOGS')
        names = [r[0] for r in root.run('SHOW BINARY LOGS')]
        if len(names) < 4:
            fail('only %d binlog files: the rotations did not happen' % len(names))
        archive = os.path.join(WORK, 'archive')
        os.makedirs(archive)
        for n in names:
            shutil.copy(os.path.join(DATADIR, n), archive)
        shutil.copy(os.path.join(DATADIR, 'mysql-bin.index'), archive)
        gz = names[1]
        with open(os.path.join(archive, gz), 'rb') as src, \
                gzip.open(os.path.join(archive, gz + '.gz'), 'wb') as dst:
            shutil.copyfileobj(src, dst)
        os.unlink(os.path.join(archive, gz))
        files = sorted(os.listdir(archive))

        live_lines = read_lines(live_out, 'live')
        live = [ap.parse_line(ln, 'live line %d' % i) for i, ln in enumerate(live_lines)]
        # (indexes skip the rows of tables not captured: no check_sequences)
        for a, b in zip(live, live[1:]):
            if b.seq <= a.seq or b.seq >> 24 != gtid_seq(b.gtid):
                fail('live: sequence %d (GTID %s) after %d' % (b.seq, b.gtid, a.seq))
        counts = {}
        for r in live:
            counts[r.gtid] = counts.get(r.gtid, 0) + 1
        tables = {}
        for r in live:
            tables[r.obj['db'] + '.' + r.obj['table']] = 1
        if 'rpl.t_bin' in tables or 'other.dropped' in tables or 'other.kept' not in tables:
            fail('the live run did not filter as configured: tables %s' % sorted(tables))
        if len(live) < 1000 or len(counts) < 100 or len(wl.ddls) < 10:
            fail('too little to compare: %d records, %d transactions, %d DDL' % (
                len(live), len(counts), len(wl.ddls)))
        log('live: %d records of %d transactions in %d tables, %d DDL, %d binlog files '
            '(%s gzipped in the archive); %.0f s' % (len(live), len(counts), len(tables),
                                                     len(wl.ddls), len(names), gz, t_live))

        # full: the same configuration but the sink path; the schema
        # history is the pipeline's own (its state directory)
        full_out = os.path.join(WORK, 'full.jsonl')
        cfg = config('full', file_sink(full_out))
        err, secs = replay(cfg, ['--binlogs', archive], what='full')
        if 'schema history' not in err:
            fail('full: the pipeline\'s schema history was not read:\n%s' % err[-1500:])
        same_lines('full replay', damage(read_lines(full_out, 'full')), live_lines)
        log('full: the replay of %d files (%d bytes) equals the live file: %d lines, byte for '
            'byte, in order (%.1f s)' % (len(names), sum(
                os.path.getsize(os.path.join(archive, f)) for f in files), len(live_lines), secs))

        # gtids: two transactions in the middle, inclusive
        order = list(dict.fromkeys(r.gtid for r in live))
        g1, g2 = order[len(order) // 3], order[2 * len(order) // 3]
        s1, s2 = gtid_seq(g1), gtid_seq(g2)
        want = [ln for ln, r in zip(live_lines, live) if s1 <= gtid_seq(r.gtid) <= s2]
        out = os.path.join(WORK, 'gtids.jsonl')
        cfg = config('gtids', file_sink(out), pipeline='gtids')
        err, secs = replay(cfg, ['--binlogs', archive, '--schema-history', history,
                                 '--from-gtid', g1, '--to-gtid', g2], what='gtids')
        same_lines('--from-gtid %s --to-gtid %s' % (g1, g2), read_lines(out, 'gtids'), want)
        log('gtids: --from-gtid %s --to-gtid %s: the %d live lines of those %d transactions '
            '(%.1f s)' % (g1, g2, len(want), len({r.gtid for ln, r in zip(live_lines, live)
                                                  if s1 <= gtid_seq(r.gtid) <= s2}), secs))

        # time: commit times (ms) of records 40% and 60% in
        tss = [r.obj['ts_ms'] for r in live]
        if any(b < a for a, b in zip(tss, tss[1:])):
            fail('live commit times go back: the time range cannot be checked')
        t1, t2 = tss[len(tss) * 2 // 5], tss[len(tss) * 3 // 5]
        iso = time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(t1 // 1000)) + '.%03dZ' % (t1 % 1000)
        want = [ln for ln, r in zip(live_lines, live) if t1 <= r.obj['ts_ms'] <= t2]
        out = os.path.join(WORK, 'time.jsonl')
        cfg = config('time', file_sink(out), pipeline='time')
        err, secs = replay(cfg, ['--binlogs', archive, '--schema-history', history,
                                 '--from-time', iso, '--to-time', str(t2)], what='time')
        same_lines('--from-time %s --to-time %d' % (iso, t2), read_lines(out, 'time'), want)
        log('time: --from-time %s --to-time %d: the %d live lines committed in between '
            '(%.1f s)' % (iso, t2, len(want), secs))

        # tables: on top of the pipeline's filter (t_bin stays excluded)
        only = {'rpl.t_int', 'rpl.t_orders', 'other.kept'}
        want = [ln for ln, r in zip(live_lines, live)
                if r.obj['db'] + '.' + r.obj['table'] in only]
        out = os.path.join(WORK, 'tables.jsonl')
        cfg = config('tables', file_sink(out), pipeline='tables')
        err, secs = replay(cfg, ['--binlogs', archive, '--schema-history', history, '--tables',
                                 r'rpl\.t_(int|orders|bin), other\..*', '--tables',
                                 r'nothing\.here'], what='tables')
        same_lines('--tables', read_lines(out, 'tables'), want)
        log('tables: --tables rpl.t_(int|orders|bin),other.*: the %d live lines of %s (%.1f s)' % (
            len(want), ', '.join(sorted(only)), secs))

        # later: without the first file, the others number the same
        later = os.path.join(WORK, 'later')
        shutil.copytree(archive, later)
        os.unlink(os.path.join(later, names[0]))
        want = [ln for ln, r in zip(live_lines, live) if r.obj['file'] != names[0]]
        out = os.path.join(WORK, 'later.jsonl')
        cfg = config('later', file_sink(out), pipeline='later')
        err, secs = replay(cfg, ['--binlogs', later, '--schema-history', history], what='later')
        same_lines('without %s' % names[0], read_lines(out, 'later'), want)
        first = next(r for r in live if r.obj['file'] == names[0])
        err, _ = replay(cfg, ['--binlogs', later, '--schema-history', history,
                                   '--from-gtid', first.gtid, '--dry-run'], want=1,
                        what='from-gtid before the archive')
        if 'before the first file' not in err:
            fail('--from-gtid of a file not in the archive: no message says so:\n%s' %
                 err[-1000:])
        err, _ = replay(cfg, ['--binlogs', archive, '--from-gtid', '0-1-999999999',
                              '--dry-run'], want=1, what='from-gtid not in the files')
        if 'no transaction' not in err:
            fail('--from-gtid not in the files: no message says so:\n%s' % err[-1000:])
        log('later: without %s, the %d live lines of the other files, same sequences; '
            '--from-gtid in the missing file, or beyond the files: exit 1' % (names[0], len(want)))

        broker = Broker(['rp.rows:8', 'rp.small:1'])
        check_kafka(broker, live_lines, archive, history)
        check_errors(archive, live_lines, counts, history, files)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
        if broker:
            broker.stop()
        wc.close()
        root.close()
    log('workload: %.0f s, %d steps: %s' % (
        WORK_SECONDS, wl.steps, ', '.join('%s %d' % kv for kv in sorted(wl.stats.items()))))
    log('total %.0f s' % (time.time() - t_start))
    return 0


if __name__ == '__main__':
    sys.exit(main())
