/*
 * test_cdc_sequence.c: the sequence contract (docs/SEQUENCE.md): strictly
 * increasing over every record, across a change of primary, and the same
 * whether counting starts at the beginning of history or from a stored
 * state; the documented rules at the limits.
 */
#include "testutil.h"

#include "cdc_sequence.h"

static binlog_gtid_t mysql_gtid(const char *uuid, const char *tag, uint64_t gno)
{
	binlog_gtid_t g;

	memset(&g, 0, sizeof(g));
	g.kind = BINLOG_GTID_MYSQL;
	assert_int_equal(binlog_uuid_parse(uuid, g.uuid), 0);
	if (tag) {
		g.tag_len = (uint8_t)strlen(tag);
		memcpy(g.tag, tag, g.tag_len + 1);
	}
	g.gno = gno;
	return g;
}

static binlog_gtid_t maria_gtid(uint32_t domain, uint32_t server, uint64_t seq)
{
	binlog_gtid_t g;

	memset(&g, 0, sizeof(g));
	g.kind = BINLOG_GTID_MARIADB;
	g.domain = domain;
	g.server_id = server;
	g.seq = seq;
	return g;
}

static uint64_t next(cdc_seq_t *s)
{
	uint64_t v;
	binlog_err_t err;
	assert_int_equal(cdc_seq_next(s, 0, 0, &v, &err), BINLOG_OK);
	return v;
}

#define A "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define B "4f22fb58-82db-22f2-af44-d91bb0530673"

static void mysql_counts_history(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	binlog_gtid_t g;

	(void)state;
	assert_int_equal(cdc_seq_init(&s), BINLOG_OK);
	assert_int_equal(cdc_seq_seed_text(&s, A ":1-100," B ":1-5", &err), BINLOG_OK);
	g = mysql_gtid(A, NULL, 101);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	/* 105 transactions before, this is the 106th */
	assert_int_equal(next(&s), (106ULL << 24) | 0);
	assert_int_equal(next(&s), (106ULL << 24) | 1);
	/* failover: a new server UUID keeps counting up */
	g = mysql_gtid("11111111-2222-3333-4444-555555555555", NULL, 1);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	assert_int_equal(next(&s), 107ULL << 24);
	/* a tag is another source */
	g = mysql_gtid(A, "etl", 1);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	assert_int_equal(next(&s), 108ULL << 24);
	assert_int_equal(s.borrowed, 0);
	cdc_seq_free(&s);
}

/* Counting from the start of history and counting from a stored state
 * give the same sequences. */
static void same_from_any_start(void **state)
{
	cdc_seq_t full, later;
	binlog_err_t err;
	uint64_t want[20];

	(void)state;
	cdc_seq_init(&full);
	cdc_seq_init(&later);
	assert_int_equal(cdc_seq_seed_text(&full, A ":1-10", &err), BINLOG_OK);
	for (uint64_t t = 0; t < 20; t++) {
		binlog_gtid_t g = mysql_gtid(t % 3 ? A : B, NULL, t % 3 ? 11 + t : 1 + t);
		assert_int_equal(cdc_seq_begin_gtid(&full, &g, &err), BINLOG_OK);
		want[t] = next(&full);
		if (t > 0)
			assert_true(want[t] > want[t - 1]);
	}
	/* The state after transaction 9, as a checkpoint would store it. */
	{
		binlog_gtid_set_t *st = binlog_gtid_set_new();
		binlog_buf_t text;
		binlog_gtid_set_parse(st, A ":1-10", &err);
		for (uint64_t t = 0; t < 10; t++) {
			binlog_gtid_t g = mysql_gtid(t % 3 ? A : B, NULL, t % 3 ? 11 + t : 1 + t);
			binlog_gtid_set_add(st, &g);
		}
		binlog_buf_init(&text, 0);
		binlog_gtid_set_format(st, &text);
		assert_int_equal(cdc_seq_seed_text(&later, tu_str(&text), &err), BINLOG_OK);
		binlog_buf_free(&text);
		binlog_gtid_set_free(st);
	}
	for (uint64_t t = 10; t < 20; t++) {
		binlog_gtid_t g = mysql_gtid(t % 3 ? A : B, NULL, t % 3 ? 11 + t : 1 + t);
		assert_int_equal(cdc_seq_begin_gtid(&later, &g, &err), BINLOG_OK);
		assert_int_equal(next(&later), want[t]);
	}
	cdc_seq_free(&full);
	cdc_seq_free(&later);
}

/* Without PREVIOUS_GTIDS, a source first seen at :N is assumed to have
 * 1..N behind it: the same ordinal as the complete history would give. */
static void mysql_without_history(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	binlog_gtid_t g = mysql_gtid(A, NULL, 42);

	(void)state;
	cdc_seq_init(&s);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	assert_int_equal(next(&s), 42ULL << 24);
	g.gno = 43;
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	assert_int_equal(next(&s), 43ULL << 24);
	cdc_seq_free(&s);
}

static void mariadb_domains(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	binlog_gtid_t g;

	(void)state;
	cdc_seq_init(&s);
	/* state: domain 0 at 100 (two servers), domain 1 at 7 */
	assert_int_equal(cdc_seq_seed_text(&s, "0-1-90,0-2-100,1-1-7", &err), BINLOG_OK);
	g = maria_gtid(0, 2, 101);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	assert_int_equal(next(&s), 108ULL << 24);
	/* a new primary (server 3) continues the domain */
	g = maria_gtid(0, 3, 102);
	cdc_seq_begin_gtid(&s, &g, &err);
	assert_int_equal(next(&s), 109ULL << 24);
	/* another domain */
	g = maria_gtid(1, 1, 8);
	cdc_seq_begin_gtid(&s, &g, &err);
	assert_int_equal(next(&s), 110ULL << 24);
	/* a new domain starts adding its own */
	g = maria_gtid(5, 9, 1);
	cdc_seq_begin_gtid(&s, &g, &err);
	assert_int_equal(next(&s), 111ULL << 24);
	/* without gtid_strict_mode a domain can go back: previous + 1 */
	g = maria_gtid(0, 4, 50);
	cdc_seq_begin_gtid(&s, &g, &err);
	assert_int_equal(next(&s), (111ULL << 24) + 1);
	assert_int_equal(s.borrowed, 1);
	cdc_seq_free(&s);
}

/* A transaction with more than 2^24 records: previous + 1 beyond, and the
 * next transactions take previous + 1 until their ordinal catches up. */
static void huge_transaction(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	binlog_gtid_t g = maria_gtid(0, 1, 10);
	uint64_t v, prev = 0;

	(void)state;
	cdc_seq_init(&s);
	cdc_seq_begin_gtid(&s, &g, &err);
	for (uint64_t i = 0; i < (1u << 24) + 3; i++) {
		v = next(&s);
		assert_true(v > prev);
		prev = v;
	}
	assert_int_equal(v, (11ULL << 24) + 2);
	assert_int_equal(s.borrowed, 3);
	g.seq = 11;
	cdc_seq_begin_gtid(&s, &g, &err);
	assert_int_equal(next(&s), (11ULL << 24) + 3);
	g.seq = 12;
	cdc_seq_begin_gtid(&s, &g, &err);
	assert_int_equal(next(&s), 12ULL << 24);
	cdc_seq_free(&s);
}

static void ordinal_limit_is_an_error(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	binlog_gtid_t g = maria_gtid(0, 1, 1ULL << 40);

	(void)state;
	cdc_seq_init(&s);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_E_SEQUENCE);
	assert_non_null(strstr(err.msg, "0-1-1099511627776"));
	assert_non_null(strstr(err.msg, "2^40"));
	g.seq = (1ULL << 40) - 1;
	cdc_seq_free(&s);
	cdc_seq_init(&s);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	cdc_seq_free(&s);
}

static void without_gtid_positions(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	uint64_t v;

	(void)state;
	cdc_seq_init(&s);
	cdc_seq_begin_anonymous(&s, cdc_binlog_file_number("mysql-bin.000042"));
	assert_int_equal(cdc_seq_next(&s, 1000, 1, &v, &err), BINLOG_OK);
	assert_int_equal(v, (42ULL << 32) | 1000);
	assert_int_equal(cdc_seq_next(&s, 1030, 1, &v, &err), BINLOG_OK);
	assert_int_equal(v, (42ULL << 32) | 1030);
	/* rows of a compressed payload have no offset of their own */
	assert_int_equal(cdc_seq_next(&s, 0, 0, &v, &err), BINLOG_OK);
	assert_int_equal(v, ((42ULL << 32) | 1030) + 1);
	/* rotation */
	cdc_seq_begin_anonymous(&s, 43);
	assert_int_equal(cdc_seq_next(&s, 4, 1, &v, &err), BINLOG_OK);
	assert_int_equal(v, (43ULL << 32) | 4);
	cdc_seq_free(&s);
}

static void exhausted(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	uint64_t v;

	(void)state;
	cdc_seq_init(&s);
	s.last = UINT64_MAX;
	assert_int_equal(cdc_seq_next(&s, 0, 0, &v, &err), BINLOG_E_SEQUENCE);
	assert_non_null(strstr(err.msg, "exhausted"));
	cdc_seq_free(&s);
}

static void file_numbers(void **state)
{
	(void)state;
	assert_int_equal(cdc_binlog_file_number("mysql-bin.000042"), 42);
	assert_int_equal(cdc_binlog_file_number("/var/lib/mysql/binlog.1234567"), 1234567);
	assert_int_equal(cdc_binlog_file_number("mysql-bin.index"), 0);
	assert_int_equal(cdc_binlog_file_number("archive.binlog.gz"), 0);
	assert_int_equal(cdc_binlog_file_number("noext"), 0);
	assert_int_equal(cdc_binlog_file_number("x.99999999999999999999999"), 0);
}

static void seed_errors(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;

	(void)state;
	cdc_seq_init(&s);
	assert_int_equal(cdc_seq_seed_text(&s, "0-1", &err), BINLOG_E_USAGE);
	assert_int_equal(cdc_seq_seed_text(&s, A ":0-3", &err), BINLOG_E_USAGE);
	assert_int_equal(cdc_seq_seed_text(&s, "nonsense:1", &err), BINLOG_E_USAGE);
	assert_non_null(strstr(err.msg, "offset 0"));
	cdc_seq_free(&s);
}

/* A transaction cut off by a dropped connection is read again from the
 * server: aborting it must give its records the same sequences again. */
static void abort_renumbers_identically(void **state)
{
	cdc_seq_t s;
	binlog_err_t err;
	binlog_gtid_t g;
	uint64_t first[3], again[3], after;

	(void)state;
	assert_int_equal(cdc_seq_init(&s), BINLOG_OK);
	assert_int_equal(cdc_seq_seed_text(&s, A ":1-10", &err), BINLOG_OK);
	g = mysql_gtid(A, NULL, 11);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	for (int i = 0; i < 3; i++)
		first[i] = next(&s);
	assert_int_equal(cdc_seq_abort_txn(&s, &err), BINLOG_OK);
	assert_int_equal(binlog_gtid_set_count(s.mysql), 10);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	for (int i = 0; i < 3; i++)
		again[i] = next(&s);
	assert_memory_equal(first, again, sizeof(first));
	assert_int_equal(s.duplicates, 0);
	cdc_seq_end_txn(&s);
	/* a committed transaction cannot be aborted */
	assert_int_equal(cdc_seq_abort_txn(&s, &err), BINLOG_OK);
	assert_int_equal(binlog_gtid_set_count(s.mysql), 11);
	g = mysql_gtid(A, NULL, 12);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	after = next(&s);
	assert_true(after > again[2]);
	assert_int_equal(after >> CDC_SEQ_INDEX_BITS, 12);
	cdc_seq_free(&s);

	/* MariaDB: the domain's highest seq_no goes back, a new domain too */
	assert_int_equal(cdc_seq_init(&s), BINLOG_OK);
	assert_int_equal(cdc_seq_seed_text(&s, "0-1-100", &err), BINLOG_OK);
	g = maria_gtid(0, 1, 101);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	first[0] = next(&s);
	assert_int_equal(cdc_seq_abort_txn(&s, &err), BINLOG_OK);
	assert_int_equal(s.maria_sum, 100);
	g = maria_gtid(7, 1, 5);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	(void)next(&s);
	assert_int_equal(cdc_seq_abort_txn(&s, &err), BINLOG_OK);
	assert_int_equal(s.maria_sum, 100);
	g = maria_gtid(0, 1, 101);
	assert_int_equal(cdc_seq_begin_gtid(&s, &g, &err), BINLOG_OK);
	assert_int_equal(next(&s), first[0]);
	cdc_seq_free(&s);
}

/* What a checkpoint stores is enough to number on identically. */
static void state_round_trip(void **state)
{
	static const char *const seeds[] = {A ":1-100:200," B ":tag:1-5", "0-1-100,3-9-7", ""};
	binlog_err_t err;

	(void)state;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		cdc_seq_t a, b;
		binlog_buf_t txt;
		binlog_gtid_t g =
			strchr(seeds[i], ':') ? mysql_gtid(A, NULL, 201) : maria_gtid(3, 9, 8);
		binlog_buf_init(&txt, 0);
		assert_int_equal(cdc_seq_init(&a), BINLOG_OK);
		assert_int_equal(cdc_seq_init(&b), BINLOG_OK);
		assert_int_equal(cdc_seq_seed_text(&a, seeds[i], &err), BINLOG_OK);
		cdc_seq_format_state(&a, &txt);
		binlog_buf_putc(&txt, 0);
		assert_string_equal((const char *)txt.data, seeds[i]);
		assert_int_equal(cdc_seq_seed_text(&b, (const char *)txt.data, &err), BINLOG_OK);
		assert_int_equal(cdc_seq_begin_gtid(&a, &g, &err), BINLOG_OK);
		assert_int_equal(cdc_seq_begin_gtid(&b, &g, &err), BINLOG_OK);
		assert_int_equal(next(&a), next(&b));
		cdc_seq_free(&a);
		cdc_seq_free(&b);
		binlog_buf_free(&txt);
	}
}

/* A live stream resuming from a stored set receives the PREVIOUS_GTIDS of
 * an older file: it adds to the history instead of replacing it. Files
 * decoded in turn replace it. */
static void merge_history(void **state)
{
	binlog_gtid_set_t *older = binlog_gtid_set_new();
	binlog_buf_t enc;
	binlog_event_t ev;
	binlog_err_t err;

	(void)state;
	binlog_buf_init(&enc, 0);
	assert_int_equal(binlog_gtid_set_parse(older, A ":1-50," B ":1-3", &err), BINLOG_OK);
	binlog_gtid_set_encode(older, &enc);
	memset(&ev, 0, sizeof(ev));
	ev.type = BINLOG_PREVIOUS_GTIDS_LOG_EVENT;
	ev.u.prev_gtids.p = enc.data;
	ev.u.prev_gtids.n = enc.len;
	for (int merge = 0; merge < 2; merge++) {
		cdc_seq_t s;
		assert_int_equal(cdc_seq_init(&s), BINLOG_OK);
		s.merge_history = merge;
		assert_int_equal(cdc_seq_seed_text(&s, A ":1-100", &err), BINLOG_OK);
		assert_int_equal(cdc_seq_previous_gtids(&s, &ev, &err), BINLOG_OK);
		assert_int_equal(s.mysql_count, merge ? 103 : 53);
		cdc_seq_free(&s);
	}
	binlog_buf_free(&enc);
	binlog_gtid_set_free(older);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mysql_counts_history),
		cmocka_unit_test(same_from_any_start),
		cmocka_unit_test(mysql_without_history),
		cmocka_unit_test(mariadb_domains),
		cmocka_unit_test(huge_transaction),
		cmocka_unit_test(ordinal_limit_is_an_error),
		cmocka_unit_test(without_gtid_positions),
		cmocka_unit_test(exhausted),
		cmocka_unit_test(file_numbers),
		cmocka_unit_test(seed_errors),
		cmocka_unit_test(abort_renumbers_identically),
		cmocka_unit_test(state_round_trip),
		cmocka_unit_test(merge_history),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
