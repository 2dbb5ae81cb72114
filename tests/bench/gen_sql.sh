#!/bin/sh
# gen_sql.sh ROWS: the SQL that loads the benchmark binlog, on stdout.
#
# One 10-column table (docs/BENCHMARKS.md describes it), filled by ROWS
# inserts in autocommitted INSERT ... SELECT statements of 1000 rows from
# MariaDB's Sequence engine (seq_A_to_B), then ROWS/10 updates and ROWS/20
# deletes, also 1000 rows a statement. Every value is a function of the row
# id, so the binlog's rows are the same from one generation to the next.
# run.sh keys its cache on this file's checksum: any change here makes a
# new binlog.
set -eu

rows=${1:?usage: gen_sql.sh ROWS}
batch=1000

cat <<'EOF'
SET time_zone = '+00:00';
SET SESSION sql_mode = 'STRICT_ALL_TABLES';
CREATE DATABASE bench;
USE bench;
CREATE TABLE bench.orders (
  id          BIGINT NOT NULL PRIMARY KEY,
  customer_id INT NOT NULL,
  sku         BIGINT UNSIGNED NOT NULL,
  name        VARCHAR(64) NOT NULL,
  note        VARCHAR(255),
  amount      DECIMAL(12,2) NOT NULL,
  created     DATETIME(3) NOT NULL,
  updated     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  score       DOUBLE,
  status      ENUM('new','paid','shipped','delivered','cancelled') NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
EOF

# Values, as a function of seq (the row id):
#   name    a first name (one in four has non-ASCII letters) and the id
#   note    NULL one row in ten; one in fifty has quotes and a newline that
#           JSON must escape; else 20 to 99 characters of filler text
#   score   one in four a full-precision double (17 significant digits),
#           else a price-like value with two decimals
awk -v rows="$rows" -v batch="$batch" -v q="'" 'BEGIN {
	for (a = 1; a <= rows; a += batch) {
		b = a + batch - 1;
		if (b > rows)
			b = rows;
		printf "INSERT INTO bench.orders SELECT seq, seq * 7919 %% 1000000, " \
		    "seq * 2654435761, " \
		    "CONCAT(ELT(1 + seq %% 8, " q "Ann" q ", " q "Bob" q ", " q "Müller" q ", " \
		    q "Zoë" q ", " q "José" q ", " q "Li" q ", " q "Smith" q ", " \
		    q "Ольга" q "), " q " " q ", seq), " \
		    "CASE WHEN seq %% 10 = 0 THEN NULL " \
		    "WHEN seq %% 50 = 5 THEN CONCAT(" q "\"gift\" wrap,\\nplease " q ", seq) " \
		    "ELSE SUBSTRING(" q "Lorem ipsum dolor sit amet, consectetur adipiscing " \
		    "elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. " \
		    "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi " \
		    "ut aliquip ex ea commodo consequat." q ", 1 + seq %% 60, 20 + seq %% 80) END, " \
		    "(seq %% 100000) / 100 + 0.99, " \
		    "TIMESTAMPADD(MICROSECOND, seq * 1371000, " q "2024-01-01 00:00:00" q "), " \
		    "FROM_UNIXTIME(1704067200 + seq * 17), " \
		    "IF(seq %% 4 = 0, (seq * 2654435761 %% 1000003) / CAST(1000003 AS DOUBLE), " \
		    "ROUND((seq * 40503 %% 100000) / 100, 2)), " \
		    "1 + seq %% 5 FROM seq_%d_to_%d;\n", a, b;
	}
	# Updates and deletes spread over the table, 1000 rows a statement.
	for (k = 0; k < int(rows / 10 / batch); k++) {
		a = 1 + (k * 7 % 10) * (rows / 10) + int(k / 10) * batch;
		printf "UPDATE bench.orders SET status = " q "shipped" q ", amount = amount + 1, " \
		    "updated = updated + INTERVAL 1 DAY WHERE id BETWEEN %d AND %d;\n",
		    a, a + batch - 1;
	}
	for (k = 0; k < int(rows / 20 / batch); k++) {
		a = 1 + (k * 3 % 10) * (rows / 10) + (rows / 20) + int(k / 10) * batch;
		printf "DELETE FROM bench.orders WHERE id BETWEEN %d AND %d;\n", a, a + batch - 1;
	}
}'
