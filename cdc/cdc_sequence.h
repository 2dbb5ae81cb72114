/*
 * cdc_sequence.h: the sequence number every record carries.
 *
 * Contract (docs/SEQUENCE.md): a 64-bit unsigned number, 0 for snapshot
 * rows, strictly increasing over every record in commit order, and the
 * same each time the same binlog is decoded.
 *
 *   sequence = ordinal << 24 | index          (transactions with a GTID)
 *   sequence = file_number << 32 | offset     (transactions without)
 *
 * ordinal is the transaction's place in the server's GTID history: for
 * MySQL the number of transactions in the GTID set once it is added
 * (PREVIOUS_GTIDS plus every GTID since), for MariaDB the sum over
 * replication domains of the highest sequence number seen. Both grow by at
 * least one per transaction, survive a new primary (a new server UUID, a
 * new MariaDB server id or domain) and depend only on the history, so any
 * decode of the same binlog, live or from files, computes the same value.
 * index counts the records of the transaction (an update is two records).
 *
 * Where the natural value cannot be strictly greater than the previous
 * one (a transaction with more than 2^24 records, a MariaDB domain whose
 * sequence numbers go back, rows inside a compressed payload without GTIDs)
 * the record takes previous + 1 instead and the event is counted in
 * `borrowed`; nothing wraps.
 *
 * Not thread-safe; one per stream.
 */
#ifndef SLUICE_CDC_SEQUENCE_H
#define SLUICE_CDC_SEQUENCE_H

#include <stdint.h>

#include "binlog.h"
#include "binlog_gtid.h"

#define CDC_SEQ_INDEX_BITS   24
#define CDC_SEQ_ORDINAL_BITS 40
/* The transaction ordinal of a sequence. */
#define CDC_SEQ_ORDINAL(seq) ((seq) >> CDC_SEQ_INDEX_BITS)

typedef struct cdc_maria_domain {
	uint32_t domain;
	uint32_t server_id; /* of the GTID that set max_seq */
	uint64_t max_seq;
} cdc_maria_domain_t;

typedef struct cdc_seq {
	int gtid_mode;    /* current transaction has a GTID */
	uint64_t ordinal; /* of the current transaction */
	uint64_t index;   /* records so far in the transaction */
	uint64_t last;    /* last sequence handed out, 0 = none */
	uint64_t file_no; /* for transactions without a GTID */

	/* What PREVIOUS_GTIDS and GTID_LIST do to the known history. 0
	 * (files decoded in turn): replace it, each file saying where its
	 * history stands. 1 (live streams): add to it, because a server
	 * resuming from a stored GTID state first sends an older file's
	 * list, then skips the transactions the state holds. The two agree
	 * on the files of one server. */
	int merge_history;

	binlog_gtid_set_t *mysql; /* MySQL: every GTID up to now */
	int mysql_known;          /* a PREVIOUS_GTIDS said where history starts */
	uint64_t mysql_count;

	cdc_maria_domain_t *domains; /* MariaDB: highest seq_no per domain */
	uint32_t ndomains, cap_domains;
	uint64_t maria_sum;

	uint64_t borrowed;   /* records given previous + 1 */
	uint64_t duplicates; /* GTIDs seen twice */

	struct { /* what the open transaction changed, for cdc_seq_abort_txn */
		int valid;
		binlog_gtid_t gtid;
		uint64_t last;
		int mysql_added;
		uint64_t maria_prev_max;
		uint32_t maria_prev_server;
		uint64_t maria_prev_sum;
	} undo;
} cdc_seq_t;

/* Initialise; 0 or BINLOG_E_NOMEM. Free with cdc_seq_free. */
binlog_errcode_t cdc_seq_init(cdc_seq_t *s);
void cdc_seq_free(cdc_seq_t *s);

/* A PREVIOUS_GTIDS event: the MySQL history before this file. */
binlog_errcode_t cdc_seq_previous_gtids(cdc_seq_t *s, const binlog_event_t *ev, binlog_err_t *err);

/* A MariaDB GTID_LIST event: the binlog state before this file. */
binlog_errcode_t cdc_seq_gtid_list(cdc_seq_t *s, const binlog_event_t *ev, binlog_err_t *err);

/*
 * Seed the history from text, as a checkpoint stores it: a MySQL GTID set
 * ("uuid:1-5,uuid:tag:1-2") or a MariaDB GTID state ("0-1-100,1-2-7").
 * Replaces what was known. 0 or an error naming the problem.
 */
binlog_errcode_t cdc_seq_seed_text(cdc_seq_t *s, const char *text, binlog_err_t *err);

/*
 * Append the history as cdc_seq_seed_text reads it back: the MySQL GTID
 * set, or per MariaDB domain the GTID with the highest sequence number
 * ("0-1-100,1-2-7"). Empty when nothing is known. With s->last, it is all
 * a checkpoint needs to continue the numbering, and at a transaction
 * boundary it is also where the server is to resume: the executed set a
 * MySQL replica sends, the slave_connect_state of a MariaDB one.
 */
void cdc_seq_format_state(const cdc_seq_t *s, binlog_buf_t *b);

/* A transaction with this GTID starts. */
binlog_errcode_t cdc_seq_begin_gtid(cdc_seq_t *s, const binlog_gtid_t *g, binlog_err_t *err);

/* A transaction without a GTID starts, in binlog file number file_no. */
void cdc_seq_begin_anonymous(cdc_seq_t *s, uint64_t file_no);

/* n records of the transaction were not emitted (tables not captured):
 * the index still counts them, so a record's sequence does not depend on
 * which tables are captured. */
static inline void cdc_seq_skip(cdc_seq_t *s, uint64_t n)
{
	s->index += n;
}

/* The count of the transaction's records so far is unknown (rows of a
 * table not captured could not be walked): the rest of the transaction
 * takes previous + 1. */
static inline void cdc_seq_lose_index(cdc_seq_t *s)
{
	s->index = (uint64_t)1 << CDC_SEQ_INDEX_BITS;
}

/*
 * The sequence of the next record. `pos` is where its row image starts in
 * the binlog file (used without a GTID); `pos_exact` is 0 when that is not
 * a file offset (rows inside a compressed payload). Returns 0 and *out, or
 * BINLOG_E_SEQUENCE when the number space is exhausted.
 */
binlog_errcode_t cdc_seq_next(cdc_seq_t *s, uint64_t pos, int pos_exact, uint64_t *out,
			      binlog_err_t *err);

/* The transaction committed (XID, COMMIT or an implicit commit): it can
 * no longer be aborted. */
void cdc_seq_end_txn(cdc_seq_t *s);

/*
 * The transaction that began last will not complete here (the connection
 * dropped before its commit): forget its GTID and hand out its sequences
 * again, so that reading it anew from the server numbers it identically.
 * Nothing happens when no transaction is open.
 */
binlog_errcode_t cdc_seq_abort_txn(cdc_seq_t *s, binlog_err_t *err);

/* The numeric extension of a binlog file name ("mysql-bin.000042" -> 42),
 * or 0 when the name has none. */
uint64_t cdc_binlog_file_number(const char *name);

#endif
