/*
 * test_live_snaprow.c: rows read with SELECT (cdc_snaprow.h, written by
 * cdc_writer_values) give the records the binlog gives for the same rows,
 * against a throwaway MariaDB 10.11 (tests/lib/mariadb.sh: ROW format,
 * binlog_row_metadata=FULL, a +03:00 server time zone). Exits 77 (skip)
 * when no MariaDB server is installed.
 *
 *  1. Tables with every column type MariaDB 10.11 has (as
 *     tests/live_mariadb_types.py covers them): integers of every width
 *     signed and unsigned at their limits, DECIMAL up to (65,30), FLOAT and
 *     DOUBLE (a negative zero, the extremes), BIT(1..64), YEAR, DATE,
 *     TIME/DATETIME/TIMESTAMP(0..6) (negative times, zero dates and the
 *     zero timestamp), text in every charset the server has (bytes with no
 *     Unicode mapping, CHAR padding), BINARY(n) with trailing zeros,
 *     VARBINARY, BLOBs, ENUM and SET (labels in other charsets, with
 *     4-byte characters), JSON (null, not JSON), every GEOMETRY type with
 *     SRIDs, UUID, INET4, INET6, compressed columns, invisible, VIRTUAL and
 *     PERSISTENT columns, NULLs; tables without a key, with composite,
 *     non-integer, prefix and promoted UNIQUE keys, system versioning, a
 *     long UNIQUE key; one key table per key type. Inserts, updates and
 *     deletes, then the binlog decoded as live capture does it (a stream,
 *     the catalog, FULL metadata, column rules).
 *  2. Every table described with cdc_snap_table_load: its binlog_table_t
 *     field by field against the TABLE_MAP the binlog has for it.
 *  3. Every table read with SELECT <select_list> and written with
 *     cdc_writer_values: per key, "data" (and "db", "table", "pk",
 *     "json_null") byte for byte the binlog's latest image of the row;
 *     without a key, the same multiset of rows.
 *  4. For every key (one table per key column type, and the composite
 *     ones): WHERE k = <cdc_snap_literal> finds exactly that row.
 *
 * The one difference allowed is the one cdc_snaprow.h names: MariaDB's
 * DB_ROW_HASH_n, which no SELECT reads, is absent from snapshot rows.
 * (And ENUM/SET labels with 4-byte characters, which information_schema
 * cannot spell, differ in the binlog_table_t, not in the records.)
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mysql.h>

#include "binlog_jsonw.h"
#include "cdc_config.h"
#include "cdc_filter.h"
#include "cdc_snaprow.h"
#include "decode_util.h"
#include "schema.h"
#include "schema_catalog.h"

/* ------------------------------------------------------------------ */
/* The server                                                          */

typedef struct server {
	char lib[512]; /* tests/lib/mariadb.sh */
	char dir[512];
	char sock[600];
	long pid;
	MYSQL *m;  /* DDL and DML, and the binlog path's catalog */
	MYSQL *sn; /* the snapshot's reading connection */
} server_t;

static server_t S;

static int run_sh(const char *script)
{
	int rc = system(script);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int find_lib(void)
{
	const char *src = getenv("SLUICE_SRCDIR");
	struct stat sb;

	snprintf(S.lib, sizeof(S.lib), "%s/tests/lib/mariadb.sh", src && *src ? src : ".");
	return stat(S.lib, &sb) == 0;
}

/* Start the server in a fresh directory, with a watchdog that stops it
 * and removes the directory once this process is gone. */
static int server_start(void)
{
	char script[3000], envp[700];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	snprintf(S.dir, sizeof(S.dir), "%s/sluice-live-snaprow.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(S.dir))
		return -1;
	snprintf(script, sizeof(script),
		 ". \"%s\" && mdb_start \"%s/srv\" --character-set-server=utf8mb4 "
		 "--default-time-zone=+03:00 --max-allowed-packet=64M >\"%s/start.log\" 2>&1 && "
		 "echo \"$MDB_PID $MDB_SOCK\" >\"%s/env\" || exit 1\n"
		 "( while kill -0 %ld 2>/dev/null; do sleep 1; done; mdb_stop; rm -rf \"%s\" ) "
		 "</dev/null >/dev/null 2>&1 &",
		 S.lib, S.dir, S.dir, S.dir, (long)getpid(), S.dir);
	if (run_sh(script) != 0) {
		snprintf(script, sizeof(script), "cat \"%s/start.log\" >&2; rm -rf \"%s\"", S.dir,
			 S.dir);
		run_sh(script);
		return -1;
	}
	snprintf(envp, sizeof(envp), "%s/env", S.dir);
	f = fopen(envp, "r");
	if (!f || fscanf(f, "%ld %599s", &S.pid, S.sock) != 2) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static void server_stop(void)
{
	char script[2600];

	if (!S.pid)
		return;
	snprintf(script, sizeof(script),
		 ". \"%s\" && MDB_PID=%ld MDB_SOCK=\"%s\" MDB_DIR=\"%s/srv\" && mdb_stop; "
		 "rm -rf \"%s\"",
		 S.lib, S.pid, S.sock, S.dir, S.dir);
	run_sh(script);
	S.pid = 0;
}

static MYSQL *connect_db(void)
{
	MYSQL *m = mysql_init(NULL);
	unsigned long pkt = 256UL << 20;

	if (!m)
		return NULL;
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &pkt);
	if (!mysql_real_connect(m, NULL, "root", NULL, NULL, 0, S.sock, 0)) {
		fprintf(stderr, "connect: %s\n", mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

static void sql_on(MYSQL *m, const char *q, size_t n)
{
	if (mysql_real_query(m, q, (unsigned long)n) != 0)
		fail_msg("%.*s: %s", (int)(n < 300 ? n : 300), q, mysql_error(m));
	do {
		MYSQL_RES *r = mysql_store_result(m);
		if (r)
			mysql_free_result(r);
	} while (mysql_next_result(m) == 0);
}

static void sql(const char *q)
{
	sql_on(S.m, q, strlen(q));
}

/* ------------------------------------------------------------------ */
/* Building statements                                                 */

static binlog_buf_t Q;

static void q_start(const char *s)
{
	binlog_buf_reset(&Q);
	binlog_buf_puts(&Q, s);
}

static void q_put(const char *s)
{
	binlog_buf_puts(&Q, s);
}

/* _utf8mb4 X'..': text without any escaping. */
static void q_utf8n(const char *s, size_t n)
{
	binlog_buf_lit(&Q, "_utf8mb4 X'");
	binlog_jw_hex(&Q, (const uint8_t *)s, n);
	binlog_buf_putc(&Q, '\'');
}

static void q_utf8(const char *s)
{
	q_utf8n(s, strlen(s));
}

static void q_hex(const uint8_t *p, size_t n)
{
	binlog_buf_lit(&Q, "X'");
	binlog_jw_hex(&Q, p, n);
	binlog_buf_putc(&Q, '\'');
}

static void q_exec(void)
{
	assert_false(Q.failed);
	sql_on(S.m, (const char *)Q.data, Q.len);
}

/* s repeated n times (the caller frees). */
static char *rep(const char *s, size_t n)
{
	size_t l = strlen(s);
	char *r = malloc(l * n + 1);

	for (size_t i = 0; i < n; i++)
		memcpy(r + i * l, s, l);
	r[l * n] = 0;
	return r;
}

/* The same bytes every run. */
static uint64_t rng_state = 20240615;

static void rng_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(rng_state >> 56);
	}
}

/* INSERT INTO t VALUES (...) for every row of literals (NULL-terminated
 * rows of NULL-terminated lists). */
static void insert_rows(const char *table, const char *const *const *rows)
{
	for (; *rows; rows++) {
		q_start("INSERT INTO ");
		q_put(table);
		q_put(" VALUES (");
		for (const char *const *v = *rows; *v; v++) {
			if (v != *rows)
				q_put(", ");
			q_put(*v);
		}
		q_put(")");
		q_exec();
	}
}

/* ------------------------------------------------------------------ */
/* The tables                                                          */

static const char *const ddl[] = {
	"CREATE DATABASE snap CHARACTER SET utf8mb4",
	"USE snap",
	"CREATE TABLE t_int (id INT NOT NULL PRIMARY KEY, ti TINYINT, tiu TINYINT UNSIGNED,"
	" si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT,"
	" iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, bo BOOLEAN,"
	" zf INT(8) UNSIGNED ZEROFILL, i1 INT1, i8 INT8 UNSIGNED)",
	"CREATE TABLE t_dec (id INT NOT NULL PRIMARY KEY, d1 DECIMAL(1,0), d52 DECIMAL(5,2),"
	" d105 DECIMAL(10,5), d189 DECIMAL(18,9), d190 DECIMAL(19,0), d2010 DECIMAL(20,10),"
	" d99 DECIMAL(9,9), d3838 DECIMAL(38,38), d650 DECIMAL(65,0), d6530 DECIMAL(65,30),"
	" du DECIMAL(12,4) UNSIGNED, num NUMERIC(7,3), dflt DECIMAL,"
	" dz DECIMAL(8,3) UNSIGNED ZEROFILL)",
	"CREATE TABLE t_float (id INT NOT NULL PRIMARY KEY, f FLOAT, d DOUBLE,"
	" fu FLOAT UNSIGNED, r REAL, f72 FLOAT(7,2), d205 DOUBLE(20,5), fp FLOAT(30),"
	" dp DOUBLE PRECISION)",
	"CREATE TABLE t_bit (id INT NOT NULL PRIMARY KEY, b1 BIT(1), b7 BIT(7), b8 BIT(8),"
	" b10 BIT(10), b17 BIT(17), b32 BIT(32), b63 BIT(63), b64 BIT(64))",
	"CREATE TABLE t_temporal (id INT NOT NULL PRIMARY KEY, d DATE, t TIME, t1 TIME(1),"
	" t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6), dt DATETIME,"
	" dt1 DATETIME(1), dt2 DATETIME(2), dt3 DATETIME(3), dt4 DATETIME(4), dt5 DATETIME(5),"
	" dt6 DATETIME(6), y YEAR)",
	"CREATE TABLE t_ts (id INT NOT NULL PRIMARY KEY, ts TIMESTAMP NULL DEFAULT NULL,"
	" ts1 TIMESTAMP(1) NULL DEFAULT NULL, ts2 TIMESTAMP(2) NULL DEFAULT NULL,"
	" ts3 TIMESTAMP(3) NULL DEFAULT NULL, ts4 TIMESTAMP(4) NULL DEFAULT NULL,"
	" ts5 TIMESTAMP(5) NULL DEFAULT NULL, ts6 TIMESTAMP(6) NULL DEFAULT NULL)",
	"CREATE TABLE t_text (id INT NOT NULL PRIMARY KEY, c CHAR(10), cw CHAR(255),"
	" vc VARCHAR(20), vl VARCHAR(300), vbin VARCHAR(40) COLLATE utf8mb4_bin,"
	" vuca VARCHAR(40) COLLATE utf8mb4_uca1400_ai_ci, tt TINYTEXT, tx TEXT, mt MEDIUMTEXT,"
	" lt LONGTEXT, nat NATIONAL VARCHAR(20), lv LONG VARCHAR, hidden_c INT INVISIBLE)"
	" DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE t_binary (id INT NOT NULL PRIMARY KEY, b1 BINARY(1), b8 BINARY(8),"
	" b255 BINARY(255), vb VARBINARY(10), vbl VARBINARY(1000), tb TINYBLOB, bl BLOB,"
	" mb MEDIUMBLOB, lb LONGBLOB, cbin CHAR(4) CHARACTER SET binary,"
	" vcbin VARCHAR(10) CHARACTER SET binary)",
	"CREATE TABLE t_enum (id INT NOT NULL PRIMARY KEY,"
	" e ENUM('a', 'b,c', 'it''s', 'q\"uote', 'back\\\\slash', 'ü', '😀', ' sp '),"
	" s SET('x', 'y''q', 'z', 'ü', 'a\"b', '😀', 'b\\\\s', 'h', 'i'),"
	" el ENUM('café', 'naïve', 'x') CHARACTER SET latin1,"
	" ec ENUM('привет', 'мир') CHARACTER SET cp1251,"
	" es SET('ä', 'ö', 'ü') CHARACTER SET latin1,"
	" eu ENUM('日本', '語') CHARACTER SET sjis,"
	" su SET('ä€', '😀') CHARACTER SET utf16, en ENUM('', 'x') NOT NULL,"
	" eq ENUM('it''s', 'q\"uote', 'back\\\\slash', 'nl\\nx', 'tab\\tx', 'z\\Zz', 'a,b'),"
	" sq SET('it''s', 'back\\\\slash', 'nl\\nx', 'cr\\rx') CHARACTER SET latin1)"
	" DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE t_json (id INT NOT NULL PRIMARY KEY, j JSON, j2 JSON)",
	"CREATE TABLE t_geo (id INT NOT NULL PRIMARY KEY, g GEOMETRY, p POINT, l LINESTRING,"
	" pg POLYGON, mp MULTIPOINT, ml MULTILINESTRING, mpg MULTIPOLYGON,"
	" gc GEOMETRYCOLLECTION, gs GEOMETRY REF_SYSTEM_ID=4326, ps POINT REF_SYSTEM_ID=3857)",
	"CREATE TABLE t_mdb (id INT NOT NULL PRIMARY KEY, u UUID, i4 INET4, i6 INET6, u2 UUID)",
	"CREATE TABLE t_comp (id INT NOT NULL PRIMARY KEY, vc VARCHAR(1000) COMPRESSED,"
	" vcl VARCHAR(300) CHARACTER SET latin1 COMPRESSED, vb VARBINARY(2000) COMPRESSED,"
	" tt TINYTEXT COMPRESSED, tx TEXT COMPRESSED, bl BLOB COMPRESSED,"
	" mt MEDIUMTEXT COMPRESSED, lb LONGBLOB COMPRESSED) DEFAULT CHARSET=utf8mb4",
	"CREATE TABLE t_misc (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, a INT,"
	" h INT INVISIBLE DEFAULT 7, g INT AS (a + 1) VIRTUAL, p INT AS (a * 2) PERSISTENT,"
	" ts TIMESTAMP(6) NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),"
	" df VARCHAR(10) DEFAULT 'dflt', n INT, gs VARCHAR(20) AS (CONCAT(df, '!')) PERSISTENT)",
	"CREATE TABLE t_nopk (id INT, v VARCHAR(20), n INT, b BLOB, d DOUBLE)",
	"CREATE TABLE t_cpk (k1 INT NOT NULL, v VARCHAR(20),"
	" k2 VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL, id INT NOT NULL, t TEXT,"
	" PRIMARY KEY (k2, k1))",
	"CREATE TABLE t_uniq (v VARCHAR(20), id INT NOT NULL, n INT, t TEXT, c INT,"
	" UNIQUE KEY uc (c), UNIQUE KEY (id))",
	"CREATE TABLE t_sv (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING",
	"CREATE TABLE t_lu (id INT PRIMARY KEY, body TEXT, UNIQUE KEY (body))",
	"CREATE TABLE t_prefix (t VARCHAR(100) NOT NULL, v INT, PRIMARY KEY (t(10)))",
	"CREATE TABLE t_tprefix (b TEXT NOT NULL, v INT, PRIMARY KEY (b(20), v))",
	"CREATE TABLE `t_näme \"q\" \\ ``b``` (id INT NOT NULL PRIMARY KEY, `ä \"x\"` INT,"
	" `back\\slash/` VARCHAR(10), `中文 ``tick``` INT, `ctl\tx` INT) DEFAULT CHARSET=utf8mb4",
	NULL,
};

/* One table per key column type: (k <type> NOT NULL PRIMARY KEY, n INT),
 * one row per value (SQL literals). */
typedef struct keytab {
	const char *name, *type;
	const char *const vals[8];
} keytab_t;

static const keytab_t keytabs[] = {
	{"k_tiny", "TINYINT", {"-128", "0", "127", "-1"}},
	{"k_uint", "INT UNSIGNED", {"0", "4294967295", "7"}},
	{"k_med", "MEDIUMINT", {"-8388608", "8388607", "5"}},
	{"k_big", "BIGINT", {"-9223372036854775808", "9223372036854775807", "0"}},
	{"k_ubig", "BIGINT UNSIGNED", {"18446744073709551615", "0", "9223372036854775808"}},
	{"k_zf", "INT(6) UNSIGNED ZEROFILL", {"1", "42", "999999"}},
	{"k_dec", "DECIMAL(12,4)", {"-12345678.1234", "0", "0.0001", "99999999.9999", "-0.5"}},
	{"k_dec0", "DECIMAL(40,0)", {"-1234567890123456789012345678901234567890", "1"}},
	{"k_float", "FLOAT", {"0.1", "-1.5", "3.4028234663852886e38", "1e-45", "0", "16777217"}},
	{"k_double",
	 "DOUBLE",
	 {"0.1", "0.30000000000000004", "1e300", "-2.5", "5e-324", "0", "123456789012345678"}},
	{"k_bit", "BIT(10)", {"0", "1", "1023", "b'1000000001'"}},
	{"k_bit64", "BIT(64)", {"0", "18446744073709551615", "9223372036854775808"}},
	{"k_year", "YEAR", {"0", "1901", "2155", "2024"}},
	{"k_date",
	 "DATE",
	 {"'0000-00-00'", "'1000-01-01'", "'9999-12-31'", "'2024-02-29'", "'2024-00-15'"}},
	{"k_time",
	 "TIME(3)",
	 {"'-838:59:59.000'", "'838:59:59'", "'00:00:00'", "'-00:00:00.001'", "'12:34:56.789'",
	  "'100:00:00.5'"}},
	{"k_time0", "TIME", {"'-01:02:03'", "'00:00:00'", "'838:59:59'"}},
	{"k_dt",
	 "DATETIME(6)",
	 {"'0000-00-00 00:00:00'", "'9999-12-31 23:59:59.999999'", "'2024-02-29 12:34:56.000001'",
	  "'1000-01-01 00:00:00'"}},
	{"k_ts",
	 "TIMESTAMP(2)",
	 {"'0000-00-00 00:00:00'", "'1970-01-01 03:00:01'", "'2038-01-19 06:14:07.99'",
	  "'2024-06-15 12:34:56.5'"}},
	{"k_char", "CHAR(10) CHARACTER SET latin1", {"'café'", "'a'", "''", "'x y'", "'Z  '"}},
	{"k_vc_ci",
	 "VARCHAR(20) COLLATE utf8mb4_general_ci",
	 {"'Ünïcödé'", "'abc'", "'😀'", "' lead'", "'q\\'t'", "'Zed'"}},
	{"k_vc_bin", "VARCHAR(20) COLLATE utf8mb4_bin", {"'a'", "'A'", "'ä'", "'😀x'"}},
	{"k_vc_nopad", "VARCHAR(20) COLLATE utf8mb4_nopad_bin", {"'a'", "'a '", "'a  '", "''"}},
	{"k_uca", "VARCHAR(20) COLLATE utf8mb4_uca1400_ai_ci", {"'straße'", "'x'", "'Ω'"}},
	{"k_cp1251", "VARCHAR(20) CHARACTER SET cp1251", {"'Привет'", "'мир'", "'a'", "'Я'"}},
	{"k_sjis", "VARCHAR(20) CHARACTER SET sjis", {"'日本'", "'語'", "'ｶﾀｶﾅ'"}},
	{"k_utf16", "VARCHAR(20) CHARACTER SET utf16", {"'😀'", "'ä€'", "'a'"}},
	{"k_utf32", "CHAR(5) CHARACTER SET utf32", {"'😀'", "'ab'", "''"}},
	{"k_ascii", "CHAR(5) CHARACTER SET ascii", {"'ab'", "'cd  '", "_ascii X'80'"}},
	{"k_cp1250", "VARCHAR(5) CHARACTER SET cp1250", {"'Żółć'", "_cp1250 X'81'", "'x'"}},
	{"k_bin8", "BINARY(8)", {"X'00'", "X'01'", "X'0001'", "X'FFFFFFFFFFFFFFFF'", "X'2000'"}},
	{"k_vbin", "VARBINARY(20)", {"X''", "X'00'", "X'0000'", "X'FF'", "X'20'"}},
	{"k_enum", "ENUM('z', 'b', '😀', 'ü', 'a')", {"'a'", "'😀'", "'ü'", "'z'"}},
	{"k_set", "SET('z', 'y', 'x')", {"''", "'x'", "'x,z'", "'y'", "'z'"}},
	{"k_uuid",
	 "UUID",
	 {"'6ccd780c-baba-1026-9564-5b8c656024db'", "'00000000-0000-0000-0000-000000000000'",
	  "'ffffffff-ffff-ffff-ffff-ffffffffffff'", "'01890a5d-ac96-774b-bcce-b302099a8057'",
	  "'11112222-3333-4444-5555-666677778888'"}},
	{"k_inet4", "INET4", {"'0.0.0.0'", "'255.255.255.255'", "'10.0.0.1'"}},
	{"k_inet6", "INET6", {"'::'", "'::ffff:1.2.3.4'", "'2001:db8::ff00:42:8329'", "'fe80::1'"}},
};

#define NKEYTABS (sizeof(keytabs) / sizeof(keytabs[0]))

static const char *const tables[] = {
	"t_int",
	"t_dec",
	"t_float",
	"t_bit",
	"t_temporal",
	"t_ts",
	"t_text",
	"t_charset",
	"t_binary",
	"t_enum",
	"t_json",
	"t_geo",
	"t_mdb",
	"t_comp",
	"t_misc",
	"t_nopk",
	"t_cpk",
	"t_uniq",
	"t_sv",
	"t_lu",
	"t_prefix",
	"t_tprefix",
	"t_näme \"q\" \\ `b`",
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

/* Every character set of MariaDB 10.11 but binary, with a sample of its
 * own script (tests/live_mariadb_types.py). */
static const char *const charsets[][2] = {
	{"armscii8", "Բարեւ Հայաստան"},
	{"ascii", "plain ASCII ~"},
	{"big5", "繁體中文測試"},
	{"cp1250", "Żółć ąę €‚„…†‡‰Š‹ŚŤŽŹ"},
	{"cp1251", "Привет, мир € Ђ Ѓ ‚ ѓ"},
	{"cp1256", "مرحبا بالعالم €"},
	{"cp1257", "Ąčęėįšųūž €"},
	{"cp850", "café ñ ½ ¼ ░▒▓"},
	{"cp852", "Łódź čšž ░▒"},
	{"cp866", "Привет ░▒▓"},
	{"cp932", "日本語テキスト①ｶﾀｶﾅ～"},
	{"dec8", "café ß"},
	{"eucjpms", "日本語①ｶﾀｶﾅ"},
	{"euckr", "한국어 텍스트"},
	{"gb2312", "简体中文"},
	{"gbk", "中文汉字 简体"},
	{"geostd8", "ქართული"},
	{"greek", "Καλημέρα κόσμε"},
	{"hebrew", "שלום עולם"},
	{"hp8", "café ß"},
	{"keybcs2", "Čeština ů"},
	{"koi8r", "Съешь же ещё"},
	{"koi8u", "Україна ґ є і ї"},
	{"latin1", "café €‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ ÿ"},
	{"latin2", "Łódź Žluťoučký"},
	{"latin5", "İstanbul ğş"},
	{"latin7", "Ąčęėįšųūž"},
	{"macce", "Łódź Žluť"},
	{"macroman", "café ƒ∂ π"},
	{"sjis", "日本語ｶﾀｶﾅ"},
	{"swe7", "ÅÄÖåäö É é"},
	{"tis620", "ภาษาไทย"},
	{"ucs2", "BMP ☃ Ω 中"},
	{"ujis", "日本語 ｶﾀｶﾅ"},
	{"utf16", "😀 𝄞 ☃"},
	{"utf16le", "😀 𝄞 ☃"},
	{"utf32", "😀 𝄞 ☃"},
	{"utf8mb3", "BMP ☃ Ω 中"},
	{"utf8mb4", "😀 👍🏽"},
};

#define NCS (sizeof(charsets) / sizeof(charsets[0]))

static const char *const padded[] = {"latin1", "ucs2", "utf16",   "utf16le",
				     "utf32",  "sjis", "utf8mb4", "ujis"};

#define NPAD (sizeof(padded) / sizeof(padded[0]))

static void create_charset_table(void)
{
	char c[200];

	q_start("CREATE TABLE t_charset (id INT NOT NULL PRIMARY KEY");
	for (size_t k = 0; k < NCS; k++) {
		snprintf(c, sizeof(c), ", c_%s VARCHAR(40) CHARACTER SET %s", charsets[k][0],
			 charsets[k][0]);
		q_put(c);
	}
	for (size_t k = 0; k < NPAD; k++) {
		snprintf(c, sizeof(c), ", p_%s CHAR(12) CHARACTER SET %s", padded[k], padded[k]);
		q_put(c);
	}
	q_put(", w_utf32 CHAR(255) CHARACTER SET utf32, l_gbk VARCHAR(200) CHARACTER SET gbk)");
	q_exec();
}

/* The first n characters of UTF-8 text s (a new string). */
static char *utf8_prefix(const char *s, size_t n)
{
	size_t i = 0;

	while (s[i] && n) {
		i++;
		while (((uint8_t)s[i] & 0xc0) == 0x80)
			i++;
		n--;
	}
	return strndup(s, i);
}

static void insert_charset_rows(void)
{
	static const char specials[] = "q'\"\\ nl\n tab\t \x01\x1f\x7f ~";
	static const char specials_swe7[] = "q'\" nl\n tab\t \x01\x1f ?";
	char num[16];

	for (int r = 0; r < 5; r++) {
		snprintf(num, sizeof(num), "%d", r + 1);
		q_start("INSERT INTO t_charset VALUES (");
		q_put(num);
		for (size_t k = 0; k < NCS + NPAD; k++) {
			const char *cs = k < NCS ? charsets[k][0] : padded[k - NCS];
			const char *sample = NULL;
			char *v;
			for (size_t j = 0; j < NCS; j++)
				if (strcmp(charsets[j][0], cs) == 0)
					sample = charsets[j][1];
			q_put(", ");
			if (r == 0)
				v = strdup(sample);
			else if (r == 1)
				v = strdup(strcmp(cs, "swe7") == 0 ? specials_swe7 : specials);
			else if (r == 2)
				v = strdup("");
			else if (r == 3)
				v = strdup("a  ");
			else
				v = NULL;
			if (v && k >= NCS) {
				char *p = utf8_prefix(v, 12);
				free(v);
				v = p;
			}
			if (v)
				q_utf8(v);
			else
				q_put("NULL");
			free(v);
		}
		if (r < 4) {
			char *w = rep("😀ä", 100), *p = utf8_prefix(w, 255);
			q_put(", ");
			q_utf8(p);
			free(w);
			free(p);
			w = rep("中文", 100);
			p = utf8_prefix(w, 200);
			q_put(", ");
			q_utf8(p);
			free(w);
			free(p);
		} else {
			q_put(", NULL, NULL");
		}
		q_put(")");
		q_exec();
	}
	/* Bytes the server stores and Unicode has no character for, entered
	 * in the column's own charset: U+FFFD in both records. */
	sql("INSERT INTO t_charset (id, c_cp1250, c_ascii, c_latin1, c_koi8r, c_cp1251, c_gbk)"
	    " VALUES (6, _cp1250 X'8183', _ascii X'80FF41', _latin1 X'81908D', _koi8r X'C1',"
	    " _cp1251 X'98', _gbk X'A2A0')");
}

static void insert_int(void)
{
	static const char *const r1[] = {
		"1",        "-128", "0",           "-32768", "0",
		"-8388608", "0",    "-2147483648", "0",      "-9223372036854775808",
		"0",        "0",    "0",           "-128",   "0",
		NULL};
	static const char *const r2[] = {"2",
					 "127",
					 "255",
					 "32767",
					 "65535",
					 "8388607",
					 "16777215",
					 "2147483647",
					 "4294967295",
					 "9223372036854775807",
					 "18446744073709551615",
					 "1",
					 "4294967295",
					 "127",
					 "18446744073709551615",
					 NULL};
	static const char *const r3[] = {"3", "-1", "1", "-1",   "1",  "-1", "1", "-1",
					 "1", "-1", "1", "TRUE", "42", "-1", "1", NULL};
	static const char *const r4[] = {"4",    "NULL", "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", NULL};
	static const char *const r5[] = {"5",
					 "0",
					 "128",
					 "0",
					 "32768",
					 "0",
					 "8388608",
					 "0",
					 "2147483648",
					 "0",
					 "9223372036854775808",
					 "FALSE",
					 "7",
					 "0",
					 "9223372036854775808",
					 NULL};
	static const char *const r6[] = {"6",
					 "100",
					 "200",
					 "-300",
					 "300",
					 "-70000",
					 "70000",
					 "123456789",
					 "3000000000",
					 "-1234567890123456789",
					 "12345678901234567890",
					 "1",
					 "99999999",
					 "-100",
					 "12345678901234567890",
					 NULL};
	static const char *const *const rows[] = {r1, r2, r3, r4, r5, r6, NULL};

	insert_rows("t_int", rows);
	sql("UPDATE t_int SET bi = bi + 1, zf = 5 WHERE id = 3");
	sql("DELETE FROM t_int WHERE id = 6");
}

static void insert_dec(void)
{
	char *n65 = rep("9", 65), *n30 = rep("9", 30), *n35 = rep("9", 35), *n38 = rep("9", 38);
	char *z37 = rep("0", 37), *z29 = rep("0", 29), *g7 = rep("234567890", 7);
	char *t3 = rep("0123456789", 3), *z64 = rep("0", 64);
	char b[8][200];

	snprintf(b[0], sizeof(b[0]), "0.%s", n38);
	snprintf(b[1], sizeof(b[1]), "%s.%s", n35, n30);
	snprintf(b[2], sizeof(b[2]), "0.%s1", z37);
	snprintf(b[3], sizeof(b[3]), "-0.%s1", z29);
	snprintf(b[4], sizeof(b[4]), "1%s1", g7);
	snprintf(b[5], sizeof(b[5]), "-12345678901234567890123456789012345.%s", t3);
	snprintf(b[6], sizeof(b[6]), "-1%s", z64);
	snprintf(b[7], sizeof(b[7]), "0.%s1", z29);
	{
		char m0[220], m1[220], m2[220], m3[220];
		snprintf(m0, sizeof(m0), "-%s", b[0]);
		snprintf(m1, sizeof(m1), "-%s", n65);
		snprintf(m2, sizeof(m2), "-%s", b[1]);
		snprintf(m3, sizeof(m3), "0.%s", n38);
		const char *const r1[] = {"1",
					  "9",
					  "999.99",
					  "99999.99999",
					  "999999999.999999999",
					  "9999999999999999999",
					  "9999999999.9999999999",
					  "0.999999999",
					  m3,
					  n65,
					  b[1],
					  "99999999.9999",
					  "9999.999",
					  "9999999999",
					  "99999.999",
					  NULL};
		const char *const r2[] = {"2",
					  "-9",
					  "-999.99",
					  "-99999.99999",
					  "-999999999.999999999",
					  "-9999999999999999999",
					  "-9999999999.9999999999",
					  "-0.999999999",
					  m0,
					  m1,
					  m2,
					  "0",
					  "-9999.999",
					  "-9999999999",
					  "0",
					  NULL};
		const char *const r3[] = {"3", "0", "0", "0", "0", "0", "0", "0",
					  "0", "0", "0", "0", "0", "0", "0", NULL};
		const char *const r4[] = {"4",
					  "1",
					  "-0.01",
					  "0.00001",
					  "-0.000000001",
					  "-1",
					  "0.0000000001",
					  "-0.000000001",
					  b[2],
					  "1",
					  b[3],
					  "0.0001",
					  "-0.001",
					  "-1",
					  "1.5",
					  NULL};
		const char *const r5[] = {"5",
					  "-3",
					  "123.45",
					  "-12345.6789",
					  "123456789.123456789",
					  "-1234567890123456789",
					  "-1234567890.0123456789",
					  "0.123456789",
					  "-0.12345678901234567890123456789012345678",
					  b[4],
					  b[5],
					  "1234.5678",
					  "-1.5",
					  "42",
					  "0.001",
					  NULL};
		const char *const r6[] = {"6",         "0.5",         "1.005",
					  "-0.000004", "100000000",   "1000000000000000000",
					  "-0.5",      "0.000000001", "0.5",
					  b[6],        b[7],          "12345678.9",
					  "0.0005",    "1e5",         "12.3456",
					  NULL};
		const char *const r7[] = {"7",    "NULL", "NULL", "NULL", "NULL", "NULL",
					  "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
					  "NULL", "NULL", "NULL", NULL};
		const char *const *const rows[] = {r1, r2, r3, r4, r5, r6, r7, NULL};
		insert_rows("t_dec", rows);
	}
	free(n65);
	free(n30);
	free(n35);
	free(n38);
	free(z37);
	free(z29);
	free(g7);
	free(t3);
	free(z64);
}

static void insert_float(void)
{
	static const char *const r1[] = {"1",    "0.1",         "0.1", "1.5",  "0.1",
					 "1.23", "1.123456789", "0.1", "1e-7", NULL};
	static const char *const r2[] = {"2",
					 "3.4028234663852886e38",
					 "1e300",
					 "3.4028234663852886e38",
					 "1.7976931348623157e308",
					 "99999.99",
					 "123456789012345.12345",
					 "2.5",
					 "1e23",
					 NULL};
	/* MariaDB stores no -0.0 it is given, but a negative double that
	 * underflows into a FLOAT leaves one. */
	static const char *const r3[] = {"3",     "-1e-30*1e-30", "-1e-300*1e-300", "0", "-0e0",
					 "-0.01", "-0.1",         "-0.0",           "0", NULL};
	static const char *const r4[] = {"4",
					 "1e-45",
					 "4.9e-324",
					 "1.17549435e-38",
					 "2.2250738585072014e-308",
					 "0.005",
					 "0.000005",
					 "1e-300",
					 "-2.2250738585072009e-308",
					 NULL};
	static const char *const r5[] = {
		"5",        "16777217",     "9007199254740993", "16777216", "-9007199254740992",
		"12345.67", "-99999.99999", "123456789",        "1e22",     NULL};
	static const char *const r6[] = {
		"6",      "-1.5e-40", "0.30000000000000004", "1.1", "1/3e0", "2", "1e14", "1e16",
		"5e-324", NULL};
	static const char *const r7[] = {"7",    "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", "NULL", NULL};
	static const char *const *const rows[] = {r1, r2, r3, r4, r5, r6, r7, NULL};

	insert_rows("t_float", rows);
}

static void insert_bit(void)
{
	static const char *const r1[] = {"1", "0", "0", "0", "0", "0", "0", "0", "0", NULL};
	static const char *const r2[] = {"2",
					 "1",
					 "127",
					 "255",
					 "1023",
					 "131071",
					 "4294967295",
					 "9223372036854775807",
					 "18446744073709551615",
					 NULL};
	static const char *const r3[] = {"3",
					 "b'1'",
					 "b'1000001'",
					 "b'10000001'",
					 "b'1000000001'",
					 "b'10000000000000001'",
					 "b'10000000000000000000000000000001'",
					 "4611686018427387905",
					 "9223372036854775809",
					 NULL};
	static const char *const r4[] = {"4",
					 "1",
					 "85",
					 "170",
					 "513",
					 "65536",
					 "2147483648",
					 "4611686018427387904",
					 "9223372036854775808",
					 NULL};
	static const char *const r5[] = {"5",    "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", "NULL", NULL};
	static const char *const *const rows[] = {r1, r2, r3, r4, r5, NULL};

	insert_rows("t_bit", rows);
}

static void insert_temporal(void)
{
	static const char *const r1[] = {"1",
					 "'0000-00-00'",
					 "'00:00:00'",
					 "'00:00:00.0'",
					 "'00:00:00.00'",
					 "'00:00:00.000'",
					 "'00:00:00.0000'",
					 "'00:00:00.00000'",
					 "'00:00:00.000000'",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00.0'",
					 "'0000-00-00 00:00:00.00'",
					 "'0000-00-00 00:00:00.000'",
					 "'0000-00-00 00:00:00.0000'",
					 "'0000-00-00 00:00:00.00000'",
					 "'0000-00-00 00:00:00.000000'",
					 "'0000'",
					 NULL};
	static const char *const r2[] = {"2",
					 "'1000-01-01'",
					 "'-838:59:59'",
					 "'-838:59:59.9'",
					 "'-838:59:59.99'",
					 "'-838:59:59.999'",
					 "'-838:59:59.9999'",
					 "'-838:59:59.99999'",
					 "'-838:59:59.999999'",
					 "'1000-01-01 00:00:00'",
					 "'1000-01-01 00:00:00.1'",
					 "'1000-01-01 00:00:00.01'",
					 "'1000-01-01 00:00:00.001'",
					 "'1000-01-01 00:00:00.0001'",
					 "'1000-01-01 00:00:00.00001'",
					 "'1000-01-01 00:00:00.000001'",
					 "1901",
					 NULL};
	static const char *const r3[] = {"3",
					 "'9999-12-31'",
					 "'838:59:59'",
					 "'838:59:59.9'",
					 "'838:59:59.99'",
					 "'838:59:59.999'",
					 "'838:59:59.9999'",
					 "'838:59:59.99999'",
					 "'838:59:59.999999'",
					 "'9999-12-31 23:59:59'",
					 "'9999-12-31 23:59:59.9'",
					 "'9999-12-31 23:59:59.99'",
					 "'9999-12-31 23:59:59.999'",
					 "'9999-12-31 23:59:59.9999'",
					 "'9999-12-31 23:59:59.99999'",
					 "'9999-12-31 23:59:59.999999'",
					 "2155",
					 NULL};
	static const char *const r4[] = {"4",
					 "'2024-02-29'",
					 "'-01:02:03'",
					 "'-01:02:03.5'",
					 "'-00:00:00.01'",
					 "'-01:02:03.500'",
					 "'-00:00:00.0001'",
					 "'-00:00:00.00001'",
					 "'-00:00:00.000001'",
					 "'2024-02-29 12:34:56'",
					 "'2024-02-29 12:34:56.7'",
					 "'2024-02-29 12:34:56.78'",
					 "'2024-02-29 12:34:56.789'",
					 "'2024-02-29 12:34:56.7891'",
					 "'2024-02-29 12:34:56.78912'",
					 "'2024-02-29 12:34:56.789123'",
					 "2024",
					 NULL};
	static const char *const r5[] = {"5",
					 "'2024-00-15'",
					 "'12:00:00'",
					 "'00:00:00.1'",
					 "'00:00:00.01'",
					 "'23:59:59.999'",
					 "'100:00:00.0001'",
					 "'-100:00:00.00001'",
					 "'00:00:00.000001'",
					 "'2024-00-00 00:00:00'",
					 "'1970-01-01 00:00:00.5'",
					 "'1969-12-31 23:59:59.25'",
					 "'2038-01-19 03:14:08.001'",
					 "'0001-01-01 00:00:00.0001'",
					 "'2000-02-29 23:59:59.99999'",
					 "'0000-01-01 00:00:00.000001'",
					 "69",
					 NULL};
	static const char *const r6[] = {"6",    "NULL", "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", "NULL", "NULL", NULL};
	static const char *const *const rows[] = {r1, r2, r3, r4, r5, r6, NULL};

	insert_rows("t_temporal", rows);
}

static void insert_ts(void)
{
	/* In the inserting session's time zone, the server's +03:00. */
	static const char *const r1[] = {"1",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00'",
					 "'0000-00-00 00:00:00'",
					 NULL};
	static const char *const r2[] = {"2",
					 "'1970-01-01 03:00:01'",
					 "'1970-01-01 03:00:01.1'",
					 "'1970-01-01 03:00:00.01'",
					 "'1970-01-01 03:00:00.001'",
					 "'1970-01-01 03:00:00.0001'",
					 "'1970-01-01 03:00:00.00001'",
					 "'1970-01-01 03:00:00.000001'",
					 NULL};
	static const char *const r3[] = {"3",
					 "'2038-01-19 06:14:07'",
					 "'2038-01-19 06:14:07.9'",
					 "'2038-01-19 06:14:07.99'",
					 "'2038-01-19 06:14:07.999'",
					 "'2038-01-19 06:14:07.9999'",
					 "'2038-01-19 06:14:07.99999'",
					 "'2038-01-19 06:14:07.999999'",
					 NULL};
	static const char *const r4[] = {"4",
					 "'2024-06-15 12:34:56'",
					 "'2024-06-15 12:34:56.1'",
					 "'2024-06-15 12:34:56.12'",
					 "'2024-06-15 12:34:56.123'",
					 "'2024-06-15 12:34:56.1234'",
					 "'2024-06-15 12:34:56.12345'",
					 "'2024-06-15 12:34:56.123456'",
					 NULL};
	static const char *const r5[] = {"5",
					 "'2000-03-01 02:59:59'",
					 "'2000-03-01 02:59:59.5'",
					 "'2000-02-29 23:59:59.25'",
					 "'1999-12-31 23:59:59.999'",
					 "'2021-03-28 01:59:59.9999'",
					 "'2021-10-31 02:59:59.55555'",
					 "'2004-02-29 00:00:00.000001'",
					 NULL};
	static const char *const r6[] = {"6",    "NULL", "NULL", "NULL", "NULL",
					 "NULL", "NULL", "NULL", NULL};
	static const char *const *const rows[] = {r1, r2, r3, r4, r5, r6, NULL};

	insert_rows("t_ts", rows);
}

static void insert_text(void)
{
	static const char *const samples[] = {
		"plain ASCII",
		"😀👍🏽 emoji, 𝄞 music, ü é ß, 中文, עברית",
		"quotes ' \" backslash \\ slash / newline\n tab\t cr\r",
		"controls \x01\x02\x1f\x7f and \xc2\x85 \xe2\x80\xa8 \xef\xbb\xbf \xef\xbf\xbd",
		"",
		"trailing spaces   ",
	};
	char num[16];

	for (int k = 0; k < 6; k++) {
		const char *s = samples[k];
		char *x3 = rep(s, 3), *x10 = rep(s, 10), *x20 = rep(s, 20), *x2 = rep(s, 2);
		char *c10 = utf8_prefix(s, 10), *c20 = utf8_prefix(s, 20),
		     *c40 = utf8_prefix(s, 40);
		char *lv = rep(s, 50);

		snprintf(num, sizeof(num), "%d", k + 1);
		q_start("INSERT INTO t_text (id, c, cw, vc, vl, vbin, vuca, tt, tx, mt, lt, nat, "
			"lv,"
			" hidden_c) VALUES (");
		q_put(num);
		q_put(", ");
		q_utf8(k == 5 ? "ab  " : c10);
		q_put(", ");
		q_utf8(s);
		q_put(", ");
		q_utf8(c20);
		q_put(", ");
		q_utf8(x3);
		q_put(", ");
		q_utf8(c40);
		q_put(", ");
		q_utf8(c40);
		q_put(", ");
		q_utf8(c40);
		q_put(", ");
		q_utf8(x10);
		q_put(", ");
		q_utf8(x20);
		q_put(", ");
		q_utf8(x2);
		q_put(", ");
		q_utf8(k == 1 ? "ü é ß, 中文" : c20);
		q_put(", ");
		q_utf8(lv);
		q_put(", ");
		q_put(num);
		q_put(")");
		q_exec();
		free(x3);
		free(x10);
		free(x20);
		free(x2);
		free(c10);
		free(c20);
		free(c40);
		free(lv);
	}
	{
		/* Long values and a NUL byte. */
		char *a = rep("😀", 10), *b = rep("😀", 255), *c = rep("😀", 300),
		     *d = rep("ü", 32000);
		char *e = rep("Lorem ipsum dolor sit amet ", 4000), *f = rep("ä€😀", 8000);
		char *g = rep("z", 70000), *h = rep("😀", 63);
		q_start("INSERT INTO t_text (id, c, cw, vc, vl, vbin, vuca, tt, tx, mt, lt, nat, "
			"lv)"
			" VALUES (7, ");
		q_utf8(a);
		q_put(", ");
		q_utf8(b);
		q_put(", ");
		q_utf8n("nul\0byte", 8);
		q_put(", ");
		q_utf8(c);
		q_put(", 'a', 'x', ");
		q_utf8(h);
		q_put(", ");
		q_utf8(d);
		q_put(", ");
		q_utf8n(e, 100000);
		q_put(", ");
		q_utf8(f);
		q_put(", NULL, ");
		q_utf8(g);
		q_put(")");
		q_exec();
		free(a);
		free(b);
		free(c);
		free(d);
		free(e);
		free(f);
		free(g);
		free(h);
	}
	sql("INSERT INTO t_text (id) VALUES (8)");
	sql("UPDATE t_text SET vc = 'changed', hidden_c = 99 WHERE id = 1");
}

static void insert_binary(void)
{
	uint8_t allb[256], *big = malloc(256 * 300), *rnd = malloc(100000), *z = calloc(1, 65535);

	for (int i = 0; i < 256; i++)
		allb[i] = (uint8_t)i;
	for (int i = 0; i < 300; i++)
		memcpy(big + 256 * i, allb, 256);
	rng_bytes(rnd, 100000);
	/* id, b1, b8, b255, vb, vbl, tb, bl, mb, lb, cbin, vcbin */
	q_start("INSERT INTO t_binary VALUES (1, X'00', X'0102', X'00', X'0000', X'61620000',"
		" X'00', X'000000', X'78', X'FF', X'0001', X'0000')");
	q_exec();
	q_start("INSERT INTO t_binary VALUES (2, X'', X'', X'', X'', X'', X'', X'', X'', X'', X'',"
		" X'')");
	q_exec();
	q_start("INSERT INTO t_binary VALUES (3, X'20', X'61622020', X'612020', X'61622020',"
		" X'2020', X'61622020', X'20', X'200020', X'656E6400', X'6120', X'61200020')");
	q_exec();
	q_start("INSERT INTO t_binary VALUES (4, X'FF', ");
	q_hex(allb + 248, 8);
	q_put(", ");
	q_hex(allb + 1, 255);
	q_put(", ");
	q_hex(allb, 10);
	q_put(", ");
	q_hex(big, 768);
	q_put(", ");
	q_hex(allb, 255);
	q_put(", ");
	q_hex(big, 256 * 200);
	q_put(", ");
	q_hex(big, 256 * 257);
	q_put(", ");
	q_hex(big, 256 * 300);
	q_put(", ");
	q_hex(allb + 250, 4);
	q_put(", ");
	q_hex(allb + 246, 10);
	q_put(")");
	q_exec();
	q_start("INSERT INTO t_binary VALUES (5, X'80', X'FFFFFFFFFFFFFFFF', NULL, NULL, NULL, "
		"NULL, ");
	q_hex(z, 65535);
	q_put(", ");
	q_hex(rnd, 100000);
	q_put(", ");
	q_hex(rnd, 70000);
	q_put(", NULL, NULL)");
	q_exec();
	sql("INSERT INTO t_binary (id) VALUES (6)");
	free(big);
	free(rnd);
	free(z);
}

static void insert_enum(void)
{
	{
		/* SET with 64 members, ENUM with 300 labels. */
		binlog_buf_t d;
		char x[24];
		binlog_buf_init(&d, 0);
		binlog_buf_puts(&d, "ALTER TABLE t_enum ADD COLUMN s64 SET(");
		for (int k = 0; k < 64; k++) {
			snprintf(x, sizeof(x), "%s'm%d'", k ? ", " : "", k);
			binlog_buf_puts(&d, x);
		}
		binlog_buf_puts(&d, "), ADD COLUMN e300 ENUM(");
		for (int k = 0; k < 300; k++) {
			snprintf(x, sizeof(x), "%s'v%d'", k ? ", " : "", k);
			binlog_buf_puts(&d, x);
		}
		binlog_buf_puts(&d, ")");
		binlog_buf_putc(&d, 0);
		sql((const char *)d.data);
		binlog_buf_free(&d);
	}
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (1, 'a', '', 'café', "
	    "'привет', '', '日本', '', '')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (2, ' sp ', "
	    "'x,y''q,z,ü,a\"b,😀,b\\\\s,h,i', 'x', 'мир',"
	    " 'ä,ö,ü', '語', 'ä€,😀', 'x')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (3, 'b,c', 'x', 'naïve', "
	    "'мир', 'ü', '日本', '😀', '')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (4, 'it''s', 'y''q', "
	    "'café', 'привет', 'ä', '語', 'ä€',"
	    " 'x')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (5, 'q\"uote', "
	    "'😀,b\\\\s', 'x', 'мир', 'ö,ü', '日本', '',"
	    " '')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (6, 'back\\\\slash', "
	    "'i', 'naïve', 'привет', '', '語', '😀',"
	    " 'x')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (7, '😀', 'ü', NULL, "
	    "NULL, NULL, NULL, NULL, '')");
	sql("INSERT INTO t_enum (id, e, s, el, ec, es, eu, su, en) VALUES (8, 'ü', NULL, NULL, "
	    "NULL, NULL, NULL, NULL, 'x')");
	/* The '' error value (index 0), in a session that allows it. */
	sql("SET SESSION sql_mode = ''");
	sql("INSERT INTO t_enum (id, e, el, en) VALUES (9, 'nope', 'nope', 'nope')");
	sql("SET SESSION sql_mode = DEFAULT");
	sql("UPDATE t_enum SET eq = 'it''s', sq = 'it''s,cr\\rx' WHERE id = 1");
	sql("UPDATE t_enum SET eq = 'q\"uote', sq = 'back\\\\slash' WHERE id = 2");
	sql("UPDATE t_enum SET eq = 'back\\\\slash', sq = 'nl\\nx' WHERE id = 3");
	sql("UPDATE t_enum SET eq = 'nl\\nx' WHERE id = 4");
	sql("UPDATE t_enum SET eq = 'tab\\tx' WHERE id = 5");
	sql("UPDATE t_enum SET eq = 'z\\Zz' WHERE id = 6");
	sql("UPDATE t_enum SET eq = 'a,b' WHERE id = 7");
	sql("UPDATE t_enum SET s64 = 'm0,m31,m32,m63', e300 = 'v299' WHERE id = 1");
	sql("UPDATE t_enum SET s64 = 'm7', e300 = 'v255' WHERE id = 2");
	sql("UPDATE t_enum SET s64 = '', e300 = 'v0' WHERE id = 3");
}

static void insert_json(void)
{
	static const char *const docs[] = {
		"{\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"e\"}}",
		"[]",
		"\"a string\"",
		"null",
		"1.5e300",
		"{\"emoji\": \"😀\", \"esc\": \"\\n\\t\\\"\\\\\", \"u\": \"\\u00e9\"}",
		"{}",
		"-0",
		"  {\"k\" :\n [1 ,\t2]}  ",
		"12345678901234567890",
	};
	char num[16];

	for (int k = 0; k < 10; k++) {
		snprintf(num, sizeof(num), "%d", k + 1);
		q_start("INSERT INTO t_json VALUES (");
		q_put(num);
		q_put(", ");
		q_utf8(docs[k]);
		q_put(", ");
		q_utf8(docs[(k + 5) % 10]);
		q_put(")");
		q_exec();
	}
	sql("INSERT INTO t_json VALUES (11, NULL, NULL)");
	sql("SET SESSION check_constraint_checks = 0");
	sql("INSERT INTO t_json VALUES (12, 'not json {', '[1,]')");
	sql("SET SESSION check_constraint_checks = 1");
}

static void insert_geo(void)
{
	static const char *const wkt[3][10] = {
		{"POINT(1 2)", "POINT(0 0)", "LINESTRING(0 0,1 1,2 2)",
		 "POLYGON((0 0,10 0,10 10,0 10,0 0))", "MULTIPOINT(1 1,2 2)",
		 "MULTILINESTRING((0 0,1 1),(2 2,3 3))",
		 "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))",
		 "GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))", "POINT(13.4 52.5)",
		 "POINT(1000 2000)"},
		{"LINESTRING(-1.5 2.25,3e10 -4e-10)", "POINT(-0.000001 1e300)",
		 "LINESTRING(1 1,1 1)", "POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))",
		 "MULTIPOINT(0 0)", "MULTILINESTRING((1 2,3 4))",
		 "MULTIPOLYGON(((0 0,1 0,0 1,0 0)))", "GEOMETRYCOLLECTION EMPTY",
		 "POLYGON((0 0,1 0,0 1,0 0))", "POINT(-1 -1)"},
		{"GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(POINT(3 4)))",
		 "POINT(123.456 -78.9)", "LINESTRING(0 0,0 1,1 1,1 0,0 0)",
		 "POLYGON((1 1,2 1,2 2,1 1))", "MULTIPOINT(1 2,3 4,5 6,7 8)",
		 "MULTILINESTRING((0 0,1 1,2 2),(3 3,4 4))", "MULTIPOLYGON(((1 1,2 1,2 2,1 1)))",
		 "GEOMETRYCOLLECTION(MULTIPOINT(1 1,2 2),POLYGON((0 0,1 0,0 1,0 0)))",
		 "LINESTRING(0 0,1 1)", "POINT(0 0)"},
	};
	static const int srids[6] = {0, 4326, 3857, 0, 2154, 4326};
	char x[300];

	for (int k = 0; k < 6; k++) {
		snprintf(x, sizeof(x), "INSERT INTO t_geo VALUES (%d", k + 1);
		q_start(x);
		for (int c = 0; c < 10; c++) {
			int srid = c == 8 ? 4326 : c == 9 ? 3857 : srids[k];
			snprintf(x, sizeof(x), ", ST_GeomFromText('%s', %d)", wkt[k % 3][c], srid);
			q_put(x);
		}
		q_put(")");
		q_exec();
	}
	sql("INSERT INTO t_geo (id) VALUES (7)");
}

static void insert_mdb(void)
{
	static const char *const uuids[] = {
		"6ccd780c-baba-1026-9564-5b8c656024db", "3f0e9c5a-7b1d-4c2e-9f3a-8d6b5e4c3a21",
		"01890a5d-ac96-774b-bcce-b302099a8057", "00000000-0000-0000-0000-000000000000",
		"ffffffff-ffff-ffff-ffff-ffffffffffff", "11112222-3333-4444-5555-666677778888"};
	static const char *const v4[] = {"192.168.1.10", "0.0.0.0",   "255.255.255.255",
					 "10.0.0.1",     "127.0.0.1", "1.2.3.4"};
	static const char *const v6[] = {"2001:db8::ff00:42:8329",
					 "::",
					 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					 "::ffff:1.2.3.4",
					 "1:0:2:3:4:5:6:7",
					 "::1.2.3.4"};
	char x[400];

	for (int k = 0; k < 6; k++) {
		snprintf(x, sizeof(x),
			 "INSERT INTO t_mdb VALUES (%d, '%s', '%s', '%s', UPPER('%s'))", k + 1,
			 uuids[k], v4[k], v6[k], uuids[(k + 1) % 6]);
		sql(x);
	}
	sql("INSERT INTO t_mdb (id) VALUES (7)");
}

static void insert_comp(void)
{
	uint8_t rnd[1800], *rb = malloc(100000), *ab = malloc(100000);
	char rhex[3601];
	char *t;

	rng_bytes(rnd, sizeof(rnd));
	rng_bytes(rb, 100000);
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(rhex + 2 * i, 3, "%02x", rnd[i]);
	for (int i = 0; i < 100000; i++)
		ab[i] = (uint8_t)(i & 1 ? 2 : 1);
	sql("INSERT INTO t_comp VALUES (1, 'short', 'café', X'0001', 't', '😀', X'FF', 'm', X'6C')");
	q_start("INSERT INTO t_comp VALUES (2, ");
	t = rep("abc", 300);
	q_utf8(t);
	free(t);
	q_put(", ");
	t = rep("é", 300);
	q_utf8(t);
	free(t);
	q_put(", ");
	q_hex(rb, 0);
	q_put(", ");
	t = rep("x", 250);
	q_utf8(t);
	free(t);
	q_put(", ");
	t = rep("😀", 5000);
	q_utf8(t);
	free(t);
	q_put(", ");
	q_hex(ab, 60000);
	q_put(", ");
	t = rep("Lorem ipsum ", 10000);
	q_utf8(t);
	free(t);
	q_put(", ");
	q_hex(ab, 100000);
	q_put(")");
	q_exec();
	q_start("INSERT INTO t_comp VALUES (3, ");
	q_utf8n(rhex, 1000);
	q_put(", ");
	q_utf8n(rhex, 300);
	q_put(", ");
	q_hex(rnd, 1800);
	q_put(", ");
	q_utf8n(rhex, 255);
	q_put(", ");
	q_utf8n(rhex, 3600);
	q_put(", ");
	q_hex(rb, 18000);
	q_put(", ");
	q_utf8n(rhex, 3600);
	q_put(", ");
	q_hex(rb, 100000);
	q_put(")");
	q_exec();
	sql("INSERT INTO t_comp VALUES (4, '', '', X'', '', '', X'', '', X'')");
	sql("INSERT INTO t_comp (id) VALUES (5)");
	free(rb);
	free(ab);
}

static void insert_misc(void)
{
	sql("INSERT INTO t_misc (a, h, ts, df, n) VALUES (1, 101, '2020-01-01 00:00:00.5', 'd0', "
	    "0)");
	sql("INSERT INTO t_misc (a, ts, n) VALUES (2, '2020-01-02 00:00:00.25', 3)");
	sql("INSERT INTO t_misc (a) VALUES (NULL)");
	sql("INSERT INTO t_misc (a, h, df) VALUES (4, NULL, NULL)");
	sql("UPDATE t_misc SET a = 10 WHERE id = 2");
}

static void insert_keys(void)
{
	char x[300];

	sql("INSERT INTO t_nopk VALUES (1, 'a', 1, X'00', 1.5), (1, 'a', 1, X'00', 1.5),"
	    " (2, NULL, NULL, NULL, NULL), (3, 'c', 3, X'0303', -0.25)");
	sql("DELETE FROM t_nopk WHERE id = 3");
	sql("INSERT INTO t_nopk VALUES (4, 'd', 4, X'', 1e300)");
	for (int k = 0; k < 6; k++) {
		snprintf(
			x, sizeof(x),
			"INSERT INTO t_cpk VALUES (%d, 'val%d', _utf8mb4 'ключ-%d', %d, 'text %d')",
			k, k, k % 3, k, k);
		sql(x);
		snprintf(x, sizeof(x), "INSERT INTO t_uniq VALUES ('u%d', %d, %d, 't%d', NULL)", k,
			 k, k * 10, k);
		sql(x);
	}
	sql("UPDATE t_cpk SET k1 = 100 WHERE k1 = 1");
	sql("INSERT INTO t_sv VALUES (1, 1), (2, 2), (3, 3)");
	sql("UPDATE t_sv SET x = 20 WHERE id = 2");
	sql("DELETE FROM t_sv WHERE id = 3");
	sql("INSERT INTO t_lu VALUES (1, 'a long text'), (2, 'another'), (3, NULL)");
	sql("INSERT INTO t_prefix VALUES ('abcdefghijklmnop', 1), ('abc', 2), ('x', 3)");
	sql("INSERT INTO t_tprefix VALUES ('the same first twenty chars, then a', 1),"
	    " ('the same first twenty chars, then a', 2), ('short', 1)");
	sql("INSERT INTO `t_näme \"q\" \\ ``b``` VALUES (1, 2, 'v1', -1, 7),"
	    " (2, NULL, 'v\\'2', NULL, NULL)");
	for (size_t t = 0; t < NKEYTABS; t++) {
		snprintf(x, sizeof(x), "CREATE TABLE %s (k %s NOT NULL PRIMARY KEY, n INT)",
			 keytabs[t].name, keytabs[t].type);
		sql(x);
		for (int k = 0; keytabs[t].vals[k]; k++) {
			q_start("INSERT INTO ");
			q_put(keytabs[t].name);
			q_put(" VALUES (");
			q_put(keytabs[t].vals[k]);
			snprintf(x, sizeof(x), ", %d)", k + 1);
			q_put(x);
			q_exec();
		}
	}
}

/* ------------------------------------------------------------------ */
/* The binlog path                                                     */

/* A table's TABLE_MAP, as text (dump_table), by name. */
typedef struct tmap {
	char *name;
	char *dump;
} tmap_t;

typedef struct live {
	binlog_decoder_t *dec;
	cdc_stream_t st;
	du_result_t *res;
	du_sink_t sink;
	schema_catalog_t *cat;
	cdc_filter_t *filter;
	schema_opts_t opts;
	tmap_t maps[256];
	size_t nmaps;
} live_t;

static const char *const exclude_rules[] = {"snap\\.t_misc\\.n", "snap\\.t_geo\\.ml", NULL};
static const char *const mask_rules[] = {"snap\\.t_text\\.vc", "snap\\.t_mdb\\.u2",
					 "snap\\.t_json\\.j2", NULL};

static void opts_init(schema_opts_t *o, cdc_filter_t **filter, schema_catalog_t **cat)
{
	cdc_source_conf_t src;
	binlog_err_t err;

	memset(&src, 0, sizeof(src));
	src.columns_exclude.v = (char **)exclude_rules;
	src.columns_exclude.n = 2;
	src.columns_mask.v = (char **)mask_rules;
	src.columns_mask.n = 3;
	assert_int_equal(cdc_filter_new(&src, filter, &err), BINLOG_OK);
	*cat = schema_catalog_new(S.m);
	assert_non_null(*cat);
	memset(o, 0, sizeof(*o));
	o->catalog = *cat;
	o->catalog_mode = CDC_CATALOG_AUTO;
	o->filter = *filter;
}

/* Everything a record's "data" depends on in a table definition, one
 * line per column. */
static char *dump_table(const binlog_table_t *bt)
{
	binlog_buf_t b;
	char x[400];

	binlog_buf_init(&b, 0);
	snprintf(x, sizeof(x), "has=%#x ncols=%u njson=%u pk=[", bt->has, bt->ncols, bt->njson);
	binlog_buf_puts(&b, x);
	for (uint32_t k = 0; k < bt->npk; k++) {
		snprintf(x, sizeof(x), "%s%u", k ? "," : "", bt->pk[k]);
		binlog_buf_puts(&b, x);
	}
	binlog_buf_puts(&b, "]\n");
	for (uint32_t i = 0; i < bt->ncols; i++) {
		const binlog_column_t *c = &bt->cols[i];
		snprintf(x, sizeof(x),
			 "  %u %.*s: type=%u wire=%u flags=%#x geom=%u meta=%#x length=%u coll=%u "
			 "vdim=%u prefix=%u json=%u nlabels=%u lcoll=%u",
			 i, (int)c->name.len, c->name.p, c->type, c->wire_type, c->flags,
			 c->geom_type, c->meta, c->length, c->collation, c->vector_dim,
			 c->pk_prefix, c->json_index, c->nlabels, c->labels_collation);
		binlog_buf_puts(&b, x);
		for (uint32_t k = 0; k < c->nlabels; k++) {
			binlog_buf_puts(&b, k ? "," : " [");
			binlog_jw_hex(&b, (const uint8_t *)c->labels[k].p, c->labels[k].len);
			if (k + 1 == c->nlabels)
				binlog_buf_putc(&b, ']');
		}
		binlog_buf_putc(&b, '\n');
	}
	binlog_buf_putc(&b, 0);
	return (char *)b.data;
}

static void note_map(live_t *L, const binlog_table_t *bt)
{
	char name[256];
	size_t i;

	snprintf(name, sizeof(name), "%.*s", (int)bt->name.len, bt->name.p);
	for (i = 0; i < L->nmaps && strcmp(L->maps[i].name, name) != 0; i++)
		;
	if (i == L->nmaps) {
		assert_true(L->nmaps < 256);
		L->maps[i].name = strdup(name);
		L->nmaps++;
	} else {
		free(L->maps[i].dump);
	}
	L->maps[i].dump = dump_table(bt);
}

static const char *map_of(const live_t *L, const char *name)
{
	for (size_t i = 0; i < L->nmaps; i++)
		if (strcmp(L->maps[i].name, name) == 0)
			return L->maps[i].dump;
	return NULL;
}

static void decode_file(live_t *L, const char *path)
{
	cdc_file_t *f;
	binlog_err_t err;
	binlog_event_t ev;
	const uint8_t *p;
	uint32_t n;
	uint64_t off;
	int k;

	f = cdc_file_open(path, &err);
	if (!f)
		fail_msg("%s", err.msg);
	binlog_decoder_reset(L->dec);
	binlog_decoder_set_source(L->dec, cdc_file_path(f));
	cdc_stream_set_file(&L->st, cdc_file_name(f));
	while ((k = cdc_file_next(f, L->dec, &p, &n, &off, &err)) > 0) {
		if (binlog_decoder_feed(L->dec, p, n, off, &err) != BINLOG_OK)
			fail_msg("%s", err.msg);
		while ((k = binlog_decoder_next(L->dec, &ev, &err)) > 0) {
			if (ev.type == BINLOG_TABLE_MAP_EVENT) {
				if (!schema_table_get_ex(ev.u.table_map, &L->opts, &err))
					fail_msg("schema: %s", err.msg);
				note_map(L, ev.u.table_map);
			} else if (ev.type == BINLOG_QUERY_EVENT) {
				char db[256];
				snprintf(db, sizeof(db), "%.*s", (int)ev.u.query.db.len,
					 ev.u.query.db.p ? ev.u.query.db.p : "");
				assert_int_equal(schema_catalog_ddl(L->cat, db, ev.u.query.sql.p,
								    ev.u.query.sql.len, &err),
						 BINLOG_OK);
			}
			if (cdc_stream_event(&L->st, &ev, &err) != BINLOG_OK)
				fail_msg("%s", err.msg);
		}
		if (k < 0)
			fail_msg("%s", err.msg);
	}
	if (k < 0)
		fail_msg("%s", err.msg);
	cdc_file_close(f);
}

static void decode_all(live_t *L)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	int n = 0, total;
	char path[800];

	memset(L, 0, sizeof(*L));
	opts_init(&L->opts, &L->filter, &L->cat);
	L->dec = binlog_decoder_new(NULL);
	assert_non_null(L->dec);
	L->res = calloc(1, sizeof(*L->res));
	L->sink.base.ops = &du_ops;
	L->sink.r = L->res;
	assert_int_equal(cdc_stream_init(&L->st, &L->sink.base), BINLOG_OK);
	sql("FLUSH BINARY LOGS");
	assert_int_equal(mysql_query(S.m, "SHOW BINARY LOGS"), 0);
	r = mysql_store_result(S.m);
	total = (int)mysql_num_rows(r);
	while ((row = mysql_fetch_row(r)) && n++ < total - 1) {
		snprintf(path, sizeof(path), "%s/srv/data/%s", S.dir, row[0]);
		decode_file(L, path);
	}
	mysql_free_result(r);
}

static void live_free(live_t *L)
{
	cdc_stream_free(&L->st);
	binlog_decoder_free(L->dec);
	schema_catalog_free(L->cat);
	cdc_filter_free(L->filter);
	du_free(L->res);
	for (size_t i = 0; i < L->nmaps; i++) {
		free(L->maps[i].name);
		free(L->maps[i].dump);
	}
}

/* ------------------------------------------------------------------ */
/* Records, piece by piece                                             */

/* The end of the JSON value starting at s[i]. */
static size_t value_end(const char *s, size_t i)
{
	int depth = 0;

	for (;; i++) {
		switch (s[i]) {
		case 0:
			return i;
		case '"':
			for (i++; s[i] && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (!depth)
				return i + 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth <= 0)
				return depth < 0 ? i : i + 1;
			break;
		case ',':
			if (!depth)
				return i;
			break;
		default:
			break;
		}
	}
}

/* The raw text of top-level member `name` of record r (a new string), or
 * NULL when it has none. */
static char *member(const char *r, const char *name)
{
	char key[64];
	const char *p;
	size_t e;

	snprintf(key, sizeof(key), "\"%s\":", name);
	/* Top-level members follow "data"; search past its value. */
	if (strcmp(name, "data") == 0) {
		p = r + 1;
	} else {
		size_t d = value_end(r, 8);
		p = strstr(r + d, key);
		if (!p)
			return NULL;
	}
	if (strncmp(p, key, strlen(key)) != 0)
		return NULL;
	p += strlen(key);
	e = value_end(p, 0);
	return strndup(p, e);
}

/* "data" without its member `drop` (a new string). */
static char *data_without(const char *data, const char *drop)
{
	char key[64];
	const char *p;
	char *out;
	size_t e;

	snprintf(key, sizeof(key), "\"%s\":", drop);
	p = strstr(data, key);
	if (!p)
		return strdup(data);
	e = value_end(p + strlen(key), 0);
	out = malloc(strlen(data) + 1);
	{
		/* Drop the member and the comma before it (after it, when it
		 * is the first). */
		const char *from = p[-1] == ',' ? p - 1 : p;
		const char *rest = p + strlen(key) + e;
		if (p[-1] != ',' && *rest == ',')
			rest++;
		memcpy(out, data, (size_t)(from - data));
		memcpy(out + (from - data), rest, strlen(rest) + 1);
	}
	return out;
}

/* The key of a record: the raw values of the "pk" columns in "data". */
static char *key_of(const char *data, const char *pk)
{
	binlog_buf_t b;
	const char *p = pk + 1;

	binlog_buf_init(&b, 0);
	while (*p == '"') {
		size_t e = value_end(p, 0);
		char *name = strndup(p + 1, e - 2), key[300];
		const char *v;
		snprintf(key, sizeof(key), "%s\"%s\":", "", name);
		v = strstr(data, key);
		assert_non_null(v);
		v += strlen(key);
		binlog_buf_put(&b, v, value_end(v, 0));
		binlog_buf_putc(&b, '|');
		free(name);
		p += e;
		if (*p == ',')
			p++;
	}
	binlog_buf_putc(&b, 0);
	return (char *)b.data;
}

/* ",\"db\":...,\"table\":...[,\"pk\":[...]]": between "op" and what
 * follows (gtid or seq). */
static char *ident_of(const char *r)
{
	const char *a = strstr(r, "\",\"db\":"), *e;

	assert_non_null(a);
	a += 1;
	e = strstr(a, ",\"gtid\":");
	if (!e)
		e = strstr(a, ",\"seq\":");
	assert_non_null(e);
	return strndup(a, (size_t)(e - a));
}

/* The binlog's final image of each row of a table: key -> record. */
typedef struct image {
	char *key, *data, *ident, *jnull;
	int seen;
} image_t;

typedef struct images {
	image_t *v;
	size_t n;
} images_t;

static void images_free(images_t *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->v[i].key);
		free(im->v[i].data);
		free(im->v[i].ident);
		free(im->v[i].jnull);
	}
	free(im->v);
	memset(im, 0, sizeof(*im));
}

/* Replay table `name`'s records: +I/+U set a key's image, -D/-U remove
 * it. Tables without a key: every image, deletes removing one equal. */
static void images_of(const live_t *L, const char *name, images_t *im)
{
	char needle[400];
	binlog_buf_t tn;

	binlog_buf_init(&tn, 0);
	binlog_jw_utf8(&tn, (const uint8_t *)name, strlen(name));
	binlog_buf_putc(&tn, 0);
	snprintf(needle, sizeof(needle), ",\"db\":\"snap\",\"table\":%s,", (const char *)tn.data);
	binlog_buf_free(&tn);
	memset(im, 0, sizeof(*im));
	im->v = calloc(L->res->n + 1, sizeof(*im->v));
	for (size_t i = 0; i < L->res->n; i++) {
		const char *r = L->res->rec[i];
		char *data, *pk, *key;
		int add;
		size_t k;

		if (!strstr(r, needle))
			continue;
		data = member(r, "data");
		pk = member(r, "pk");
		key = pk ? key_of(data, pk) : strdup(data);
		add = strstr(r, "\"op\":\"+I\"") || strstr(r, "\"op\":\"+U\"");
		for (k = 0; k < im->n && strcmp(im->v[k].key, key) != 0; k++)
			;
		if (k < im->n && (add ? pk != NULL : 1)) {
			free(im->v[k].key);
			free(im->v[k].data);
			free(im->v[k].ident);
			free(im->v[k].jnull);
			im->v[k] = im->v[--im->n];
		}
		if (add) {
			im->v[im->n].key = key;
			im->v[im->n].data = data;
			im->v[im->n].ident = ident_of(r);
			im->v[im->n].jnull = member(r, "json_null");
			im->n++;
		} else {
			free(key);
			free(data);
		}
		free(pk);
	}
}

/* The lines of a and b that differ, to stderr. */
static void print_diff(const char *a, const char *b)
{
	while (*a || *b) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");
		if (na != nb || memcmp(a, b, na) != 0)
			fprintf(stderr, "- %.*s\n+ %.*s\n", (int)na, a, (int)nb, b);
		a += na + (a[na] != 0);
		b += nb + (b[nb] != 0);
	}
}

/* ------------------------------------------------------------------ */
/* The snapshot path                                                   */

/* Columns with 4-byte characters in their labels, which the catalog
 * spells '?' (cdc_snaprow.h): their labels are not compared. */
static const char *const nolabels[][2] = {
	{"t_enum", "e"}, {"t_enum", "s"}, {"t_enum", "su"}, {"k_enum", "k"}};

/* A dump_table text without the labels of table's nolabels columns. */
static char *strip_labels(const char *dump, const char *table)
{
	binlog_buf_t b;
	const char *p = dump;

	binlog_buf_init(&b, 0);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *br = memchr(p, '[', n);
		int skip = 0;
		for (size_t k = 0; k < sizeof(nolabels) / sizeof(nolabels[0]); k++) {
			char pat[64];
			const char *f;
			snprintf(pat, sizeof(pat), " %s: ", nolabels[k][1]);
			f = strstr(p, pat);
			skip |= strcmp(table, nolabels[k][0]) == 0 && f && f < p + n;
		}
		if (skip && br && p[0] == ' ')
			n = (size_t)(br - p - 1);
		binlog_buf_put(&b, p, n);
		binlog_buf_putc(&b, '\n');
		p += (nl ? (size_t)(nl - p) + 1 : n);
	}
	binlog_buf_putc(&b, 0);
	return (char *)b.data;
}

typedef struct snapstats {
	size_t rows, tables, literals, cols;
} snapstats_t;

/* SELECT <select_list> FROM the table [WHERE where] [ORDER BY its key]. */
static MYSQL_RES *select_all(const cdc_snap_table_t *t, const char *where, int order)
{
	binlog_buf_t q;
	MYSQL_RES *r;

	binlog_buf_init(&q, 0);
	binlog_buf_puts(&q, "SELECT ");
	binlog_buf_puts(&q, t->select_list);
	binlog_buf_puts(&q, " FROM `snap`.`");
	for (const char *p = t->table; *p; p++) {
		if (*p == '`')
			binlog_buf_putc(&q, '`');
		binlog_buf_putc(&q, (uint8_t)*p);
	}
	binlog_buf_puts(&q, "`");
	if (where) {
		binlog_buf_puts(&q, " WHERE ");
		binlog_buf_puts(&q, where);
	}
	for (uint32_t k = 0; order && k < t->npk; k++) {
		binlog_buf_puts(&q, k ? ", " : " ORDER BY ");
		binlog_buf_puts(&q, t->pk_names[k]);
	}
	if (mysql_real_query(S.sn, (const char *)q.data, (unsigned long)q.len) != 0)
		fail_msg("%.*s: %s", (int)(q.len < 400 ? q.len : 400), (const char *)q.data,
			 mysql_error(S.sn));
	r = mysql_store_result(S.sn);
	assert_non_null(r);
	binlog_buf_free(&q);
	return r;
}

/* "(`k1`, `k2`) <op> (lit1, lit2)" for the key of one row. */
static char *key_where(const cdc_snap_table_t *t, MYSQL_ROW row, const unsigned long *lens,
		       const char *op)
{
	binlog_buf_t w;

	binlog_buf_init(&w, 0);
	binlog_buf_putc(&w, '(');
	for (uint32_t k = 0; k < t->npk; k++) {
		binlog_buf_puts(&w, k ? ", " : "");
		binlog_buf_puts(&w, t->pk_names[k]);
	}
	binlog_buf_puts(&w, ") ");
	binlog_buf_puts(&w, op);
	binlog_buf_puts(&w, " (");
	for (uint32_t k = 0; k < t->npk; k++) {
		uint32_t c = t->pk[k];
		binlog_buf_puts(&w, k ? ", " : "");
		assert_non_null(row[c]);
		cdc_snap_literal(t, c, row[c], lens[c], &w);
	}
	binlog_buf_putc(&w, ')');
	binlog_buf_putc(&w, 0);
	return (char *)w.data;
}

static unsigned long long count_where(const cdc_snap_table_t *t, const char *where)
{
	MYSQL_RES *r = select_all(t, where, 0);
	unsigned long long n = mysql_num_rows(r);

	mysql_free_result(r);
	return n;
}

/*
 * The key's literals: = finds exactly the row given; < finds the rows
 * before it in key order (it is the index-th), so that ranges of keys
 * follow ORDER BY.
 */
static void check_literal(const cdc_snap_table_t *t, MYSQL_ROW row, const unsigned long *lens,
			  unsigned long long index)
{
	char *where = key_where(t, row, lens, "=");
	char *before = key_where(t, row, lens, "<");
	MYSQL_RES *r = select_all(t, where, 0);
	unsigned long long n;
	MYSQL_ROW got;
	unsigned long *gl;

	if (mysql_num_rows(r) != 1)
		fail_msg("%s: WHERE %s finds %llu rows, not 1", t->table, where,
			 (unsigned long long)mysql_num_rows(r));
	got = mysql_fetch_row(r);
	gl = mysql_fetch_lengths(r);
	for (uint32_t i = 0; i < t->bt.ncols; i++)
		if (!row[i] != !got[i] || lens[i] != gl[i] ||
		    (row[i] && memcmp(row[i], got[i], lens[i]) != 0))
			fail_msg("%s: WHERE %s finds another row (column %u)", t->table, where,
				 i + 1);
	mysql_free_result(r);
	if ((n = count_where(t, before)) != index)
		fail_msg("%s: WHERE %s finds %llu rows; ORDER BY puts %llu before it", t->table,
			 before, n, index);
	free(where);
	free(before);
}

static void snapshot_table(const live_t *L, const char *name, snapstats_t *ss)
{
	cdc_snap_table_t *t;
	schema_table_t *st;
	schema_opts_t o;
	schema_catalog_t *cat;
	cdc_filter_t *filter;
	binlog_err_t err;
	cdc_writer_t w;
	binlog_buf_t out;
	binlog_gtid_t none;
	images_t im;
	MYSQL_RES *r;
	MYSQL_ROW row;
	binlog_value_t *vals;
	const char *map;
	char *mine;
	uint64_t seq = 1000;
	size_t lit0 = ss->literals;

	if (cdc_snap_table_load(S.sn, "snap", name, &t, &err) != BINLOG_OK)
		fail_msg("%s: %s", name, err.msg);
	/* 2. The definition, as the TABLE_MAP has it. */
	map = map_of(L, name);
	if (!map)
		fail_msg("no TABLE_MAP for %s", name);
	{
		char *theirs = strip_labels(map, name), *d = dump_table(&t->bt);
		mine = strip_labels(d, name);
		free(d);
		if (strcmp(mine, theirs) != 0) {
			print_diff(theirs, mine);
			fail_msg("%s: the snapshot's table differs from the TABLE_MAP (above: "
				 "- TABLE_MAP, + snapshot)",
				 name);
		}
		free(theirs);
		free(mine);
	}

	/* 3. The rows, as records. */
	opts_init(&o, &filter, &cat);
	st = schema_table_get_ex(&t->bt, &o, &err);
	if (!st)
		fail_msg("%s: schema: %s", name, err.msg);
	assert_int_equal(cdc_writer_init(&w, 0), BINLOG_OK);
	cdc_writer_set_file(&w, "snapshot");
	memset(&none, 0, sizeof(none));
	cdc_writer_begin_txn(&w, &none, 1718454896000LL);
	binlog_buf_init(&out, 0);
	images_of(L, name, &im);
	vals = calloc(t->bt.ncols, sizeof(*vals));
	r = select_all(t, NULL, 1);
	while ((row = mysql_fetch_row(r))) {
		unsigned long *lens = mysql_fetch_lengths(r);
		char *data, *pk, *key, *ident, *jnull, *want;
		size_t seq_at, k;
		const char *rec;
		int nokey = t->npk == 0;

		if (cdc_snap_row_values(t, row, lens, vals, &err) != BINLOG_OK)
			fail_msg("%s", err.msg);
		binlog_buf_reset(&out);
		binlog_buf_lit(&out, "x"); /* appended to what is there */
		if (cdc_writer_values(&w, &out, st, vals, seq, 77, &seq_at, &err) != BINLOG_OK)
			fail_msg("%s", err.msg);
		binlog_buf_putc(&out, 0);
		rec = (const char *)out.data + 1;
		/* LIVE_SNAPROW_DUMP=1: every snapshot record, to see them. */
		if (getenv("LIVE_SNAPROW_DUMP"))
			fprintf(stderr, "%.2000s\n", rec);
		{
			char digits[24];
			snprintf(digits, sizeof(digits), "%llu,", (unsigned long long)seq);
			assert_int_equal(
				strncmp((const char *)out.data + seq_at, digits, strlen(digits)),
				0);
		}
		seq++;
		assert_non_null(strstr(rec, "\"op\":\"+I\""));
		assert_null(strstr(rec, "\"gtid\""));
		assert_non_null(strstr(rec, ",\"ts_ms\":1718454896000,\"file\":\"snapshot\","
					    "\"pos\":77"));
		assert_int_equal(strcmp(rec + strlen(rec) - 17, ",\"snapshot\":true}"), 0);
		data = member(rec, "data");
		pk = member(rec, "pk");
		key = pk ? key_of(data, pk) : strdup(data);
		ident = ident_of(rec);
		jnull = member(rec, "json_null");
		for (k = 0; k < im.n; k++) {
			const char *bk = im.v[k].key;
			if (!im.v[k].seen && (nokey ? 1 : strcmp(bk, key) == 0)) {
				char *theirs = strstr(im.v[k].data, "\"DB_ROW_HASH_1\"")
						       ? data_without(im.v[k].data, "DB_ROW_HASH_1")
						       : strdup(im.v[k].data);
				int same = strcmp(theirs, data) == 0;
				free(theirs);
				if (same || !nokey)
					break;
			}
		}
		if (k == im.n)
			fail_msg("%s: the snapshot row\n%s\nhas no binlog image%s", name, rec,
				 nokey ? " equal to it" : " with its key");
		want = strstr(im.v[k].data, "\"DB_ROW_HASH_1\"")
			       ? data_without(im.v[k].data, "DB_ROW_HASH_1")
			       : strdup(im.v[k].data);
		if (strcmp(want, data) != 0)
			fail_msg("%s: \"data\" differs\nbinlog:   %.3000s\nsnapshot: %.3000s", name,
				 want, data);
		if (strcmp(im.v[k].ident, ident) != 0)
			fail_msg("%s: ident differs\nbinlog:   %s\nsnapshot: %s", name,
				 im.v[k].ident, ident);
		if (!im.v[k].jnull != !jnull || (jnull && strcmp(jnull, im.v[k].jnull) != 0))
			fail_msg("%s: json_null differs: %s / %s", name,
				 im.v[k].jnull ? im.v[k].jnull : "-", jnull ? jnull : "-");
		im.v[k].seen = 1;
		ss->rows++;
		ss->cols += t->bt.ncols;
		/* 4. The key's literals find the row. */
		if (t->npk) {
			check_literal(t, row, lens, ss->literals - lit0);
			ss->literals++;
		}
		free(want);
		free(data);
		free(pk);
		free(key);
		free(ident);
		free(jnull);
	}
	mysql_free_result(r);
	/* Every row the binlog has, except the history of a versioned table
	 * (the snapshot reads current rows). */
	if (strcmp(name, "t_sv") != 0)
		for (size_t k = 0; k < im.n; k++)
			if (!im.v[k].seen)
				fail_msg("%s: the binlog's row\n%s\nis not in the snapshot", name,
					 im.v[k].data);
	ss->tables++;
	free(vals);
	images_free(&im);
	binlog_buf_free(&out);
	cdc_writer_free(&w);
	cdc_snap_table_free(t); /* and the schema table with it */
	schema_catalog_free(cat);
	cdc_filter_free(filter);
}

/* ------------------------------------------------------------------ */
/* The test                                                            */

static void test_snaprow(void **state)
{
	live_t L;
	snapstats_t ss = {0};
	cdc_snap_table_t *t;
	binlog_err_t err;

	(void)state;
	binlog_buf_init(&Q, 0);
	for (const char *const *q = ddl; *q; q++)
		sql(*q);
	create_charset_table();
	insert_int();
	insert_dec();
	insert_float();
	insert_bit();
	insert_temporal();
	insert_ts();
	insert_text();
	insert_charset_rows();
	insert_binary();
	insert_enum();
	insert_json();
	insert_geo();
	insert_mdb();
	insert_comp();
	insert_misc();
	insert_keys();
	decode_all(&L);

	for (size_t i = 0; i < NTABLES; i++)
		snapshot_table(&L, tables[i], &ss);
	for (size_t i = 0; i < NKEYTABS; i++)
		snapshot_table(&L, keytabs[i].name, &ss);
	fprintf(stderr, "snapshot: %zu tables, %zu rows, %zu values, %zu keys looked up\n",
		ss.tables, ss.rows, ss.cols, ss.literals);
	assert_true(ss.rows > 200);

	/* The table that is not there, and a view. */
	assert_int_equal(cdc_snap_table_load(S.sn, "snap", "nope", &t, &err), BINLOG_E_USAGE);
	assert_null(t);
	assert_non_null(strstr(err.msg, "snap.nope"));
	sql("CREATE VIEW snap.v AS SELECT 1 AS x");
	assert_int_equal(cdc_snap_table_load(S.sn, "snap", "v", &t, &err), BINLOG_E_USAGE);
	/* The estimate, once the statistics have it. */
	sql("ANALYZE TABLE snap.t_int");
	assert_int_equal(cdc_snap_table_load(S.sn, "snap", "t_int", &t, &err), BINLOG_OK);
	assert_true(t->rows_estimate >= 1);
	assert_string_equal(t->pk_names[0], "`id`");
	cdc_snap_table_free(t);

	live_free(&L);
	binlog_buf_free(&Q);
}

static int setup(void **state)
{
	binlog_err_t err;

	(void)state;
	if (server_start() != 0) {
		fprintf(stderr, "could not start MariaDB\n");
		return -1;
	}
	S.m = connect_db();
	S.sn = connect_db();
	if (!S.m || !S.sn)
		return -1;
	if (cdc_snap_session(S.sn, &err) != BINLOG_OK) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (S.m)
		mysql_close(S.m);
	if (S.sn)
		mysql_close(S.sn);
	S.m = S.sn = NULL;
	server_stop();
	mysql_library_end();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snaprow),
	};
	char script[700];
	int found = find_lib();

	snprintf(script, sizeof(script), ". \"%s\" && mdb_available", S.lib);
	if (!found || run_sh(script) != 0) {
		printf("SKIP: MariaDB server not installed (needs mariadbd, mariadb, "
		       "mariadb-install-db)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
