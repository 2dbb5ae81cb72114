"""live_snapshot.py: the initial snapshot of a 1M-row table, read while a
random workload writes to it, with sluice killed in the middle and with
parallel readers; then a backfill repairing a damaged copy.

Run by tests/live_snapshot.sh, which starts a throwaway MariaDB and
exports MDB_SOCK, MDB_PORT, BUILD and LIVE_DIR.

Each scenario has a database of its own with four tables: `big`
(1,000,000 rows in `killed`, a quarter of that in the others; BIGINT
key), `comp` (a composite VARCHAR+INT key),
`skey` (a VARCHAR key) and `nokey` (no key at all). A workload thread
updates, inserts, deletes and moves keys in all four while `sluice run`
(scan.startup.mode: initial, file sink) snapshots them and follows the
binlog. Scenarios:

  serial     one reader
  killed     two readers, SIGKILLed once the checkpoint holds snapshot
             progress (and again later), restarted each time
  parallel   four readers

When every table is read, the workload stops and the stream catches up.
Checks on the records:
  - snapshot rows: op +I, seq 0, "snapshot":true; change records: seq
    strictly increasing in file order (the file sink has each record
    once, a restart truncating it to the checkpoint);
  - applied in file order (snapshot rows upserted where they appear; for
    `nokey` the snapshot replaces the table's rows, as docs/SNAPSHOT.md
    says a consumer of a keyless table must), every table equals the
    source;
  - applied by sequence (stable), the keyed tables equal the source;
  - killed: the restarted run resumes after the key its checkpoint
    holds, not from the start.

Backfill: the `killed` scenario's applied copy is damaged (rows deleted
and altered), `sluice snapshot --tables` asks the running pipeline to
re-read `big` and `comp` while the workload runs again; the backfill rows'
sequence lies between the records around them, and merging every record
by highest sequence per key rebuilds the source.
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
from workload import Client, TestFailure, fail  # noqa: E402

SOCK = os.environ.get('MDB_SOCK', '')
PORT = os.environ.get('MDB_PORT', '')
WORK = os.environ.get('LIVE_DIR', '')
BUILD = os.environ.get('BUILD', 'build')
SLUICE = os.path.abspath(os.path.join(BUILD, 'sluice'))
# 1M rows in the killed scenario; a quarter of that under the sanitizers,
# whose run is about memory safety (the normal run is the one the 1M figure
# comes from). Not fewer: at 500k the normal build reads `big` in about
# 2 s, before the killed scenario's SIGKILLs can land inside the read. The
# serial and parallel scenarios read a quarter of ROWS: what they check
# (one reader, four readers, a renamed table) does not grow with the
# table, and the checks' Python time does.
ROWS = int(os.environ.get('LIVE_SNAPSHOT_ROWS') or
           (250000 if 'asan' in os.environ.get('BUILD', '') else 1000000))
T0 = time.time()


def log(msg):
    print('[%6.1fs] %s' % (time.time() - T0, msg), flush=True)


KEYS = {'big': ('id',), 'comp': ('region', 'n'), 'skey': ('k',), 'nokey': None,
        'late': ('id',)}
COLS = {'big': ('id', 'a', 'b', 'v'), 'comp': ('region', 'n', 'x'), 'skey': ('k', 'x'),
        'nokey': ('a', 'b'), 'late': ('id', 'x')}
BASE = ['big', 'comp', 'skey', 'nokey']
REGIONS = ['ap', 'eu', 'us', 'za']


def setup_db(root, db, rows=None):
    rows = rows or ROWS
    root.run('DROP DATABASE IF EXISTS %s; CREATE DATABASE %s; CREATE DATABASE IF NOT EXISTS seq' % (db, db))
    root.run('CREATE TABLE %s.big (id BIGINT PRIMARY KEY, a INT NOT NULL, b VARCHAR(40), '
             'v BIGINT NOT NULL) ENGINE=InnoDB' % db)
    root.run('CREATE TABLE %s.comp (region VARCHAR(8) NOT NULL, n INT NOT NULL, '
             'x VARCHAR(20), PRIMARY KEY (region, n)) ENGINE=InnoDB' % db)
    root.run('CREATE TABLE %s.skey (k VARCHAR(36) NOT NULL PRIMARY KEY, x INT) ENGINE=InnoDB'
             % db)
    root.run('CREATE TABLE %s.nokey (a INT, b VARCHAR(20)) ENGINE=InnoDB' % db)
    root.run("INSERT INTO %s.big SELECT seq, seq %% 1000, CONCAT('r', seq), 0 "
             "FROM seq.seq_1_to_%d" % (db, rows))
    for r in REGIONS:
        root.run("INSERT INTO %s.comp SELECT '%s', seq, CONCAT('c', seq) FROM seq.seq_1_to_8000"
                 % (db, r))
    root.run("INSERT INTO %s.skey SELECT MD5(seq), seq FROM seq.seq_1_to_20000" % db)
    root.run("INSERT INTO %s.nokey SELECT seq, CONCAT('n', seq) FROM seq.seq_1_to_300" % db)


class Workload(threading.Thread):
    """Random single-statement transactions and small multi-statement
    ones on the four tables, as fast as one connection goes."""

    def __init__(self, db, seed, nokey_every=400, deletes=True, rows=None):
        super().__init__(daemon=True)
        self.deletes, self.rows = deletes, rows or ROWS
        self.db, self.rng = db, random.Random(seed)
        self.stop = threading.Event()
        self.c = Client(SOCK, database=db)
        self.n = 0
        self.err = None
        self.nokey_every = nokey_every

    def stmt(self):
        s = self._stmt()
        if not self.deletes and (s.startswith('DELETE') or 'SET id =' in s):
            return 'DO 0'
        return s

    def _stmt(self):
        r = self.rng
        k = r.random()
        ROWS = self.rows
        i = r.randrange(1, int(ROWS * 1.05))
        if k < 0.45:
            return "UPDATE big SET a = a + 1, v = v + 1, b = CONCAT('u', v) WHERE id = %d" % i
        if k < 0.55:
            return 'DELETE FROM big WHERE id = %d' % i
        if k < 0.65:
            return ("INSERT INTO big VALUES (%d, %d, 'i', 1) ON DUPLICATE KEY UPDATE "
                    "v = v + 1, b = 'dup'" % (i, r.randrange(1000)))
        if k < 0.68:
            return 'UPDATE IGNORE big SET id = %d WHERE id = %d' % (
                r.randrange(ROWS + 100000, ROWS + 200000), i)
        if k < 0.80:
            return ("UPDATE comp SET x = CONCAT('w', n + %d) WHERE region = '%s' AND n = %d"
                    % (r.randrange(100), r.choice(REGIONS), r.randrange(1, 8400)))
        if k < 0.85:
            return ("INSERT INTO comp VALUES ('%s', %d, 'ins') ON DUPLICATE KEY UPDATE "
                    "x = 'again'" % (r.choice(REGIONS), r.randrange(1, 8400)))
        if k < 0.88:
            return "DELETE FROM comp WHERE region = '%s' AND n = %d" % (
                r.choice(REGIONS), r.randrange(1, 8400))
        if k < 0.94:
            return 'UPDATE skey SET x = x + 1 WHERE k = MD5(%d)' % r.randrange(1, 21000)
        if k < 0.97:
            return "INSERT IGNORE INTO skey VALUES (MD5(%d), 7)" % r.randrange(1, 21000)
        return 'DELETE FROM skey WHERE k = MD5(%d)' % r.randrange(1, 21000)

    def run(self):
        try:
            while not self.stop.is_set():
                self.n += 1
                if self.nokey_every and self.n % self.nokey_every == 0:
                    a = self.rng.randrange(1, 400)
                    self.c.run("INSERT INTO nokey VALUES (%d, 'w'); DELETE FROM nokey "
                               "WHERE a = %d LIMIT 1" % (a, a + 1))
                    continue
                if self.rng.random() < 0.2:
                    self.c.run('BEGIN; %s; %s; %s; COMMIT' % (self.stmt(), self.stmt(),
                                                              self.stmt()))
                else:
                    self.c.run(self.stmt())
        except Exception as e:  # reported by the main thread
            self.err = e

    def finish(self):
        self.stop.set()
        self.join()
        if self.err:
            raise self.err
        return self.n


class Pipeline:
    def __init__(self, name, db, server_id, readers, chunk):
        self.name, self.db = name, db
        self.dir = os.path.join(WORK, name)
        os.makedirs(self.dir)
        self.cfg = os.path.join(self.dir, 'sluice.yaml')
        self.log = os.path.join(self.dir, 'sluice.log')
        self.out = os.path.join(self.dir, 'out.jsonl')
        self.state = os.path.join(self.dir, 'state')
        self.proc = None
        with open(self.cfg, 'w') as f:
            f.write('''source:
  type: mariadb
  hostname: 127.0.0.1
  port: %s
  username: cdc
  password-file: %s
  server-id: %d
  tables: %s\\..*
  scan.startup.mode: initial
  scan.snapshot.parallelism: %d
  scan.snapshot.chunk.size: %d
  heartbeat.interval: 1s
sink:
  type: file
  path: "%s"
pipeline:
  name: %s
  state-dir: %s
  checkpoint.interval: 200ms
''' % (PORT, os.path.join(WORK, 'pw'), server_id, db, readers, chunk, self.out, name,
       self.state))

    def start(self):
        with open(self.log, 'ab') as lf:
            lf.write(b'--- test: start\n')
        err = open(self.log, 'ab')
        self.proc = subprocess.Popen([SLUICE, 'run', '-c', self.cfg], stdout=subprocess.DEVNULL,
                                     stderr=err, env=dict(os.environ, SLUICE_LOG='info'))
        err.close()
        with open(os.path.join(WORK, 'sluice.pids'), 'a') as f:
            f.write('%d\n' % self.proc.pid)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if not self.alive():
            fail('%s: sluice exited (%s):\n%s' % (self.name, self.proc.returncode,
                                                  self.tail()))

    def tail(self, n=25):
        with open(self.log, 'rb') as f:
            return '\n'.join('    ' + l for l in
                             f.read().decode('utf-8', 'replace').splitlines()[-n:])

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail('%s: did not stop on SIGTERM' % self.name)
        if rc != 0:
            fail('%s: exit %d after SIGTERM:\n%s' % (self.name, rc, self.tail()))

    def checkpoint(self):
        try:
            with open(os.path.join(self.state, self.name + '.offsets.json')) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def status(self):
        try:
            with open(os.path.join(self.state, self.name + '.status.json')) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def wait(self, what, cond, secs):
        end = time.time() + secs
        while time.time() < end:
            self.check_alive()
            if cond():
                return
            time.sleep(0.1)
        fail('%s: %s did not happen within %ds:\n%s' % (self.name, what, secs, self.tail()))

    def snapshot_done(self):
        st = self.status()
        s = st and st.get('snapshot')
        return bool(s) and s['tables'] > 0 and s['tables_done'] == s['tables']

    def caught_up(self, root):
        row = root.run('SHOW MASTER STATUS')[0]
        cp = self.checkpoint()
        return cp and cp['binlog']['file'] == row[0] and cp['binlog']['pos'] == int(row[1])


def records(path):
    """(headers, value) of every line of a file sink with headers."""
    out = []
    with open(path, 'rb') as f:
        for n, line in enumerate(f):
            try:
                o = json.loads(line)
            except ValueError:
                fail('%s line %d: not JSON: %r' % (path, n + 1, line[:200]))
            h, v = o['headers'], o['value']
            if h['sequence'] != str(v['seq']) or h['op'] != v['op'] or h['table'] != v['table']:
                fail('%s line %d: headers disagree with the value' % (path, n + 1))
            out.append(v)
    return out


def key_of(table, data):
    return tuple(str(data[c]) for c in KEYS[table])


def row_of(table, data):
    return tuple('NULL' if data.get(c) is None else str(data[c]) for c in COLS[table])


def source_rows(root, db, table):
    rows = root.run('SELECT %s FROM %s.%s' % (','.join(COLS[table]), db, table))
    return [tuple(r) for r in rows]


def check_records(pipe, recs):
    """Form and order; returns counts."""
    last, snap, changes = 0, {}, 0
    for i, v in enumerate(recs):
        if v.get('snapshot'):
            if v['op'] != '+I' or v['seq'] != 0 or 'gtid' in v:
                fail('%s record %d: a snapshot row %r' % (pipe.name, i, v))
            snap[v['table']] = snap.get(v['table'], 0) + 1
            continue
        if v['seq'] <= last:
            fail('%s record %d: sequence %d after %d' % (pipe.name, i, v['seq'], last))
        last = v['seq']
        changes += 1
    return snap, changes


def apply(recs, by_seq):
    """The tables the records build, applied in file order or by sequence."""
    order = sorted(range(len(recs)), key=lambda i: recs[i]['seq']) if by_seq else \
        range(len(recs))
    keyed = {t: {} for t in KEYS if KEYS[t]}
    nokey, in_snap = {}, False
    for i in order:
        v = recs[i]
        t, d, op = v['table'], v['data'], v['op']
        if KEYS[t] is None:
            r = row_of(t, d)
            if v.get('snapshot'):
                if not in_snap:
                    nokey = {}      # the snapshot replaces the table
                in_snap = True
            else:
                in_snap = False
            if op in ('+I', '+U'):
                nokey[r] = nokey.get(r, 0) + 1
            elif nokey.get(r):
                nokey[r] -= 1
            continue
        in_snap = False
        if op in ('+I', '+U'):
            keyed[t][key_of(t, d)] = row_of(t, d)
        else:
            keyed[t].pop(key_of(t, d), None)
    return keyed, nokey


def compare(pipe, root, keyed, nokey, what, tables):
    for t in tables:
        src = source_rows(root, pipe.db, t)
        if KEYS[t] is None:
            want = {}
            for r in src:
                want[r] = want.get(r, 0) + 1
            got = {r: n for r, n in nokey.items() if n}
            if got != want:
                miss = [r for r in want if got.get(r) != want[r]][:3]
                fail('%s, %s: table nokey differs from the source (%d rows vs %d): e.g. %r'
                     % (pipe.name, what, sum(got.values()), len(src), miss))
            continue
        want = {tuple(r[:len(KEYS[t])]): tuple(r) for r in src}
        # the source's key text is the record's: numbers and plain strings
        got = keyed[t]
        if got != want:
            only_src = [k for k in want if k not in got][:3]
            only_copy = [k for k in got if k not in want][:3]
            diff = [k for k in want if k in got and got[k] != want[k]][:3]
            fail('%s, %s: table %s differs from the source (%d rows vs %d): missing %r, '
                 'extra %r, different %r' % (pipe.name, what, t, len(got), len(want),
                                             only_src, only_copy,
                                             [(want[k], got[k]) for k in diff]))


def scenario(root, name, db, server_id, readers, kills, seed, late=False, rows=None):
    rows = rows or ROWS
    log('%s: filling %s (%d rows in big)' % (name, db, rows))
    setup_db(root, db, rows)
    wl = Workload(db, seed, rows=rows)
    wl.start()
    time.sleep(0.5)
    pipe = Pipeline(name, db, server_id, readers, 20000)
    pipe.start()
    resumes = []
    for k in range(kills):
        # once the checkpoint holds progress of big's snapshot, beyond what
        # it held at the kill before
        last = resumes[-1][1] if resumes else 0

        def progressed():
            cp = pipe.checkpoint()
            for t in (cp or {}).get('snapshot', {}).get('tables', []):
                if t['table'] == 'big' and t.get('after') and int(t['after'][0]) > last \
                        and t['rows'] > rows // 20:
                    return True
            return not [t for t in (cp or {}).get('snapshot', {}).get('tables', [])
                        if t['table'] == 'big'] and k > 0
        pipe.wait('snapshot progress in the checkpoint', progressed, 120)
        time.sleep(random.Random(seed + k).uniform(0, 0.4))
        pipe.kill()
        cp = pipe.checkpoint()
        big = [t for t in cp['snapshot']['tables'] if t['table'] == 'big']
        if big:
            after = big[0]['after']
            resumes.append((cp['sink']['offset'], int(after[0])))
            log('%s: SIGKILL %d, checkpoint: big read up to id %s, sink offset %d'
                % (name, k + 1, after[0], cp['sink']['offset']))
        else:
            log('%s: SIGKILL %d, checkpoint: big read in full' % (name, k + 1))
        pipe.start()
    pipe.wait('the snapshot to finish', pipe.snapshot_done, 300)
    st = pipe.status()['snapshot']
    log('%s: snapshot done: %d rows, %d left to the stream, %d chunks read again'
        % (name, st['rows'], st['left_to_stream'], st['rereads']))
    r = subprocess.run([SLUICE, 'snapshot', '-c', pipe.cfg, '--status'], capture_output=True,
                       text=True)
    try:
        shown = json.loads(r.stdout)['snapshot']
    except (ValueError, KeyError, TypeError):
        fail('%s: sluice snapshot --status printed %r (exit %d)' % (name, r.stdout[:300],
                                                                   r.returncode))
    if shown['tables'] != shown['tables_done'] or shown['rows'] < rows:
        fail('%s: sluice snapshot --status: %r' % (name, shown))
    tables = list(BASE)
    if late:
        # a table filled where it is not captured, then renamed into the
        # captured database: its rows are only in the snapshot
        root.run('CREATE DATABASE %s_side; CREATE TABLE %s_side.late (id INT PRIMARY KEY, '
                 'x VARCHAR(10)); INSERT INTO %s_side.late SELECT seq, CONCAT(\'l\', seq) '
                 'FROM seq.seq_1_to_5000; RENAME TABLE %s_side.late TO %s.late'
                 % (db, db, db, db, db))
        root.run('UPDATE %s.late SET x = \'moved\' WHERE id <= 10' % db)
        pipe.wait('the renamed table to be snapshotted',
                  lambda: 'snapshot of %s.late (initial) done' % db in pipe.tail(200), 60)
        tables.append('late')
    time.sleep(1)
    n = wl.finish()
    pipe.wait('catching up', lambda: pipe.caught_up(root), 120)
    pipe.stop()
    recs = records(pipe.out)
    snap, changes = check_records(pipe, recs)
    log('%s: %d workload statements; %d records: %d changes, snapshot rows %s'
        % (name, n, len(recs), changes, snap))
    if snap.get('big', 0) < rows * 0.9:
        fail('%s: only %d snapshot rows of big' % (name, snap.get('big', 0)))
    # resumed, not restarted: what the run after a kill emitted of big starts
    # after the key its checkpoint held
    if kills and not resumes:
        fail('%s: no kill came while big was being read' % name)
    for off, after in resumes:
        with open(pipe.out, 'rb') as f:
            f.seek(off)
            for line in f:
                v = json.loads(line)['value']
                if v.get('snapshot') and v['table'] == 'big':
                    if int(v['data']['id']) <= after:
                        fail('%s: after the kill, big was read again from id %s (the '
                             'checkpoint said up to %d)' % (name, v['data']['id'], after))
                    break
    if late:
        # every row read by the snapshot, but those the UPDATE right after
        # the RENAME changed while their chunk was read (the stream has them)
        ids = set(v['data']['id'] for v in recs if v['table'] == 'late' and v.get('snapshot'))
        moved = set(v['data']['id'] for v in recs if v['table'] == 'late' and v['op'] == '+U')
        if ids | moved != set(range(1, 5001)) or len(ids) < 4990:
            fail('%s: the renamed table: %d snapshot rows, %d changed; missing %r'
                 % (name, len(ids), len(moved), sorted(set(range(1, 5001)) - ids - moved)[:5]))
    keyed, nokey = apply(recs, False)
    compare(pipe, root, keyed, nokey, 'applied in order', tables)
    keyed, _ = apply(recs, True)
    compare(pipe, root, keyed, nokey, 'applied by sequence', [t for t in tables if KEYS[t]])
    log('%s: in order and by sequence, the records rebuild the source' % name)
    return pipe, recs


def merge(best, recs):
    """Per key the record with the highest sequence (keyed tables)."""
    for v in recs:
        t = v['table']
        if KEYS[t] is None:
            continue
        k = (t, key_of(t, v['data']))
        if k not in best or v['seq'] >= best[k]['seq']:
            best[k] = v
    return best


def merged_tables(best):
    keyed = {t: {} for t in KEYS if KEYS[t]}
    for (t, k), v in best.items():
        if v['op'] in ('+I', '+U'):
            keyed[t][k] = row_of(t, v['data'])
    return keyed


def backfill(root, pipe, recs, seed):
    """Damage a merged copy, ask for a backfill while writing, merge."""
    best = merge({}, recs)
    rng = random.Random(seed)
    keys = sorted(k for k, v in best.items() if v['op'] in ('+I', '+U'))
    damaged = set(rng.sample(keys, 2000))
    for i, k in enumerate(sorted(damaged)):
        if i % 2:
            del best[k]
        else:
            v = dict(best[k])
            v['data'] = dict(v['data'])
            col = COLS[k[0]][-1]
            v['data'][col] = 'damaged'
            best[k] = v
    log('backfill: copy damaged (%d rows deleted, %d altered)' % (1000, 1000))
    size = os.path.getsize(pipe.out)
    wl = Workload(pipe.db, seed + 1, nokey_every=0)
    wl.start()
    pipe.start()
    time.sleep(1)
    # --wait: returns once the pipeline has done it, printing the status
    r = subprocess.run([SLUICE, 'snapshot', '-c', pipe.cfg, '--wait', '--tables',
                        '%s\\.big,%s\\.comp' % (pipe.db, pipe.db)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not r.stdout.rstrip().endswith('done'):
        fail('sluice snapshot --wait: exit %d: %s %s' % (r.returncode, r.stdout, r.stderr))
    reqdir = os.path.join(pipe.state, pipe.name + '.requests')
    if [f for f in os.listdir(reqdir) if f.endswith('.json')]:
        fail('sluice snapshot --wait returned with the request still there')
    time.sleep(0.5)
    wl.finish()
    pipe.wait('catching up', lambda: pipe.caught_up(root), 120)
    pipe.stop()
    if [f for f in os.listdir(reqdir) if f.endswith('.rejected')]:
        fail('the backfill request was rejected:\n' + pipe.tail())
    with open(pipe.out, 'rb') as f:
        f.seek(size)
        later = [json.loads(l)['value'] for l in f]
    bf = [v for v in later if v.get('snapshot')]
    if len(bf) < ROWS * 0.9:
        fail('backfill: only %d rows' % len(bf))
    # a backfill row's sequence lies between the change records around it
    prev = 0
    for i, v in enumerate(later):
        if v.get('snapshot'):
            if v['seq'] < prev:
                fail('backfill row %d: sequence %d below the change before it (%d)'
                     % (i, v['seq'], prev))
        else:
            if v['seq'] <= prev:
                fail('record %d: sequence %d not above %d' % (i, v['seq'], prev))
            prev = v['seq']
    nxt = None
    for v in reversed(later):
        if v.get('snapshot'):
            if nxt is not None and v['seq'] >= nxt:
                fail('a backfill row (sequence %d) is not below the change after it (%d)'
                     % (v['seq'], nxt))
        else:
            nxt = v['seq']
    compare(pipe, root, merged_tables(merge(best, later)), {},
            'damaged, then backfilled and merged by sequence', ['big', 'comp'])
    log('backfill: %d rows; merged by highest sequence the damaged copy equals the source '
        '(%d records after it)' % (len(bf), len(later)))

    # a key range, the pipeline stopped: taken when it starts
    size = os.path.getsize(pipe.out)
    r = subprocess.run([SLUICE, 'snapshot', '-c', pipe.cfg, pipe.db + '-not-the-source',
                        '--tables', 'x'], capture_output=True, text=True)
    if r.returncode == 0 or 'not' not in r.stderr:
        fail('sluice snapshot with another source name: exit %d: %s' % (r.returncode,
                                                                         r.stderr))
    r = subprocess.run([SLUICE, 'snapshot', '-c', pipe.cfg, '--tables', '%s\\.comp' % pipe.db,
                        '--where', "region = 'eu' AND n BETWEEN 100 AND 299"],
                       capture_output=True, text=True)
    if r.returncode != 0 or 'not running' not in r.stdout:
        fail('sluice snapshot --where: exit %d: %s %s' % (r.returncode, r.stdout, r.stderr))
    pipe.start()
    pipe.wait('the key-range backfill', lambda: not [
        f for f in os.listdir(reqdir) if f.endswith('.json')], 60)
    pipe.wait('catching up', lambda: pipe.caught_up(root), 60)
    pipe.stop()
    with open(pipe.out, 'rb') as f:
        f.seek(size)
        rows = [json.loads(l)['value'] for l in f]
    got = sorted((v['data']['region'], v['data']['n']) for v in rows if v.get('snapshot'))
    want = sorted((r[0], int(r[1])) for r in root.run(
        "SELECT region, n FROM %s.comp WHERE region = 'eu' AND n BETWEEN 100 AND 299" % pipe.db))
    if got != want:
        fail('backfill --where: %d rows, the source has %d in the range' % (len(got), len(want)))
    log('backfill --where: exactly the %d rows of the key range' % len(got))


def purged(root, seed):
    """when_needed: the stored position purged while sluice was stopped."""
    db, rows = 'snap4', 20000
    log('purged: filling %s' % db)
    setup_db(root, db, rows)
    pipe = Pipeline('purged', db, 6104, 2, 5000)
    with open(pipe.cfg) as f:
        cfg = f.read().replace('scan.startup.mode: initial', 'scan.startup.mode: when_needed')
    with open(pipe.cfg, 'w') as f:
        f.write(cfg)
    pipe.start()
    pipe.wait('the snapshot to finish', pipe.snapshot_done, 120)
    pipe.wait('catching up', lambda: pipe.caught_up(root), 60)
    pipe.stop()
    # changes sluice never sees (no deletes: a backfill cannot tell a
    # consumer about rows deleted in the gap, docs/SNAPSHOT.md)
    wl = Workload(db, seed, nokey_every=0, deletes=False, rows=rows)
    wl.start()
    time.sleep(1.5)
    wl.finish()
    # the server keeps a file until its binlog checkpoint has passed it: a
    # purge can leave it (with a warning), so until only one is left
    for _ in range(100):
        cur = root.run('FLUSH BINARY LOGS; SHOW MASTER STATUS')[0][0]
        root.run("PURGE BINARY LOGS TO '%s'" % cur)
        if len(root.run('SHOW BINARY LOGS')) == 1:
            break
        time.sleep(0.2)
    else:
        fail('purged: PURGE BINARY LOGS keeps leaving files')
    size = os.path.getsize(pipe.out)
    pipe.start()
    # writes from the moment sluice has its new start (earlier ones would
    # be in the gap, deletes included)
    pipe.wait('the backfill to be queued', lambda: 'backfill of snap4.skey queued' in
              pipe.tail(100), 60)
    wl = Workload(db, seed + 1, nokey_every=0, rows=rows)
    wl.start()
    pipe.wait('the backfill after the purge',
              lambda: 'when_needed' in pipe.tail(100) and pipe.snapshot_done(), 120)
    time.sleep(0.5)
    wl.finish()
    pipe.wait('catching up', lambda: pipe.caught_up(root), 60)
    pipe.stop()
    recs = records(pipe.out)
    with open(pipe.out, 'rb') as f:
        f.seek(size)
        bf = [v for v in (json.loads(l)['value'] for l in f) if v.get('snapshot')]
    if len(bf) < rows * 0.9 or any(v['seq'] == 0 for v in bf):
        fail('purged: %d backfill rows after the purge, sequences %r..'
             % (len(bf), [v['seq'] for v in bf[:3]]))
    keyed = merged_tables(merge({}, recs))
    compare(pipe, root, keyed, {}, 'purged, backfilled, merged by sequence',
            ['big', 'comp', 'skey'])
    log('purged: %d backfill rows; merged by sequence the records rebuild the source' % len(bf))


def kafka(root, seed):
    """Into the local broker: the keyed topic, merged per key by (sequence,
    offset), rebuilds the source, through a SIGKILL."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from live_kafka import Broker, read_topic
    db, rows = 'snap5', min(ROWS, 100000)
    log('kafka: filling %s' % db)
    setup_db(root, db, rows)
    broker = Broker(['snap.rows:4'])
    try:
        wl = Workload(db, seed, rows=rows)
        wl.start()
        pipe = Pipeline('kafka', db, 6105, 2, 10000)
        with open(pipe.cfg) as f:
            cfg = f.read()
        cfg = cfg.replace('  type: file\n  path: "%s"\n' % pipe.out,
                          '  type: kafka\n  bootstrap.servers: %s\n  topic: snap.rows\n'
                          '  heartbeat.interval: 0s\n' % broker.bootstrap)
        with open(pipe.cfg, 'w') as f:
            f.write(cfg)
        pipe.start()

        def progressed():
            # big partly read, or (a fast machine) read in full already: the
            # kill then lands in the stream, which must converge as well
            sn = ((pipe.checkpoint() or {}).get('snapshot') or {})
            return any(t['table'] == 'big' and t.get('after')
                       for t in sn.get('tables', [])) or \
                '%s.big' % db in sn.get('done', [])
        pipe.wait('snapshot progress in the checkpoint', progressed, 120)
        pipe.kill()
        pipe.start()
        pipe.wait('the snapshot to finish', pipe.snapshot_done, 300)
        time.sleep(0.5)
        wl.finish()
        pipe.wait('catching up', lambda: pipe.caught_up(root), 120)
        pipe.stop()
        recs = read_topic(broker.bootstrap, 'snap.rows', 'kafka', quiet=True)
    finally:
        broker.stop()
    best, snap = {}, 0
    for r in recs:
        h = dict(r['headers'])
        v = json.loads(r['raw'])
        if h.get('sequence') != str(v['seq']) or h.get('type') != 'data':
            fail('kafka: headers %r for a record of sequence %s' % (h, v['seq']))
        t = v['table']
        if KEYS[t] is None:
            continue
        key = json.loads(r['key'])
        if key != [db, t] + [v['data'][c] for c in KEYS[t]]:
            fail('kafka: key %r for %r' % (key, v['data']))
        snap += bool(v.get('snapshot'))
        k = (t, key_of(t, v['data']))
        o = (v['seq'], r['offset'])
        if k not in best or o >= best[k][0]:
            best[k] = (o, v)
    keyed = merged_tables({k: v for k, (o, v) in best.items()})
    compare(pipe, root, keyed, {}, 'Kafka, merged per key by sequence and offset',
            ['big', 'comp', 'skey'])
    log('kafka: %d records (%d snapshot rows), through a SIGKILL; merged per key they '
        'rebuild the source' % (len(recs), snap))


def main():
    if not (SOCK and PORT and WORK):
        print('MDB_SOCK, MDB_PORT and LIVE_DIR must be set (run tests/live_snapshot.sh)')
        return 2
    seed = int(os.environ.get('SEED') or random.SystemRandom().randrange(1, 1 << 31))
    log('seed %d (replay: SEED=%d make test T=live_snapshot)' % (seed, seed))
    root = Client(SOCK)
    root.run("CREATE USER cdc@'%' IDENTIFIED BY 'cdc-pw'; GRANT REPLICATION SLAVE, "
             "BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO cdc@'%'")
    with open(os.path.join(WORK, 'pw'), 'w') as f:
        f.write('cdc-pw\n')
    only = os.environ.get('LIVE_SNAPSHOT_ONLY', '')
    try:
        if not only or 'serial' in only:
            scenario(root, 'serial', 'snap1', 6101, 1, 0, seed, late=True, rows=ROWS // 4)
        if not only or 'killed' in only:
            pipe, recs = scenario(root, 'killed', 'snap2', 6102, 2, 2, seed + 10)
            if not only or 'backfill' in only:
                backfill(root, pipe, recs, seed + 20)
            del recs
        if not only or 'parallel' in only:
            scenario(root, 'parallel', 'snap3', 6103, 4, 0, seed + 30, rows=ROWS // 4)
        if not only or 'kafka' in only:
            kafka(root, seed + 50)
        if not only or 'purged' in only:
            purged(root, seed + 40)
    except TestFailure as e:
        print('FAIL: %s' % e)
        return 1
    log('all scenarios passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
