#!/bin/sh
# The README's demo, the whole path on this machine: a throwaway MariaDB with
# the binlog on and a small shop schema; the local broker (build/sluice-broker:
# librdkafka's mock cluster, in memory and NOT durable, for trying sluice out);
# `sluice run` following the server into Kafka while a workload runs; then the
# records as a consumer sees them, with their headers, and a heartbeat of an
# idle table. Everything lives in a temporary directory, removed at the end.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/lib/mariadb.sh

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
broker_pid=
sluice_pid=
cleanup() {
	for pid in $sluice_pid $broker_pid; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	mdb_cleanup
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a throwaway MariaDB (binlog on, ROW format) in $dir"
mdb_start "$dir/server"
mdb_sql "
CREATE DATABASE shop_eu; CREATE DATABASE shop_us;
CREATE TABLE shop_eu.customer (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  email VARCHAR(128),
  balance DECIMAL(10,2) NOT NULL DEFAULT 0,
  tier ENUM('basic','gold','platinum') NOT NULL DEFAULT 'basic',
  joined TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  prefs JSON
) CHARSET utf8mb4;
CREATE TABLE shop_eu.orders (
  id BIGINT UNSIGNED PRIMARY KEY,
  customer_id INT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  placed DATETIME NOT NULL,
  flags SET('gift','express','fragile') NOT NULL DEFAULT ''
);
CREATE TABLE shop_us.orders LIKE shop_eu.orders;
CREATE TABLE shop_eu.audit (id INT PRIMARY KEY, note TEXT);
"

echo "== starting the local broker (in memory, NOT durable: for trying sluice out)"
"$BUILD/sluice-broker" --topic shop.orders:8 \
	--topic shop.customer:4 --topic shop.audit:2 </dev/null >"$dir/broker.out" 2>"$dir/broker.err" &
broker_pid=$!
tries=0
until grep -q '^bootstrap.servers=' "$dir/broker.out" 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then
		cat "$dir/broker.err" >&2
		exit 1
	fi
	sleep 0.1
done
bootstrap=$(sed -n 's/^bootstrap.servers=//p' "$dir/broker.out")
echo "   bootstrap.servers=$bootstrap"

cat >"$dir/shop.yaml" <<EOF
source:
  type: mariadb
  name: shop
  socket: $MDB_SOCK
  username: root
  server-id: 4201
  tables: shop_(eu|us)\..*
  scan.startup.mode: initial
sink:
  type: kafka
  bootstrap.servers: $bootstrap
  topic: shop.\${table}
  heartbeat.interval: 2s
route:
  - database: shop_[a-z]+
    table: orders
    topic: shop.orders
    description: the regional order tables, merged
pipeline:
  name: shop
  state-dir: $dir/state
  checkpoint.interval: 200ms
EOF
echo "== rows that are there before sluice starts: the snapshot reads them"
mdb_sql "
INSERT INTO shop_eu.audit VALUES (1, 'quiet table: it will only get heartbeats');
INSERT INTO shop_us.orders VALUES (1, 9, 42.00, '2024-06-01 10:00:00', 'express');
"
echo "== sluice run -c shop.yaml (snapshot, then the binlog; shop_*.orders into one topic)"
sed 's/^/   /' "$dir/shop.yaml"
SLUICE_LOG=warn "$BUILD/sluice" run -c "$dir/shop.yaml" &
sluice_pid=$!

echo "== running a small workload"
sleep 1
mdb_sql "
INSERT INTO shop_eu.customer (name, email, balance, tier, prefs) VALUES
  ('Ann Lee', 'ann@example.com', 10.50, 'gold', '{\"lang\": \"en\", \"news\": true}'),
  ('Bo Chen', NULL, 0, 'basic', NULL),
  ('Zoë Dubois', 'zoe@example.fr', 1234.99, 'platinum', '{\"lang\": \"fr\"}');
BEGIN;
INSERT INTO shop_eu.orders VALUES
  (18446744073709551615, 1, 99.90, '2024-06-15 12:34:56', 'gift,express'),
  (2, 3, 5.00, '2024-06-16 08:00:00', '');
INSERT INTO shop_us.orders VALUES (2, 7, 12.00, '2024-06-16 09:30:00', 'fragile');
UPDATE shop_eu.customer SET balance = balance - 99.90 WHERE id = 1;
COMMIT;
UPDATE shop_eu.customer SET tier = 'gold', email = 'bo@example.com' WHERE id = 2;
UPDATE shop_eu.orders SET id = 3 WHERE id = 2;
DELETE FROM shop_eu.customer WHERE id = 3;
"
# Long enough for the quiet table's heartbeat interval (2 s) to pass.
sleep 3

for topic in shop.customer shop.orders; do
	echo "== sluice tail $topic  (key, headers, value per record)"
	"$BUILD/sluice" tail -b "$bootstrap" --until-end "$topic" |
		grep '"type":"data"' | sed 's/^/   /'
done
echo "== sluice tail shop.audit: the quiet table's heartbeats (one per partition)"
"$BUILD/sluice" tail -b "$bootstrap" --until-end shop.audit |
	grep '"type":"heartbeat"' | tail -n 2 | sed 's/^/   /'
if command -v kcat >/dev/null 2>&1; then
	echo "== kcat -f '%k  %h' shop.orders: what any Kafka client sees"
	kcat -C -b "$bootstrap" -t shop.orders -e -q -f '%p/%o  %k  %h\n' 2>/dev/null |
		grep 'type=data' | sed 's/^/   /'
fi
kill "$sluice_pid"
wait "$sluice_pid" || :
sluice_pid=
echo "== stopped; the checkpoint sluice would resume from:"
sed 's/^/   /' "$dir/state/shop.offsets.json"
