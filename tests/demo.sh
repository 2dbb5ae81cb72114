#!/bin/sh
# The README's demo: a throwaway MariaDB with the binlog on, a small shop
# workload, and `sluice decode` of its binlog, one record per row change.
# Everything lives in a temporary directory that is removed at the end.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/lib/mariadb.sh

dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
cleanup() {
	mdb_cleanup
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== starting a throwaway MariaDB (binlog on, ROW format) in $dir"
mdb_start "$dir"

echo "== running a small workload"
mdb_sql "
CREATE DATABASE shop;
USE shop;
CREATE TABLE customer (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  email VARCHAR(128),
  balance DECIMAL(10,2) NOT NULL DEFAULT 0,
  tier ENUM('basic','gold','platinum') NOT NULL DEFAULT 'basic',
  joined TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  prefs JSON
) CHARSET utf8mb4;
CREATE TABLE orders (
  id BIGINT UNSIGNED PRIMARY KEY,
  customer_id INT NOT NULL,
  total DECIMAL(12,2) NOT NULL,
  placed DATETIME NOT NULL,
  flags SET('gift','express','fragile') NOT NULL DEFAULT '',
  note TEXT CHARACTER SET latin1
);
INSERT INTO customer (name, email, balance, tier, prefs) VALUES
  ('Ann Lee', 'ann@example.com', 10.50, 'gold', '{\"lang\": \"en\", \"news\": true}'),
  ('Bo Chen', NULL, 0, 'basic', NULL),
  ('Zoë Dubois', 'zoe@example.fr', 1234.99, 'platinum', '{\"lang\": \"fr\"}');
BEGIN;
INSERT INTO orders VALUES
  (18446744073709551615, 1, 99.90, '2024-06-15 12:34:56', 'gift,express', _latin1 X'636166E9206175206C616974'),
  (2, 3, 5.00, '2024-06-16 08:00:00', '', NULL);
UPDATE customer SET balance = balance - 99.90 WHERE id = 1;
COMMIT;
UPDATE customer SET tier = 'gold', email = 'bo@example.com' WHERE id = 2;
UPDATE orders SET id = 3 WHERE id = 2;
DELETE FROM customer WHERE id = 3;
FLUSH BINARY LOGS;
"

echo "== sluice decode $(mdb_binlogs | sed 's|.*/||' | tr '\n' ' ')"
"$BUILD/sluice" decode --stats $(mdb_binlogs)
