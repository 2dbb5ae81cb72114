#!/usr/bin/env python3
"""live_kafka.py: `sluice run` into Kafka through broker faults and SIGKILLs;
the topics, read back and merged per key by sequence, rebuild the source.

Run by tests/live_kafka.sh, which starts a throwaway MariaDB and exports
MDB_SOCK, MDB_PORT, MDB_DATADIR, BUILD and LIVE_DIR. The broker is
build/sluice-broker (librdkafka's mock cluster: in memory, non-durable, for
tests), three brokers, started here with a control FIFO.

Two pipelines follow the server from its first binlog while the seeded
random workload of tests/lib/workload.py (every column type, PK changes,
NULLs, large transactions, DDL) runs for LIVE_KAFKA_SECONDS (default 20):

  alo  delivery at-least-once; a rule routes every table of the database
       to one topic of 8 partitions (lk.rows), merging them like shards.
  eos  delivery exactly-once (Kafka transactions), topic eos.rows.

Meanwhile the broker is made to fail: Produce requests answered with
NOT_LEADER_FOR_PARTITION and REQUEST_TIMED_OUT, leaders moved, a broker
taken down and brought back. Both pipelines are SIGKILLed at random
moments and started again, and once the eos pipeline also loses its local
checkpoint file, so that it must resume from the checkpoint it committed
to Kafka.

The checkpoint is never ahead of what Kafka acknowledged: every Produce
request is made to fail for a while (a stall); the topic is read to its end
(everything acknowledged before the stall), and while the stall lasts the
stored checkpoint of alo is read every 100 ms: its sequence must never
pass the highest sequence in the topic, though the workload goes on and
sluice keeps reading. alo is then SIGKILLed, the stall lifted, and alo
started again.

Checks, for each topic read back with `sluice tail` at the end:
  - every partition still starts at offset 0 (the mock keeps a bounded
    amount per partition; a test that lost records to that proves nothing)
  - every header is present and agrees with the value (sequence, op, db,
    table, gtid, source, type); the key is ["db","table",pk...]
  - one record per sequence once repeats are dropped, every repeat
    byte-identical; equal to `sluice decode` of the binlog (nothing lost)
  - keeping per key the record with the highest sequence and applying
    those to an empty copy (each DDL at its place) gives tables equal to
    the source.
  - sluice tail and kcat (a third-party client) read the same records.

The mock cluster does not hide aborted transactions from read_committed
consumers, so the eos topic shows the records of transactions a SIGKILL
aborted too: here it is checked like alo (nothing lost, repeats identical,
converges), and the exactly-once property itself needs a real broker.

LIVE_KAFKA_FAULTS=a,b runs only the named faults of the plan (e.g. "stall");
LIVE_KAFKA_LOG=debug sets SLUICE_LOG for the pipelines.
"""

import json
import os
import queue
import random
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
DB = 'kfk'
WORK_SECONDS = float(os.environ.get('LIVE_KAFKA_SECONDS') or 20)
PACE = 0.03
STALL_SECONDS = 3.0


def log(msg):
    print(msg, flush=True)


class Broker:
    """build/sluice-broker with its control FIFO; cmd() waits for the answer."""

    def __init__(self, topics):
        self.ctl = os.path.join(WORK, 'broker.ctl')
        os.mkfifo(self.ctl)
        args = [BROKER, '--brokers', '3', '--control', self.ctl]
        for t in topics:
            args += ['--topic', t]
        self.err = open(os.path.join(WORK, 'broker.log'), 'wb')
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.err)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        first = self.lines.get(timeout=30)
        if not first.startswith('bootstrap.servers='):
            fail('sluice-broker said %r' % first)
        self.bootstrap = first.split('=', 1)[1]

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.decode().rstrip('\n'))

    def cmd(self, line):
        with open(self.ctl, 'w') as f:
            f.write(line + '\n')
        ans = self.lines.get(timeout=30)
        if ans != 'ok':
            fail('sluice-broker: %s: %s' % (line, ans))

    def stop(self):
        self.p.terminate()
        self.p.wait(10)
        self.err.close()


class Pipeline:
    def __init__(self, name, server_id, topic, delivery, bootstrap):
        self.name, self.topic = name, topic
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir)
        self.cfg = os.path.join(self.dir, 'sluice.yaml')
        self.log = os.path.join(self.dir, 'sluice.log')
        self.state = os.path.join(self.dir, 'state', name + '.offsets.json')
        self.proc = None
        self.runs = self.kills = self.exits = 0
        with open(self.cfg, 'w') as f:
            f.write('''source:
  type: mariadb
  name: %s
  hostname: 127.0.0.1
  port: %s
  username: cdc
  password-file: %s
  server-id: %d
  scan.startup.mode: earliest-offset
  heartbeat.interval: 1s
  connect.backoff.max: 1s
sink:
  type: kafka
  bootstrap.servers: %s
  delivery: %s
  heartbeat.interval: 2s
  linger: 2ms
  max-inflight-records: 20000
route:
  - database: %s
    table: .*
    topic: %s
pipeline:
  name: %s
  state-dir: %s
  checkpoint.interval: 200ms
''' % (name, PORT, os.path.join(WORK, 'pw'), server_id, bootstrap, delivery, DB, topic, name,
       os.path.join(self.dir, 'state')))

    def start(self):
        self.runs += 1
        with open(self.log, 'ab') as lf:
            lf.write(b'--- run %d\n' % self.runs)
            lf.flush()
            self.proc = subprocess.Popen([SLUICE, 'run', '-c', self.cfg], stdout=lf, stderr=lf,
                                         env=dict(os.environ, SLUICE_LOG=os.environ.get('LIVE_KAFKA_LOG', 'info')))
        with open(os.path.join(WORK, 'sluice.pids'), 'a') as f:
            f.write('%d\n' % self.proc.pid)

    def alive(self):
        return self.proc and self.proc.poll() is None

    def ensure(self):
        """A run that ended by itself (a fatal Kafka error in a transaction
        ends the process: its supervisor starts it again) is restarted."""
        if self.proc and self.proc.poll() is not None:
            self.exits += 1
            self.start()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(10)
            self.kills += 1

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(60)
            except subprocess.TimeoutExpired:
                fail('%s: SIGTERM did not stop sluice in 60 s' % self.name)
            if rc != 0:
                fail('%s: exit %d after SIGTERM:\n%s' % (self.name, rc, self.tail()))

    def tail(self, n=20):
        with open(self.log, 'rb') as f:
            return b''.join(f.readlines()[-n:]).decode('utf-8', 'replace')

    def seq_stored(self):
        try:
            with open(self.state) as f:
                return int(json.load(f)['seq_last'])
        except (OSError, ValueError, KeyError):
            return 0


def read_topic(bootstrap, topic, what, quiet=False):
    """Every record of the topic, as dicts with the raw value bytes. With
    quiet (nothing writes to the topic any more), kcat must read exactly
    the same records; else the same ones up to where sluice tail stopped."""
    p = subprocess.run([SLUICE, 'tail', '-b', bootstrap, '--until-end', topic],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if p.returncode != 0:
        fail('sluice tail %s: exit %d: %s' % (topic, p.returncode, p.stderr.decode()[-2000:]))
    with open(os.path.join(WORK, 'read-%s.jsonl' % topic), 'wb') as f:
        f.write(p.stdout)
    # a third-party client must see the same records
    k = subprocess.run(['kcat', '-C', '-b', bootstrap, '-t', topic, '-e', '-q', '-f',
                        '%p %o\\n'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    if k.returncode != 0:
        fail('kcat %s: exit %d: %s' % (topic, k.returncode, k.stderr.decode()[-2000:]))
    theirs = set(tuple(map(int, ln.split())) for ln in k.stdout.decode().splitlines())
    ours = set()
    out = []
    for line in p.stdout.splitlines():
        k = line.find(b'},"value":')
        if k < 0 or not line.endswith(b'}'):
            fail('%s: a line of sluice tail without a value: %r' % (what, line[:300]))
        head = json.loads(line[:k + 1] + b'}')
        head['raw'] = line[k + len(b'},"value":'):-1]
        out.append(head)
        ours.add((head['partition'], head['offset']))
    if not quiet:
        # the topic may have grown since (heartbeats): compare what both read
        top = {}
        for part, off in ours:
            top[part] = max(top.get(part, -1), off)
        theirs = set((part, off) for part, off in theirs if off <= top.get(part, -1))
    if ours != theirs:
        fail('%s: sluice tail and kcat read different records: %d only in sluice tail (%s), %d '
             'only in kcat (%s)' % (what, len(ours - theirs), sorted(ours - theirs)[:5],
                                    len(theirs - ours), sorted(theirs - ours)[:5]))
    return out


def data_records(recs, what):
    """Check headers, keys and first offsets; return (Rec list, heartbeats)."""
    first = {}
    res, beats = [], 0
    for r in recs:
        part = r['partition']
        first[part] = min(first.get(part, r['offset']), r['offset'])
        h = r['headers']
        if h.get('type') == 'heartbeat':
            beats += 1
            continue
        if h.get('type') != 'data':
            fail('%s: record type %r at %s:%d' % (what, h.get('type'), part, r['offset']))
        v = json.loads(r['raw'], parse_float=ap.JFloat)
        seq = int(h['sequence'])
        if (seq != v['seq'] or h['op'] != v['op'] or h['db'] != v['db'] or
                h['table'] != v['table'] or h.get('gtid') != v.get('gtid')):
            fail('%s: headers %r disagree with the value %s' % (what, h, r['raw'][:300]))
        key = json.loads(r['key'])
        want = [v['db'], v['table']] + [v['data'][c] for c in v.get('pk', [])
                                          if c in v['data']]
        if v.get('pk') and all(c in v['data'] for c in v['pk']) and key != want:
            fail('%s: key %s, the record says %s' % (what, r['key'], want))
        res.append((r['key'], ap.Rec(seq, v.get('gtid'), r['raw'], r['raw'], v, 0)))
    late = {p: o for p, o in first.items() if o != 0}
    if late:
        fail('%s: partitions %s no longer start at offset 0: the broker dropped records '
             '(run less, or raise its limits)' % (what, late))
    return res, beats, len(first)


def check_topic(pipe, bootstrap, dec, ddls, wc):
    what = 'topic %s (%s)' % (pipe.topic, pipe.name)
    recs = read_topic(bootstrap, pipe.topic, what, quiet=True)
    data, beats, parts = data_records(recs, what)
    by_seq, repeats = {}, 0
    for key, r in data:
        old = by_seq.get(r.seq)
        if old is None:
            by_seq[r.seq] = (key, r)
            continue
        repeats += 1
        if old[1].value != r.value or old[0] != key:
            fail('%s: sequence %d twice with different contents:\n  %s\n  %s' % (
                what, r.seq, old[1].value[:300], r.value[:300]))
    live = [by_seq[s][1] for s in sorted(by_seq)]
    ap.compare_values(what + ' (repeats dropped)', live, 'sluice decode', dec, {})
    # the consumer's merge: per key, the change with the highest sequence
    last = {}
    for key, r in (by_seq[s] for s in sorted(by_seq)):
        last[key] = r
    merged = sorted(last.values(), key=lambda r: r.seq)
    copy = DB + '_' + pipe.name
    a = ap.Applier(wc, DB, copy)
    a.apply(merged, ddls)
    tables = ap.compare_dbs(wc, DB, copy, exact_json=False)
    log('%s: %d records on %d partitions (%d heartbeats, %d repeats dropped) equal sluice '
        'decode; %d keys merged by highest sequence rebuild %d tables (%d rows) equal to the '
        'source' % (what, len(recs), parts, beats, repeats, len(last), len(tables),
                    sum(n for n, _ in tables.values())))
    return repeats


def stall(broker, alo, eos, bootstrap):
    """Produce fails everywhere: the checkpoint must stay within what the
    topic holds while the stream goes on."""
    broker.cmd('errors Produce 10000 NOT_ENOUGH_REPLICAS')
    time.sleep(0.5)
    before = alo.seq_stored()
    recs = read_topic(bootstrap, alo.topic, 'stall')
    acked = max([int(r['headers']['sequence']) for r in recs
                 if r['headers'].get('type') == 'data'] or [0])
    samples, worst = 0, 0
    t_end = time.time() + STALL_SECONDS
    while time.time() < t_end:
        s = alo.seq_stored()
        samples += 1
        worst = max(worst, s)
        if s > acked:
            fail('stall: the stored checkpoint reached sequence %d, but the topic holds '
                 'nothing after %d: the checkpoint is ahead of what Kafka acknowledged' % (
                     s, acked))
        # A run that stops by itself (an acknowledgement it cannot verify)
        # is started again, as its supervisor would; the check goes on.
        alo.ensure()
        time.sleep(0.1)
    alo.kill()
    broker.cmd('clear Produce')
    alo.start()
    eos.ensure()
    return before, acked, worst, samples


def main():
    if not (SOCK and PORT and DATADIR and WORK):
        print('MDB_SOCK, MDB_PORT, MDB_DATADIR and LIVE_DIR must be set (run tests/live_kafka.sh)')
        return 2
    seed = int(os.environ.get('SEED') or random.SystemRandom().randrange(1, 1 << 31))
    log('seed %d (replay: SEED=%d make test T=live_kafka)' % (seed, seed))
    rng = random.Random(seed)
    root = Client(SOCK)
    root.run("CREATE USER cdc@'%' IDENTIFIED BY 'cdc-pw'; GRANT REPLICATION SLAVE, "
             "BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO cdc@'%'")
    with open(os.path.join(WORK, 'pw'), 'w') as f:
        f.write('cdc-pw\n')

    broker = Broker(['lk.rows:8', 'eos.rows:8', 'sluice.offsets:1'])
    alo = Pipeline('alo', 5501, 'lk.rows', 'at-least-once', broker.bootstrap)
    eos = Pipeline('eos', 5502, 'eos.rows', 'exactly-once', broker.bootstrap)
    pipes = [alo, eos]
    wc = Client(SOCK)
    wl = Workload(wc, DB, seed, big_every=120, ddl_every=80)
    faults = []
    try:
        wl.setup()
        for p in pipes:
            p.start()
        plan = [(2.0, 'errors Produce 40 NOT_LEADER_FOR_PARTITION'),
                (4.0, 'leaders'),
                (6.0, 'down 2'), (8.5, 'up 2'),
                (10.0, 'errors Produce 40 REQUEST_TIMED_OUT'),
                (11.0, 'lose-eos-checkpoint'),
                (12.0, 'stall')]
        only = os.environ.get('LIVE_KAFKA_FAULTS')
        if only is not None:
            plan = [(t, f) for t, f in plan if f in only.split(',')]
        kills_at = sorted(rng.uniform(1, WORK_SECONDS) for _ in range(8))
        t0 = time.time()
        stall_result = None
        while time.time() - t0 < WORK_SECONDS or plan:
            now = time.time() - t0
            while plan and plan[0][0] <= now:
                _, f = plan.pop(0)
                faults.append(f)
                if f == 'leaders':
                    for part in range(8):
                        broker.cmd('leader lk.rows %d %d' % (part, rng.randint(1, 3)))
                        broker.cmd('leader eos.rows %d %d' % (part, rng.randint(1, 3)))
                elif f == 'lose-eos-checkpoint':
                    eos.kill()
                    os.unlink(eos.state)
                    eos.start()
                elif f == 'stall':
                    stall_result = stall(broker, alo, eos, broker.bootstrap)
                else:
                    broker.cmd(f)
            while kills_at and kills_at[0] <= now:
                kills_at.pop(0)
                victim = rng.choice(pipes)
                victim.kill()
                victim.start()
            for p in pipes:
                p.ensure()
            wl.step()
            delay = t0 + wl.steps * PACE - time.time()
            if delay > 0:
                time.sleep(delay)
        binlogs = [os.path.join(DATADIR, r[0]) for r in root.run('SHOW BINARY LOGS')]
        end_seq = None
        # let both catch up, then stop them cleanly
        dec = ap.decode(SLUICE, binlogs)
        ap.check_sequences(dec, 'sluice decode')
        end_seq = dec[-1].seq
        deadline = time.time() + 60
        for p in pipes:
            while p.seq_stored() < end_seq:
                p.ensure()
                if time.time() > deadline:
                    fail('%s did not catch up (stored sequence %d, last %d):\n%s' % (
                        p.name, p.seq_stored(), end_seq, p.tail()))
                time.sleep(0.2)
            p.stop()
        ddls = list(wl.ddls)
        before, acked, worst, samples = stall_result or (0, 0, 0, 0)
        if stall_result and end_seq <= acked:
            fail('the workload made no change after the stall began: the stall proved nothing')
        for p in pipes:
            check_topic(p, broker.bootstrap, dec, ddls, wc)
        offsets = [r for r in read_topic(broker.bootstrap, 'sluice.offsets', 'offsets')
                   if r['key'] == 'eos']
        if not offsets:
            fail('exactly-once: no checkpoint was committed to sluice.offsets')
        with open(eos.log, 'rb') as f:
            resumed = f.read().count(b'the checkpoint committed to Kafka')
        if resumed == 0:
            fail('eos never resumed from the checkpoint committed to Kafka')
    finally:
        for p in pipes:
            if p.alive():
                p.proc.kill()
        broker.stop()
    log('workload: %.0f s, %d steps: %s; %d DDL' % (
        WORK_SECONDS, wl.steps, ', '.join('%s %d' % kv for kv in sorted(wl.stats.items())),
        len(ddls)))
    log('faults: %s' % ', '.join(faults))
    if stall_result:
        log('stall: checkpoint at sequence %d when Produce began to fail; the topic then held up to '
            '%d; %d samples over %.0f s, the highest %d, never past it; the binlog went on to '
            '%d' % (before, acked, samples, STALL_SECONDS, worst, end_seq))
    for p in pipes:
        log('%s: %d runs, %d SIGKILLs, %d exits restarted' % (p.name, p.runs, p.kills, p.exits))
    log('exactly-once: %d checkpoints committed to sluice.offsets; resumed from Kafka\'s %d '
        'time(s) (with the local file lost, and at every restart)' % (len(offsets), resumed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
