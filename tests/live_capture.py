#!/usr/bin/env python3
"""live_capture.py: `sluice run` follows a MariaDB server through a random
workload while it is killed again and again, and loses, invents and
changes nothing.

Run by tests/live_capture.sh, which starts a throwaway server (ROW format,
binlog_row_metadata=FULL, time zone +03:00) and exports MDB_SOCK, MDB_PORT,
MDB_DATADIR, BUILD and LIVE_DIR (a scratch directory).

Two pipelines follow the server from its first binlog, started before the
workload, each with its own server id and state directory:

  stdout  sink path "-", standard output appended to a file (`>> out`):
          nothing can be truncated, so every restart repeats what came
          after the last checkpoint.
  file    sink path a regular file, which a restart truncates back to the
          checkpoint before writing the rest again.

The workload (tests/lib/workload.py, seeded: SEED=n replays it) runs for
LIVE_CAPTURE_SECONDS (default 25) on seven tables that together use every
MariaDB column type, plus tables it creates: multi-row INSERTs, UPDATEs
(changing the primary key, setting NULLs), DELETEs, transactions over
several tables, rollbacks, transactions of thousands of rows, binlog
rotations, and ADD/DROP/RENAME/MODIFY COLUMN, CREATE TABLE and DROP TABLE
mid-stream. Meanwhile each pipeline is stopped at random moments, at least
20 times with SIGKILL (some soon after a restart, some once a large
transaction shows in the output, so in its middle), now and then with
SIGTERM or SIGINT (which must exit 0), and started again at once. At the
end each stops with SIGTERM and runs once more with --stop-at-end.

Checks:
  stdout  every line is a record whose headers agree with its value,
          except a torn last line of a killed run; within a run sequences
          increase; every repeated sequence is byte-identical to its first
          copy; there are repeats.
  file    no sequence twice, increasing from first to last line; the
          complete lines present just before each stop are a prefix of
          the final file.
  decode  `sluice decode` of the server's binlog files: sequences strictly
          increasing in binlog order, ordinal = GTID seq_no, index 0, 1..
          per transaction; the deduplicated stdout records and the file
          sink's records equal it: the same sequences and value JSON.
  apply   the deduplicated records, sorted by sequence, applied to an empty
          copy database with each DDL replayed at its GTID's place; every
          table of the copy then equals the source (columns, sorted rows
          hashed, CHECKSUM TABLE).

LIVE_CAPTURE_FAULT=drop|alter|repeat|seq|ddl|prefix|source makes the
harness damage what it checks (a record, a repeat, a sequence, a DDL's
place, a prefix snapshot, the source after the apply), to see the checks
fail.
"""

import hashlib
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import applier as ap  # noqa: E402
from workload import Client, TestFailure, Workload, fail  # noqa: E402

SOCK = os.environ.get('MDB_SOCK', '')
PORT = os.environ.get('MDB_PORT', '')
DATADIR = os.environ.get('MDB_DATADIR', '')
WORK = os.environ.get('LIVE_DIR', '')
SLUICE = os.path.abspath(os.path.join(os.environ.get('BUILD', 'build'), 'sluice'))
DB = 'cap'
MIN_KILLS = 20
WORK_SECONDS = float(os.environ.get('LIVE_CAPTURE_SECONDS') or 25)
MAX_SECONDS = WORK_SECONDS + 90
PACE = 0.02                  # at most one workload step per PACE seconds
FAULT = os.environ.get('LIVE_CAPTURE_FAULT', '')
# source.schema.catalog of both pipelines: auto (the default), always or
# never (records then depend on the binlog alone)
CATALOG = os.environ.get('LIVE_CAPTURE_CATALOG', 'auto')

SIGNAME = {signal.SIGKILL: 'SIGKILL', signal.SIGTERM: 'SIGTERM', signal.SIGINT: 'SIGINT'}


def log(msg):
    print(msg, flush=True)


def wait_proc(p, secs):
    try:
        return p.wait(timeout=secs)
    except subprocess.TimeoutExpired:
        return None


class Pipeline:
    """One sluice pipeline: its configuration, its runs and their ends."""

    def __init__(self, name, server_id, stdout_sink, checkpoint):
        self.name = name
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir)
        self.cfg = os.path.join(self.dir, 'sluice.yaml')
        self.log = os.path.join(self.dir, 'sluice.log')
        self.out = os.path.join(self.dir, 'out.jsonl')
        self.stdout_sink = stdout_sink
        self.starts = []       # stdout: where each run began appending
        self.proc = None
        self.runs = 0
        self.kills = 0
        self.stops = []        # (signal, mode, complete-lines length, its sha256 or None)
        self.modes = {}
        self.h, self.h_pos = hashlib.sha256(), 0
        with open(self.cfg, 'w') as f:
            f.write('''source:
  type: mariadb
  hostname: 127.0.0.1
  port: %s
  username: cdc
  password-file: %s
  server-id: %d
  scan.startup.mode: earliest-offset
  heartbeat.interval: 1s
  connect.backoff.max: 1s
  schema.catalog: %s
sink:
  type: file
  path: "%s"
pipeline:
  name: %s
  state-dir: %s
  checkpoint.interval: %s
''' % (PORT, os.path.join(WORK, 'pw'), server_id, CATALOG, '-' if stdout_sink else self.out, name,
       os.path.join(self.dir, 'state'), checkpoint))
        open(self.out, 'ab').close()

    def start(self, stop_at_end=False):
        self.runs += 1
        with open(self.log, 'ab') as lf:
            lf.write(b'--- test: run %d%s\n' % (self.runs, b' --stop-at-end' if stop_at_end
                                                 else b''))
        self.log_mark = os.path.getsize(self.log)
        out = open(self.out, 'ab') if self.stdout_sink else subprocess.DEVNULL
        if self.stdout_sink:
            self.starts.append(os.path.getsize(self.out))
        err = open(self.log, 'ab')
        env = dict(os.environ, SLUICE_LOG='debug')
        cmd = [SLUICE, 'run', '-c', self.cfg] + (['--stop-at-end'] if stop_at_end else [])
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        err.close()
        if self.stdout_sink:
            out.close()
        with open(os.path.join(WORK, 'sluice.pids'), 'a') as f:
            f.write('%d\n' % self.proc.pid)

    def log_tail(self, n=15):
        with open(self.log, 'rb') as f:
            lines = f.read().decode('utf-8', 'replace').splitlines()
        return '\n'.join('    ' + l for l in lines[-n:])

    def snapshot(self):
        """The complete lines of the sink file now: (length, sha256).
        Hashed on from the last snapshot, so that a stop is not delayed
        by reading the whole file; bytes before that point that a
        restart rewrote differently fail the earlier snapshot's check."""
        with open(self.out, 'rb') as f:
            size = os.fstat(f.fileno()).st_size
            if size < self.h_pos:
                self.h, self.h_pos = hashlib.sha256(), 0
            f.seek(self.h_pos)
            data = f.read(size - self.h_pos)
        n = data.rfind(b'\n') + 1
        self.h.update(data[:n])
        self.h_pos += n
        return self.h_pos, self.h.hexdigest()

    def wait_started(self):
        """Wait until this run has logged its first line. Until main has
        run, a signal meets the default disposition (the dynamic loader
        is still at work), so a clean stop is only asked of a process
        that has started; sluice installs its handlers before it logs."""
        deadline = time.monotonic() + 30
        while (os.path.getsize(self.log) <= self.log_mark and self.proc.poll() is None
               and time.monotonic() < deadline):
            time.sleep(0.002)

    def stop(self, sig, mode):
        """Stop the running process with sig; SIGKILL counts as a kill,
        SIGTERM and SIGINT must end it with status 0."""
        p = self.proc
        if sig != signal.SIGKILL:
            self.wait_started()
        rc = p.poll()
        if rc is not None:
            fail('%s: sluice (run %d) exited by itself with status %d; its log ends:\n%s' % (
                self.name, self.runs, rc, self.log_tail()))
        snap = (None, None) if self.stdout_sink else self.snapshot()
        p.send_signal(sig)
        rc = wait_proc(p, 60)
        if rc is None:
            p.kill()
            p.wait()
            fail('%s: sluice (run %d) did not end within 60 s of %s; its log ends:\n%s' % (
                self.name, self.runs, SIGNAME[sig], self.log_tail()))
        if sig == signal.SIGKILL:
            if rc != -signal.SIGKILL:
                fail('%s: sluice exited with %d before SIGKILL reached it' % (self.name, rc))
            self.kills += 1
        elif rc != 0:
            fail('%s: sluice (run %d) exited with status %d on %s, want 0; its log ends:\n%s' % (
                self.name, self.runs, rc, SIGNAME[sig], self.log_tail()))
        end = os.path.getsize(self.out) if self.stdout_sink else snap[0]
        self.stops.append((sig, mode, end, snap[1]))
        self.modes[mode] = self.modes.get(mode, 0) + 1
        self.proc = None

    def finish(self):
        """The last run: --stop-at-end, which must exit 0."""
        self.start(stop_at_end=True)
        rc = wait_proc(self.proc, 180)
        if rc is None:
            self.proc.kill()
            self.proc.wait()
            fail('%s: sluice --stop-at-end still running after 180 s; its log ends:\n%s' % (
                self.name, self.log_tail()))
        if rc != 0:
            fail('%s: sluice --stop-at-end exited with %d; its log ends:\n%s' % (
                self.name, rc, self.log_tail()))
        self.proc = None

    def kill_quietly(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Killer(threading.Thread):
    """Stops and restarts one pipeline at random moments until told to
    end (the pipeline is then left running)."""

    def __init__(self, pipe, seed, done):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.rng = random.Random(seed)
        self.done = done
        self.big = queue.Queue()
        self.error = None

    def run(self):
        try:
            self.pipe.start()
            while True:
                r = self.rng.random()
                if r < 0.3:
                    mode = 'soon after a restart'
                    self.done.wait(self.rng.uniform(0.0, 0.4))
                elif r < 0.55:
                    mode = 'once a large transaction shows'
                    if not self.wait_big():
                        mode = 'at random'
                else:
                    mode = 'at random'
                    self.done.wait(self.rng.uniform(0.3, 2.0))
                if self.done.is_set():
                    break
                sig = signal.SIGKILL
                if self.rng.random() < 0.12:
                    sig = self.rng.choice([signal.SIGTERM, signal.SIGINT])
                    mode = 'clean stop'
                self.pipe.stop(sig, mode)
                if self.rng.random() < 0.2:
                    self.done.wait(self.rng.uniform(0.05, 0.5))
                self.pipe.start()
        except BaseException:
            self.error = traceback.format_exc()

    def wait_big(self):
        """Wait for the next large transaction and for its first records
        to reach the sink; False when none came in time."""
        while not self.big.empty():
            self.big.get_nowait()
        try:
            gtid = self.big.get(timeout=8)
        except queue.Empty:
            return False
        pat = b'"gtid":"%s"' % gtid.encode()
        try:
            pos = max(0, os.path.getsize(self.pipe.out) - (1 << 16))
        except OSError:
            pos = 0
        deadline = time.time() + 8
        tail = b''
        while time.time() < deadline and not self.done.is_set():
            with open(self.pipe.out, 'rb') as f:
                size = os.fstat(f.fileno()).st_size
                if size < pos:
                    pos, tail = 0, b''
                f.seek(pos)
                data = f.read()
            if pat in tail + data:
                return True
            pos += len(data)
            tail = data[-len(pat):]
            time.sleep(0.001)
        return False


def kills_mid_transaction(stops_at, counts):
    """How many SIGKILLs left the sink in the middle of a transaction:
    the last complete record before the kill is not its transaction's
    last."""
    n = 0
    for rec in stops_at:
        if rec is None:
            continue
        if (rec.seq & 0xffffff) + 1 < counts.get(rec.gtid, 0):
            n += 1
    return n


def last_record_before(data, end):
    """The record of the last complete line of data[:end], or None."""
    k = data.rfind(b'\n', 0, end)
    if k <= 0:
        return None
    j = data.rfind(b'\n', 0, k) + 1
    return ap.parse_line(data[j:k], 'line before offset %d' % end)


def check_stdout(pipe, problems):
    recs, torn = ap.read_output(pipe.out, pipe.starts)
    runs = {}
    for r in recs:
        runs.setdefault(r.run, []).append(r)
    for run, rs in runs.items():
        for a, b in zip(rs, rs[1:]):
            if b.seq <= a.seq:
                fail('%s: run %d wrote sequence %d after %d' % (pipe.name, run, b.seq, a.seq))
    if FAULT == 'repeat':
        first = set()
        for r in recs:
            if r.seq in first:
                r.line = r.line.replace(b'"ts_ms":', b'"ts_ms":1', 1)
                break
            first.add(r.seq)
    by_seq, repeats, bad = ap.dedup(recs)
    if bad:
        problems.append(ap.describe_repeats(bad, '%s sink' % pipe.name))
    if repeats == 0:
        fail('%s: %d runs and %d kills, and not one record was written twice: the kills '
             'did not exercise recovery' % (pipe.name, pipe.runs, pipe.kills))
    # the last complete record in the file when each run was killed
    ends, last = [], None
    for i, (sig, _, _, _) in enumerate(pipe.stops):
        last = runs[i][-1] if runs.get(i) else last
        ends.append(last if sig == signal.SIGKILL else None)
    return by_seq, repeats, torn, len(recs), ends


def check_file(pipe, problems):
    recs, _ = ap.read_output(pipe.out)
    seen = set()
    for k, r in enumerate(recs):
        if r.seq in seen:
            fail('%s: sequence %d is in the file twice (line %d)' % (pipe.name, r.seq, k))
        seen.add(r.seq)
        if k and r.seq <= recs[k - 1].seq:
            fail('%s: line %d has sequence %d after %d' % (pipe.name, k, r.seq, recs[k - 1].seq))
    with open(pipe.out, 'rb') as f:
        data = f.read()
    stops = list(pipe.stops)
    if FAULT == 'prefix' and stops:
        sig, mode, n, h = stops[len(stops) // 2]
        stops[len(stops) // 2] = (sig, mode, n, hashlib.sha256(b'x').hexdigest())
    bad = []
    for k, (sig, mode, n, h) in enumerate(stops):
        if n > len(data) or hashlib.sha256(data[:n]).hexdigest() != h:
            bad.append('stop %d (%s, %s): %d bytes' % (k + 1, SIGNAME[sig], mode, n))
    if bad:
        problems.append('%s sink: the complete lines present before %d of its %d stops are not '
                        'a prefix of the final file (%d bytes): what a restart wrote again '
                        'differs from what was there: %s' % (pipe.name, len(bad), len(stops),
                                                             len(data), '; '.join(bad[:5])))
    ends = [last_record_before(data, n) if sig == signal.SIGKILL else None
            for sig, _, n, _ in pipe.stops]
    return recs, ends


def inject(fault, recs, ddls):
    """Damage the deduplicated stdout records or the DDL list (to see the
    checks fail)."""
    if fault == 'drop':
        del recs[len(recs) // 2]
    elif fault == 'alter':
        for k in range(len(recs) // 2, len(recs)):
            r = recs[k]
            if r.obj.get('op') == '+I' and r.obj.get('table') == 't_orders':
                old = b'"qty":%d' % r.obj['data']['qty'] if r.obj['data'].get('qty') is not None \
                    else None
                if old:
                    new = b'"qty":%d' % (r.obj['data']['qty'] ^ 1)
                    r.value = r.value.replace(old, new, 1)
                    r.line = r.line.replace(old, new, 1)
                    r.obj = ap.parse_line(r.value, 'fault', headers=False).obj
                    break
    elif fault == 'seq':
        k = len(recs) // 2
        recs[k], recs[k + 1] = recs[k + 1], recs[k]
        recs[k].seq, recs[k + 1].seq = recs[k + 1].seq, recs[k].seq
    elif fault == 'ddl':
        for k, (g, sql) in enumerate(ddls):
            if 'ADD COLUMN' in sql:
                d, s, n = g.split('-')
                ddls[k] = ('%s-%s-%d' % (d, s, int(n) + 30), sql)
                break


def main():
    if not (SOCK and PORT and DATADIR and WORK):
        print('MDB_SOCK, MDB_PORT, MDB_DATADIR and LIVE_DIR must be set '
              '(run tests/live_capture.sh)')
        return 2
    seed = int(os.environ.get('SEED') or random.SystemRandom().randrange(1, 1 << 31))
    log('seed %d (replay the workload: SEED=%d sh tests/run.sh live_capture)' % (seed, seed))
    t_start = time.time()

    root = Client(SOCK)
    root.run("CREATE USER cdc@'%' IDENTIFIED BY 'cdc-pw'; GRANT REPLICATION SLAVE, "
             "BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO cdc@'%'")
    with open(os.path.join(WORK, 'pw'), 'w') as f:
        f.write('cdc-pw\n')
    os.chmod(os.path.join(WORK, 'pw'), 0o600)

    pipes = [Pipeline('stdout', 5401, True, '1s'), Pipeline('file', 5402, False, '300ms')]
    done = threading.Event()
    killers = [Killer(p, seed * 7 + k, done) for k, p in enumerate(pipes)]
    wc = Client(SOCK)

    def on_big(gtid, rows):
        for k in killers:
            k.big.put(gtid)

    wl = Workload(wc, DB, seed, on_big=on_big, big_every=90, ddl_every=70)
    try:
        for k in killers:
            k.start()
        wl.setup()
        t0 = time.time()
        while True:
            now = time.time() - t0
            if any(k.error for k in killers):
                break
            # past the set time, on until the kill count and every DDL kind
            if now >= WORK_SECONDS and all(p.kills >= MIN_KILLS for p in pipes) and \
                    not wl.missing_ddl_kinds():
                break
            if now >= MAX_SECONDS:
                break
            wl.step()
            delay = t0 + wl.steps * PACE - time.time()
            if delay > 0:
                time.sleep(delay)
        t_work = time.time() - t0
        done.set()
        for k in killers:
            k.join(90)
            if k.is_alive():
                fail('%s: the kill loop did not end' % k.pipe.name)
            if k.error:
                fail('%s: %s' % (k.pipe.name, k.error.strip().splitlines()[-1]) +
                     '\n' + k.error)
        for p in pipes:
            if p.kills < MIN_KILLS:
                fail('%s: only %d kills in %.0f s (want %d)' % (p.name, p.kills, t_work,
                                                                 MIN_KILLS))
        missing = wl.missing_ddl_kinds()
        if missing:
            fail('the workload ended before it ran DDL of kinds %s (%d steps): give it '
                 'more time (LIVE_CAPTURE_SECONDS)' % (missing, wl.steps))
        binlogs = [os.path.join(DATADIR, r[0]) for r in root.run('SHOW BINARY LOGS')]
        wc.close()
        for p in pipes:
            p.stop(signal.SIGTERM, 'end of the workload')
            p.finish()
        t_capture = time.time() - t_start

        # -- the sinks
        t1 = time.time()
        problems = []
        by_seq, repeats, torn, nlines, ends1 = check_stdout(pipes[0], problems)
        frecs, ends2 = check_file(pipes[1], problems)
        # -- live equals offline
        dec = ap.decode(SLUICE, binlogs)
        ap.check_sequences(dec, 'sluice decode')
        live = [by_seq[s] for s in sorted(by_seq)]
        ddls = list(wl.ddls)
        if FAULT:
            inject(FAULT, live, ddls)
        cat1 = None if CATALOG == 'never' else {}
        cat2 = None if CATALOG == 'never' else {}
        ap.compare_values('the stdout sink (deduplicated)', live, 'sluice decode', dec, cat1)
        ap.compare_values('the file sink', frecs, 'sluice decode', dec, cat2)
        t_checks = time.time() - t1
        counts = {}
        for r in dec:
            counts[r.gtid] = counts.get(r.gtid, 0) + 1
        mid1 = kills_mid_transaction(ends1, counts)
        mid2 = kills_mid_transaction(ends2, counts)
        if mid1 + mid2 == 0:
            fail('of %d SIGKILLs, none left a transaction half written in a sink: the kills '
                 'missed the large transactions' % (pipes[0].kills + pipes[1].kills))

        # -- apply to a copy
        t2 = time.time()
        ac = Client(SOCK)
        a = ap.Applier(ac, DB, DB + '_copy')
        a.apply(live, ddls)
        if FAULT == 'source':
            root.run("SET SESSION sql_log_bin = 0; UPDATE `%s`.`t_int` SET `id` = -`id` "
                     "ORDER BY `id` LIMIT 1" % DB)
        tables = {}
        try:
            tables = ap.compare_dbs(ac, DB, DB + '_copy', exact_json=CATALOG == 'never')
        except TestFailure as e:
            problems.append(str(e))
        ac.close()
        t_apply = time.time() - t2
    finally:
        done.set()
        for p in pipes:
            p.kill_quietly()
        for k in killers:
            if k.is_alive():
                k.join(10)
        for p in pipes:
            p.kill_quietly()
        root.close()
        wc.close()

    log('workload: %.0f s, %d steps: %s' % (t_work, wl.steps, ', '.join(
        '%s %d' % kv for kv in sorted(wl.stats.items()))))
    log('DDL: %d statements replayed in order (%s)' % (a.ddls, ', '.join(
        '%s %d' % kv for kv in sorted(wl.ddl_done.items()))))
    log('binlog: %d files; sluice decode: %d records in %d transactions, sequences '
        'strictly increasing, ordinal = GTID seq_no' % (len(binlogs), len(dec), len(counts)))
    for p, mid in ((pipes[0], mid1), (pipes[1], mid2)):
        log('%s pipeline: %d runs, %d SIGKILLs (%d with a transaction half written), %d clean '
            'stops; stops by moment: %s' % (
                p.name, p.runs, p.kills, mid, sum(1 for s in p.stops if s[0] != signal.SIGKILL),
                ', '.join('%s %d' % kv for kv in sorted(p.modes.items()))))
    log('stdout sink: %d lines, %d torn by a kill, %d repeated records; deduplicated, equal '
        'to sluice decode' % (nlines, torn, repeats))
    log('file sink: %d records, no sequence twice; equal to sluice decode' % len(frecs))
    if cat1 is not None:
        log('source.schema.catalog %s: values in the catalog\'s form instead of the binlog\'s '
            '(the stdout sink: %s; the file sink: %s)' % (
                CATALOG, ', '.join('%s %d' % kv for kv in sorted(cat1.items())) or 'none',
                ', '.join('%s %d' % kv for kv in sorted(cat2.items())) or 'none'))
    log('copy: %d records applied (%d statements) with %d DDL; %d tables compared with the '
        'source (%d rows; sorted rows hashed%s)' % (
            len(live), a.statements, a.ddls, len(tables), sum(n for n, _ in tables.values()),
            ', CHECKSUM TABLE' if CATALOG == 'never' else
            ', JSON columns as documents, CHECKSUM TABLE of tables without JSON'))
    log('time: capture %.0f s, sink and decode checks %.1f s, apply and compare %.1f s' % (
        t_capture, t_checks, t_apply))
    if problems:
        fail('%d contract violations:\n%s' % (len(problems), '\n\n'.join(problems)))
    if FAULT:
        log('LIVE_CAPTURE_FAULT=%s was set, and nothing failed' % FAULT)
        return 1
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except TestFailure as e:
        print('FAIL: %s' % e, flush=True)
        sys.exit(1)
