#!/usr/bin/env python3
"""live_kafka_routes.py: routing rules, heartbeats, headers as a third-party
client sees them, and isolation of a topic that cannot take writes.

Run by tests/live_kafka_routes.sh (a throwaway MariaDB; MDB_SOCK, MDB_PORT,
BUILD, LIVE_DIR exported), with build/sluice-broker as the cluster.

  config   a rule whose regex does not compile: `sluice config check` and
           `sluice run` exit 1 naming the rule, the key and the offset.
  shards   shop_1.order_1, shop_1.order_2 and shop_2.order_1 merge into
           ods.orders by one rule; every record keeps its physical db and
           table (headers, value, key), so rows with the same id stay
           apart; a table no rule matches takes sink.topic's template.
  kcat     `kcat -f '%h'` prints the headers exactly as docs/KAFKA.md
           says: sequence (decimal), gtid, db, table, op, source, type.
  beats    an idle table's topic (8 partitions) gets heartbeats on every
           partition, one per heartbeat.interval (1 s), carrying the
           sequence of the last whole transaction; a busy table gets none
           while it changes.
  isolate  every partition of iso.a led by broker 1, of iso.b by broker 2;
           broker 1 goes down: changes to iso.b keep arriving while those
           to iso.a wait, and the stored checkpoint stays before the first
           iso.a change; broker 1 comes back: everything arrives, the
           checkpoint moves to the end.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib'))
import live_kafka as lk  # noqa: E402
from workload import Client, fail  # noqa: E402

WORK = os.environ.get('LIVE_DIR', '')
PORT = os.environ.get('MDB_PORT', '')
SOCK = os.environ.get('MDB_SOCK', '')
SLUICE = lk.SLUICE
log = lk.log

CONFIG = '''source:
  type: mariadb
  name: src
  hostname: 127.0.0.1
  port: %s
  username: root
  server-id: 5601
  scan.startup.mode: earliest-offset
  heartbeat.interval: 1s
  tables: (shop_[0-9]|crm|idle|iso)\\..*
sink:
  type: kafka
  bootstrap.servers: %s
  heartbeat.interval: 1s
  linger: 1ms
route:
  - database: shop_[0-9]+
    table: order_[0-9]+
    topic: ods.orders
  - database: idle
    topic: hb.${table}
  - database: (iso)
    table: (a|b)
    topic: ${db.1}.${table.1}
%spipeline:
  name: routes
  state-dir: %s
  checkpoint.interval: 100ms
'''


def data(recs):
    return [r for r in recs if r['headers'].get('type') == 'data']


def check_config(bootstrap):
    bad = os.path.join(WORK, 'bad.yaml')
    with open(bad, 'w') as f:
        f.write(CONFIG % (PORT, bootstrap, '  - database: shop\n    table: order_[0-9\n'
                          '    topic: x\n', os.path.join(WORK, 'bad-state')))
    want = ('route[4].table: \'order_[0-9\' does not compile at offset 10: missing '
            'terminating ] for character class')
    for cmd in (['config', 'check', '-c', bad], ['run', '-c', bad]):
        p = subprocess.run([SLUICE] + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 1 or want not in p.stderr.decode():
            fail('sluice %s with a bad rule: exit %d, %r (want exit 1 and %r)' % (
                cmd[0], p.returncode, p.stderr.decode(), want))
    log('config: a bad rule is refused by config check and run: %s' % want)


def main():
    root = Client(SOCK)
    broker = lk.Broker(['ods.orders:8', 'hb.t:8', 'iso.a:4', 'iso.b:4'])
    boot = broker.bootstrap
    check_config(boot)
    for p in range(4):
        broker.cmd('leader iso.a %d 1' % p)
        broker.cmd('leader iso.b %d 2' % p)
    root.run('CREATE DATABASE shop_1; CREATE DATABASE shop_2; CREATE DATABASE crm; '
             'CREATE DATABASE idle; CREATE DATABASE iso')
    for t in ('shop_1.order_1', 'shop_1.order_2', 'shop_2.order_1'):
        root.run('CREATE TABLE %s (id INT PRIMARY KEY, total DECIMAL(8,2))' % t)
    root.run('CREATE TABLE crm.customer (id INT PRIMARY KEY, name VARCHAR(20)); '
             'CREATE TABLE idle.t (id INT PRIMARY KEY); INSERT INTO idle.t VALUES (1); '
             'CREATE TABLE iso.a (id INT PRIMARY KEY); CREATE TABLE iso.b (id INT PRIMARY KEY)')
    cfg = os.path.join(WORK, 'routes.yaml')
    state = os.path.join(WORK, 'state')
    with open(cfg, 'w') as f:
        f.write(CONFIG % (PORT, boot, '', state))
    logf = open(os.path.join(WORK, 'sluice.log'), 'wb')
    proc = subprocess.Popen([SLUICE, 'run', '-c', cfg], stdout=logf, stderr=logf)
    with open(os.path.join(WORK, 'sluice.pids'), 'a') as f:
        f.write('%d\n' % proc.pid)
    try:
        # -- shards
        for t in ('shop_1.order_1', 'shop_1.order_2', 'shop_2.order_1'):
            root.run('INSERT INTO %s VALUES (1, 9.50), (2, 3.00)' % t)
        root.run("UPDATE shop_2.order_1 SET total = 1 WHERE id = 1; "
                 "INSERT INTO crm.customer VALUES (1, 'ann')")
        time.sleep(1.5)
        recs = data(lk.read_topic(boot, 'ods.orders', 'ods.orders'))
        where = sorted(set((r['headers']['db'], r['headers']['table']) for r in recs))
        if where != [('shop_1', 'order_1'), ('shop_1', 'order_2'), ('shop_2', 'order_1')]:
            fail('ods.orders holds records of %s' % where)
        keys = set(r['key'] for r in recs)
        want_keys = set(json.dumps([d, t, i], separators=(',', ':')) for d, t in where
                        for i in (1, 2))
        if keys != want_keys or len(recs) != 8:
            fail('ods.orders: %d records, keys %s (want 8 records, keys %s)' % (
                len(recs), sorted(keys), sorted(want_keys)))
        for r in recs:
            v = json.loads(r['raw'])
            if (v['db'], v['table']) != (r['headers']['db'], r['headers']['table']):
                fail('ods.orders: headers %r, value %s' % (r['headers'], r['raw']))
        crm = data(lk.read_topic(boot, 'src.crm.customer', 'src.crm.customer'))
        if len(crm) != 1 or crm[0]['key'] != '["crm","customer",1]':
            fail('src.crm.customer: %r' % crm)
        log('shards: 3 tables of 2 databases merged into ods.orders (8 records, 6 distinct '
            'keys [db, table, id]; same ids kept apart); crm.customer to src.crm.customer by '
            'the default template')

        # -- kcat
        k = subprocess.run(['kcat', '-C', '-b', boot, '-t', 'ods.orders', '-e', '-q', '-f',
                            '%h\\n'], stdout=subprocess.PIPE, timeout=60, check=True)
        lines = k.stdout.decode().splitlines()
        pat = re.compile(r'^sequence=[0-9]+,gtid=0-1-[0-9]+,db=shop_[12],table=order_[12],'
                         r'op=(\+I|-U|\+U),source=src,type=data$')
        hb = re.compile(r'^sequence=[0-9]+,db=shop_[12],table=order_[12],source=src,'
                        r'type=heartbeat$')
        rows = [ln for ln in lines if not ln.endswith('type=heartbeat')]
        bad = [ln for ln in lines if not (pat.match(ln) or hb.match(ln))]
        if len(rows) != 8 or bad:
            fail('kcat headers: %d data lines, not as documented: %s' % (len(rows), bad[:3]))
        log('kcat: headers as documented, e.g. %s; heartbeats %s' % (
            rows[0], next((ln for ln in lines if ln not in rows), 'none yet')))

        # -- heartbeats: idle.t has not changed since before sluice started
        t_start = time.time()
        for i in range(40):
            root.run('INSERT INTO crm.customer VALUES (%d, "x")' % (i + 100))
            time.sleep(0.1)
        t_end = time.time()
        beats = [r for r in lk.read_topic(boot, 'hb.t', 'hb.t')
                 if r['headers'].get('type') == 'heartbeat']
        by_part = {}
        for r in beats:
            by_part.setdefault(r['partition'], []).append(r)
        if sorted(by_part) != list(range(8)):
            fail('hb.t: heartbeats on partitions %s, want all 8' % sorted(by_part))
        worst = (99, 0)
        for p, rs in by_part.items():
            ts = sorted(r['timestamp'] for r in rs)
            if len(ts) < 3:
                fail('hb.t partition %d: %d heartbeats in %.1f s' % (p, len(ts), t_end - t_start))
            gaps = [(b - a) / 1000 for a, b in zip(ts, ts[1:])]
            worst = (min(worst[0], min(gaps)), max(worst[1], max(gaps)))
            if min(gaps) < 0.9 or max(gaps) > 2.5:
                fail('hb.t partition %d: heartbeats %s s apart (interval 1 s)' % (p, gaps))
            for r in rs:
                h = r['headers']
                v = json.loads(r['raw'])
                if (h['db'], h['table'], h['source']) != ('idle', 't', 'src') or \
                        int(h['sequence']) != v['seq'] or v.get('heartbeat') is not True:
                    fail('hb.t: heartbeat %r %s' % (h, r['raw']))
        busy = [r for r in lk.read_topic(boot, 'src.crm.customer', 'crm')
                if r['headers'].get('type') == 'heartbeat' and
                t_start * 1000 + 1000 < r['timestamp'] < t_end * 1000]
        if busy:
            fail('crm.customer changed every 100 ms, yet got %d heartbeats' % len(busy))
        log('beats: %d heartbeats on all 8 partitions of hb.t, %.2f to %.2f s apart '
            '(interval 1 s); none for the busy table' % (len(beats), worst[0], worst[1]))

        # -- isolation
        def stored():
            with open(os.path.join(state, 'routes.offsets.json')) as f:
                return int(json.load(f)['seq_last'])
        time.sleep(0.5)
        broker.cmd('down 1')
        root.run('INSERT INTO iso.b VALUES (1)')
        time.sleep(0.5)
        before = stored()
        root.run('INSERT INTO iso.a VALUES (1)')
        for i in range(2, 12):
            root.run('INSERT INTO iso.b VALUES (%d)' % i)
            time.sleep(0.1)
        time.sleep(1.0)
        b = data(lk.read_topic(boot, 'iso.b', 'iso.b'))
        if sorted(json.loads(r['raw'])['data']['id'] for r in b) != list(range(1, 12)):
            fail('iso.b while broker 1 is down: %s' % [r['raw'] for r in b])
        held = stored()
        a_seq = None
        broker.cmd('up 1')
        deadline = time.time() + 30
        while True:
            a = data(lk.read_topic(boot, 'iso.a', 'iso.a'))
            if a:
                a_seq = int(a[0]['headers']['sequence'])
                break
            if time.time() > deadline:
                fail('iso.a: nothing 30 s after broker 1 came back')
            time.sleep(0.5)
        if not before <= held < a_seq:
            fail('isolation: the checkpoint went from %d to %d while the iso.a change %d waited'
                 % (before, held, a_seq))
        last_b = max(int(r['headers']['sequence']) for r in b)
        while stored() < last_b:
            if time.time() > deadline:
                fail('the checkpoint did not reach %d after broker 1 came back' % last_b)
            time.sleep(0.2)
        log('isolate: broker 1 down: iso.b received all 11 changes (up to sequence %d) while '
            'the iso.a change %d waited; the checkpoint held at %d (< %d); broker 1 up: iso.a '
            'delivered, checkpoint %d' % (last_b, a_seq, held, a_seq, stored()))
        proc.terminate()
        if proc.wait(30) != 0:
            fail('sluice run: exit %d after SIGTERM' % proc.returncode)
    finally:
        if proc.poll() is None:
            proc.kill()
        broker.stop()
        logf.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
