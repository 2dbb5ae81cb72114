#!/usr/bin/env python3
"""merge_group.py: two `sluice merge` members of one consumer group, one table.

Run by tests/merge_group.sh, which exports BUILD and LIVE_DIR (a scratch
directory). The broker is build/sluice-broker (librdkafka's mock cluster,
through live_kafka.Broker); the records are build/kafka-shuffle
--generate's: RECORDS changes (inserts, updates, deletes, re-inserts) of
KEYS ids in each of two tables, sent to random partitions, so one key's
changes arrive out of order across partitions. Its --expect file is the
final state.

Both members merge into one merge-on-read table with small batches and a
slow compression level, so a commit takes a while and runs on its own
thread while the next batch fills:
  1. A starts alone and takes every partition;
  2. once A has committed a few batches, B joins: A must commit what it
     consumed (the batch committing and the one filling) before giving
     partitions up, and B resumes them from the table's offsets;
  3. once B has committed rows, it is stopped with SIGTERM (exit 0) and
     started again at once;
  4. both run to the end (--idle-exit).
Then the table (`sluice table read`) must equal the expected state row for
row: key, sequence and every column; no key twice; no pending instant.
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, 'lib'))
import live_kafka as lk  # noqa: E402
from workload import fail  # noqa: E402

SLUICE = lk.SLUICE
WORK = lk.WORK
SHUFFLE = os.path.abspath(os.path.join(lk.BUILD, 'kafka-shuffle'))
SEED = int(os.environ.get('SEED') or 1)
RECORDS, KEYS, PARTS = 40000, 4000, 8
TOPIC = 'grp'
META = ('_sluice_key', '_sluice_seq', '_sluice_op', '_sluice_ts_ms', '_sluice_db',
        '_sluice_table')


def log(msg):
    print(msg, flush=True)


class Member:
    def __init__(self, name, bootstrap, path):
        self.name, self.bootstrap, self.path = name, bootstrap, path
        self.log = os.path.join(WORK, name + '.log')
        self.proc = None
        self.mark = 0

    def start(self):
        with open(self.log, 'ab') as f:
            f.write(b'--- test: start\n')
        self.mark = os.path.getsize(self.log)
        err = open(self.log, 'ab')
        self.proc = subprocess.Popen(
            [SLUICE, 'merge', '-b', self.bootstrap, '--group', 'g', '--path', self.path,
             '--topic', TOPIC, '--batch-rows', '2000', '--commit-interval', '300',
             '--zstd-level', '19', '--write-threads', '1', '--maintain-interval', '1000',
             '--compact-files', '2', '--idle-exit', '2500',
             # The mock's rebalance waits out the session of a member
             # that has not rejoined yet: 45 s by default.
             '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=300'],
            stdout=subprocess.DEVNULL, stderr=err, env=dict(os.environ, SLUICE_LOG='debug'))
        err.close()

    def text(self, since_start=False):
        with open(self.log, 'rb') as f:
            if since_start:
                f.seek(self.mark)
            return f.read().decode('utf-8', 'replace')

    def tail(self, n=20):
        return '\n'.join('    ' + l for l in self.text().splitlines()[-n:])

    def commits(self, since_start=False):
        """Rows of each commit, in order."""
        return [r for r, _ in self.commit_sizes(since_start)]

    def changes(self):
        """Changes committed in all."""
        return sum(c for _, c in self.commit_sizes())

    def commit_sizes(self, since_start=False):
        """(rows, changes) of each commit: 'committed R rows (C changes)'."""
        out = []
        for line in self.text(since_start).splitlines():
            if ': committed ' in line and ' rows (' in line:
                rest = line.split(': committed ', 1)[1].split()
                out.append((int(rest[0]), int(rest[2].lstrip('('))))
        return out

    def wait_for(self, what, cond, secs=90):
        deadline = time.monotonic() + secs
        while not cond():
            if self.proc.poll() is not None:
                fail('%s exited (%d) while waiting for %s:\n%s' % (
                    self.name, self.proc.returncode, what, self.tail()))
            if time.monotonic() > deadline:
                fail('%s: no %s within %d s:\n%s' % (self.name, what, secs, self.tail()))
            time.sleep(0.05)

    def stop(self):
        # The handler is in place once the process has logged.
        self.wait_for('first log line', lambda: os.path.getsize(self.log) > self.mark)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail('%s: SIGTERM did not stop it in 60 s:\n%s' % (self.name, self.tail()))
        if rc != 0:
            fail('%s: exit %d after SIGTERM:\n%s' % (self.name, rc, self.tail()))

    def wait_exit(self, secs):
        try:
            rc = self.proc.wait(secs)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail('%s: still running %d s after the end of the input:\n%s' % (
                self.name, secs, self.tail()))
        if rc != 0:
            fail('%s: exit %d:\n%s' % (self.name, rc, self.tail()))

    def kill_quietly(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def table_rows(path):
    out = subprocess.run([SLUICE, 'table', 'read', path], capture_output=True)
    if out.returncode != 0:
        fail('sluice table read: exit %d: %s' % (out.returncode, out.stderr.decode()))
    rows = {}
    for line in out.stdout.decode().splitlines():
        pairs = json.loads(line, object_pairs_hook=list)
        names = [k for k, _ in pairs]
        if names[:len(META)] != list(META) or len(set(names)) != len(names):
            fail('a stored row is not as documented: %s' % line[:200])
        d = dict(pairs)
        key = d['_sluice_key']
        if key in rows:
            fail('key %s twice in the merged view' % key)
        rows[key] = (d['_sluice_seq'], {k: v for k, v in pairs if k not in META})
    return rows


def main():
    broker = lk.Broker(['%s:%d' % (TOPIC, PARTS)])
    members = []
    try:
        expect_path = os.path.join(WORK, 'expect.jsonl')
        gen = subprocess.run([SHUFFLE, '-b', broker.bootstrap, '--generate', str(RECORDS),
                              '--to', TOPIC, '--keys', str(KEYS), '--tables', '2',
                              '--random-partitions', '--seed', str(SEED), '--expect',
                              expect_path], capture_output=True)
        if gen.returncode != 0:
            fail('kafka-shuffle: exit %d: %s' % (gen.returncode, gen.stderr.decode()))
        want = {}
        with open(expect_path) as f:
            for line in f:
                e = json.loads(line)
                want[e['key']] = (e['seq'], e['data'])
        if not KEYS // 2 < len(want) < 2 * KEYS:
            fail('the generator left %d live keys of %d' % (len(want), 2 * KEYS))

        path = os.path.join(WORK, 'tables')
        a = Member('a', broker.bootstrap, path)
        b = Member('b', broker.bootstrap, path)
        members = [a, b]
        a.start()
        a.wait_for('three commits', lambda: len(a.commits()) >= 3)
        before_join = a.changes()
        if before_join >= RECORDS:
            fail('a merged all %d changes before b joined: the group was not tested'
                 % before_join)
        b.start()
        a.wait_for('revocation', lambda: ': revoked' in a.text())
        b.wait_for('a commit with rows', lambda: any(b.commits(since_start=True)))
        a_revoked = a.text().count(': revoked')
        # What A had in hand when asked to give its partitions up: the
        # point of the test is that it was something.
        first = [l for l in a.text().splitlines() if ': revocation: ' in l][0]
        held = int(first.split(', then ', 1)[1].split()[0])
        if 'a commit to wait for' not in first and held == 0:
            fail('a had nothing in hand at its revocation: %s' % first)
        log('a at its revocation: %s' % first.split(': revocation: ', 1)[1])
        log('a: %d of %d changes committed when b started; revoked %d partition(s); '
            'b: %d commits' % (before_join, RECORDS, a_revoked, len(b.commits())))
        b.stop()
        log('b: stopped with SIGTERM after %d commits, exit 0; started again' %
            len(b.commits()))
        b.start()
        a.wait_exit(180)
        b.wait_exit(180)

        got = table_rows(os.path.join(path, TOPIC))
        missing = [k for k in want if k not in got]
        extra = [k for k in got if k not in want]
        wrong = [k for k in want if k in got and got[k] != tuple(want[k])]
        if missing or extra or wrong:
            fail('the table is not the final state: %d keys missing (%s), %d extra (%s), '
                 '%d different (%s: %r, want %r)' % (
                     len(missing), missing[:3], len(extra), extra[:3], len(wrong), wrong[:1],
                     got.get(wrong[0]) if wrong else None,
                     want.get(wrong[0]) if wrong else None))
        tl = os.path.join(path, TOPIC, '.sluice', 'timeline')
        pending = [n for n in os.listdir(tl) if n.endswith(('.requested', '.inflight'))]
        if pending:
            fail('pending instants at rest: %s' % pending)
        log('ok: %d live rows equal the generated state (%d changes); a: %d commits, b: %d' %
            (len(got), RECORDS, len(a.commits()), len(b.commits())))
    finally:
        for m in members:
            m.kill_quietly()
        broker.stop()


if __name__ == '__main__':
    main()
