/*
 * fuzz_binlog.c: libFuzzer target for the whole decoding path: bytes of a
 * binlog file in, records out. Every decoder that reads bytes from outside
 * is reached from here: framing, FORMAT_DESCRIPTION, every control event,
 * GTID sets, TABLE_MAP metadata, row images and every column type, JSON,
 * zstd payloads, MariaDB compressed events and columns, charsets.
 *
 * Checksums are not verified, or the fuzzer would never get past them.
 * Limits are lowered so a claimed size cannot look like a leak. Records
 * are formatted and dropped.
 *
 * Seed it with real binlogs (tests/fuzz/run.sh uses the shared fixtures).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "binlog.h"
#include "binlog_gtid.h"
#include "cdc_stream.h"
#include "sink.h"

static binlog_errcode_t drop_write(sink_t *s, const sink_record_t *r, binlog_err_t *err)
{
	(void)s;
	(void)err;
	/* Touch the record so a bad length would be caught by ASan. */
	if (r->value_len && (r->value[0] != '{' || r->value[r->value_len - 1] != '}'))
		__builtin_trap();
	return BINLOG_OK;
}

static binlog_errcode_t drop_flush(sink_t *s, binlog_err_t *err)
{
	(void)s;
	(void)err;
	return BINLOG_OK;
}

static void drop_close(sink_t *s)
{
	(void)s;
}

static const sink_ops_t drop_ops = {
	.name = "drop", .write = drop_write, .flush = drop_flush, .close = drop_close};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	binlog_opts_t o;
	binlog_decoder_t *d;
	sink_t sink = {&drop_ops};
	cdc_stream_t st;
	binlog_event_t ev;
	binlog_err_t err;
	size_t off = 0;

	binlog_opts_default(&o);
	o.verify_checksum = 0;
	o.max_event_size = 1 << 20;
	o.max_inflated_size = 16 << 20;
	d = binlog_decoder_new(&o);
	if (!d)
		return 0;
	if (cdc_stream_init(&st, &sink) != BINLOG_OK) {
		binlog_decoder_free(d);
		return 0;
	}
	binlog_decoder_set_source(d, "fuzz");
	cdc_stream_set_file(&st, "fuzz-bin.000001");
	if (size >= 4 && memcmp(data, "\xfe\x62\x69\x6e", 4) == 0)
		off = 4;
	while (size - off >= BINLOG_HEADER_LEN) {
		uint32_t n;
		int r;
		if (binlog_decoder_event_size(d, data + off, off, &n, &err) != BINLOG_OK ||
		    n > size - off)
			break;
		if (binlog_decoder_feed(d, data + off, n, off, &err) == BINLOG_OK) {
			while ((r = binlog_decoder_next(d, &ev, &err)) > 0)
				if (cdc_stream_event(&st, &ev, &err) != BINLOG_OK)
					break;
		}
		off += n;
	}
	cdc_stream_free(&st);
	binlog_decoder_free(d);
	return 0;
}
