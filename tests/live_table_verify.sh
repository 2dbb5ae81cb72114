#!/bin/sh
# tests/live_table_verify.sh: `sluice table verify` against a throwaway
# MariaDB. Tables of many column types (text with quotes, backslashes,
# line breaks and emoji, DECIMAL, DOUBLE, FLOAT, temporal types, bytes,
# JSON, ENUM, SET, BIT, BIGINT UNSIGNED, NULLs; a composite key; no key)
# are changed, captured with `sluice run` into a file, and the records are
# made into a merge-on-read table by hand (the layout of
# sinks/merge_table.c: one bucket, one deltacommit). verify must find it
# equal to the source; then a value changed in the table's file, a row
# deleted at the source, and a table the source does not have must each
# be a DIFF with exit status 1; bad usage exits 2.
#
# Exit 77 (skip) when MariaDB or python3 is not installed.
set -u

BUILD=${BUILD:-build}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=SCRIPTDIR/lib/mariadb.sh
. "$here/lib/mariadb.sh"

if ! mdb_available; then
	echo "SKIP: MariaDB server not installed (needs mariadbd, mariadb, mariadb-install-db)"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed"
	exit 77
fi
S=$BUILD/sluice
if [ ! -x "$S" ]; then
	echo "$S not found: build it first (make)" >&2
	exit 1
fi
S=$(cd "$(dirname "$S")" && pwd)/sluice

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-live-table-verify.XXXXXX")
trap 'mdb_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

fail() {
	printf 'FAIL: %s\n' "$*" >&2
	exit 1
}

mdb_start "$dir/db" || exit 1
sql() {
	mariadb --no-defaults --default-character-set=utf8mb4 --socket="$MDB_SOCK" --user=root \
		--batch --raw --skip-column-names -e "$1"
}
sql "
CREATE USER sluice@'%' IDENTIFIED BY 'pw-verify-1';
GRANT REPLICATION SLAVE, BINLOG MONITOR, REPLICATION MASTER ADMIN, SELECT ON *.* TO sluice@'%';
CREATE DATABASE shop;
CREATE TABLE shop.orders (id INT PRIMARY KEY, name VARCHAR(40) CHARACTER SET utf8mb4,
  qty SMALLINT UNSIGNED, price DECIMAL(10,2), ratio DOUBLE, f FLOAT, created DATETIME(3),
  ts TIMESTAMP(6) NULL, d DATE, b VARBINARY(16), j JSON, e ENUM('a','b','c'), s SET('x','y'),
  bits BIT(5), big BIGINT UNSIGNED, note TEXT);
INSERT INTO shop.orders VALUES
 (1,'café \"q\" \\\\ x',3,12.50,0.1,1.5,'2026-11-22 01:02:03.456','2026-11-22 01:00:00.5',
  '2026-11-22',X'00ff10','{\"a\": [1, 2.5, \"x\"]}','b','x,y',b'10101',18446744073709551615,NULL),
 (2,'emoji 😀',0,-0.01,-1e300,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'',0,0,'line1\nline2\ttab'),
 (3,'',7,0,0,-0.0,'1000-01-01 00:00:00','1970-01-01 00:00:01',NULL,X'',NULL,'a','y',b'1',1,'x');
UPDATE shop.orders SET qty=qty+1, note='upd' WHERE id=1;
INSERT INTO shop.orders (id,name) VALUES (4,'to delete');
DELETE FROM shop.orders WHERE id=4;
CREATE TABLE shop.nokey (a INT, b VARCHAR(10));
INSERT INTO shop.nokey VALUES (1,'x'),(2,NULL),(3,'z');
DELETE FROM shop.nokey WHERE a=2;
CREATE TABLE shop.multi (k1 INT, k2 VARCHAR(5), v INT, PRIMARY KEY(k1,k2));
INSERT INTO shop.multi VALUES (1,'a',1),(1,'b',2),(2,'a',3);
UPDATE shop.multi SET k2='c' WHERE k1=2;
CREATE TABLE shop.empty (id INT PRIMARY KEY);" || exit 1

printf 'pw-verify-1\n' >"$dir/pw"
chmod 600 "$dir/pw"
H=$dir/home
"$S" source add db1 --host 127.0.0.1 --port "$MDB_PORT" --user sluice \
	--password-file "$dir/pw" --server-id 4711 --home "$H" --force >"$dir/add.out" 2>&1 ||
	{ cat "$dir/add.out" >&2; fail "source add"; }

# The records, as a pipeline writes them (with the catalog: MariaDB's JSON
# columns are objects, as in Kafka).
cat >"$dir/run.yaml" <<EOF
source:
  registered: db1
  scan.startup.mode: earliest-offset
sink:
  type: file
  path: $dir/records.jsonl
pipeline:
  name: verify
  state-dir: $dir/state
EOF
SLUICE_HOME=$H "$S" run -c "$dir/run.yaml" --stop-at-end >"$dir/run.log" 2>&1 ||
	{ tail -n 20 "$dir/run.log" >&2; fail "sluice run"; }

# Records -> stored rows (sinks/merge_io.h): the "data" object's bytes
# kept as sluice wrote them; keys ["db","table",pk...], or the row for a
# table without a key; -U and -D as tombstones.
T=$dir/table
python3 - "$T" "$dir/records.jsonl" <<'EOF' || fail "building the table"
import json, os, sys
out, dec, lines = sys.argv[1], json.JSONDecoder(), []
for rec in open(sys.argv[2], encoding='utf-8'):
    rec = rec.rstrip('\n')
    at = rec.find(',"value":{"data":')  # the file sink's headers form
    if at >= 0:
        rec = rec[at + 9:dec.raw_decode(rec, at + 9)[1]]
    if not rec.startswith('{"data":'):
        continue
    obj, end = dec.raw_decode(rec, 8)
    raw, r = rec[8:end], json.loads(rec)
    js = lambda x: json.dumps(x, ensure_ascii=False, separators=(',', ':'))
    key = '[' + ','.join(js(x) for x in [r['db'], r['table']] + [obj[c] for c in r.get('pk', [])])
    key += (']' if r.get('pk') else ',' + raw + ']')
    meta = ('{"_sluice_key":%s,"_sluice_seq":%d,"_sluice_op":"%s","_sluice_ts_ms":%d,'
            '"_sluice_db":%s,"_sluice_table":%s' % (js(key), r['seq'], r['op'], r['ts_ms'],
                                                   js(r['db']), js(r['table'])))
    lines.append(meta + '}' if r['op'] in ('-U', '-D') else meta + ',' + raw[1:])
iid = '20260101000000000_verify01'
os.makedirs(out + '/.sluice/timeline')
os.makedirs(out + '/b0000')
with open(out + '/.sluice/table.json', 'w') as f:
    f.write('{"version":1,"kind":"mor","buckets":1,"format":"jsonl","granularity":"hour",'
            '"compress":false,"created_ms":0}\n')
with open(out + '/b0000/%s.log.jsonl' % iid, 'w', encoding='utf-8') as f:
    f.write(''.join(l + '\n' for l in lines))
with open(out + '/.sluice/timeline/%s.deltacommit' % iid, 'w') as f:
    json.dump({'instant': iid, 'action': 'deltacommit',
               'files': [{'path': 'b0000/%s.log.jsonl' % iid, 'rows': len(lines)}]}, f)
EOF
LOG=$(ls "$T"/b0000/*.log.jsonl)

# verify [args...]: run it, output in $dir/out, status in $rc
verify() {
	"$S" table verify "$T" --source db1 --home "$H" "$@" >"$dir/out" 2>&1
	rc=$?
}
expect() { # expect STATUS PATTERN WHAT
	if [ "$rc" -ne "$1" ] || ! grep -q -- "$2" "$dir/out"; then
		cat "$dir/out" >&2
		fail "$3: exit $rc (wanted $1), or no line matching '$2'"
	fi
}

verify --tables shop.empty
expect 0 '^shop.orders  rows 3/3  checksum \([0-9a-f]*\)/\1  OK$' "equal tables"
expect 0 '^shop.multi  rows 3/3 .* OK$' "equal tables"
expect 0 '^shop.nokey  rows 2/2 .* OK$' "equal tables"
expect 0 '^shop.empty  rows 0/0 .* OK$' "--tables: a table without rows"
expect 0 '^4 tables checked: 4 OK, 0 DIFF: OK$' "equal tables"

verify --json
expect 0 '"summary":true' "--json"
expect 0 '"db":"shop","table":"orders","table_rows":3,"source_rows":3,.*"status":"OK"' "--json"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$dir/out" ||
	fail "--json: a line is not JSON"

# A value changed in the table: shop.orders differs, nothing else.
cp "$LOG" "$dir/log.orig"
sed 's/"qty":4,/"qty":5,/' "$dir/log.orig" >"$LOG"
cmp -s "$LOG" "$dir/log.orig" && fail "the edit changed nothing"
verify
expect 1 '^shop.orders  rows 3/3  checksum .* DIFF$' "a value changed in the table"
expect 1 '^shop.multi  .* OK$' "a value changed in the table"
expect 1 ': DIFF$' "a value changed in the table"
cp "$dir/log.orig" "$LOG"

# A row deleted at the source.
sql "DELETE FROM shop.multi WHERE k1=1 AND k2='b'" || exit 1
verify
expect 1 '^shop.multi  rows 3/2  .* DIFF$' "a row deleted at the source"
expect 1 '^shop.orders  .* OK$' "a row deleted at the source"

# A table the source does not have.
verify --tables shop.nothere
expect 1 '^shop.nothere  rows 0/0 .* DIFF  (no such table at the source)$' "a missing table"

# Bad usage, and errors naming where.
verify --tables nodot
expect 2 "'nodot' is not DB.TABLE" "bad --tables"
"$S" table verify "$T" >"$dir/out" 2>&1
rc=$?
expect 2 "source NAME is required" "no --source"
"$S" table verify "$dir/nothing" --source db1 --home "$H" >"$dir/out" 2>&1
rc=$?
expect 1 "$dir/nothing: no sluice table here" "not a table"
"$S" table verify "$T" --source nosuch --home "$H" >"$dir/out" 2>&1
rc=$?
expect 1 "nosuch" "an unknown source"

echo "table verify: OK"
