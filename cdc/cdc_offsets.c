/*
 * cdc_offsets.c: checkpoints as JSON, through jansson.
 *
 *   {"version":1,"source":"shop","server":{"flavor":"mariadb","server_id":1,
 *    "uuid":""},"binlog":{"file":"mysql-bin.000003","pos":1234},
 *    "gtid":"0-1-5071","seq_last":"85085061120","sink":{"offset":1048576},
 *    "emit_from":{"file":"mysql-bin.000003","pos":1234,"ts_ms":0} (optional),
 *    "updated":"2026-11-21T19:40:01.123Z","updated_ms":1795290001123,
 *    "totals":{"transactions":5071,"records":10142}}
 *
 * 64-bit unsigned values that can pass 2^63 (the sequence) are strings:
 * JSON readers disagree on larger numbers.
 */
#include "cdc_offsets.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cdc_fs.h"

#define OFFSETS_MAX ((size_t)16 << 20) /* a GTID set of many servers */

void cdc_offsets_free(cdc_offsets_t *o)
{
	free(o->source);
	free(o->flavor);
	free(o->server_uuid);
	free(o->file);
	free(o->gtid);
	free(o->emit_file);
	free(o->snapshot);
	memset(o, 0, sizeof(*o));
}

static binlog_errcode_t bad(binlog_err_t *err, const char *path, const char *what)
{
	return binlog_err_set(err, BINLOG_E_USAGE,
			      "%s: %s; the checkpoint is damaged: restore it from a backup, or "
			      "move it aside to start again as scan.startup.mode says",
			      path, what);
}

static int get_str(json_t *obj, const char *key, char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_string(v))
		return 0;
	*out = strdup(json_string_value(v));
	return *out != NULL;
}

static int get_u64(json_t *obj, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
		return 1;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		if (*s < '0' || *s > '9')
			return 0;
		errno = 0;
		*out = strtoull(s, &end, 10);
		return errno == 0 && *end == 0;
	}
	return 0;
}

binlog_errcode_t cdc_offsets_parse(const char *path, const char *text, size_t len, cdc_offsets_t *o,
				   binlog_err_t *err)
{
	json_error_t je;
	json_t *root, *srv, *bl, *sink, *tot, *ef;
	binlog_errcode_t rc = BINLOG_OK;
	uint64_t v, sid;

	memset(o, 0, sizeof(*o));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		char what[300];
		snprintf(what, sizeof(what), "line %d, column %d: %s", je.line, je.column, je.text);
		return bad(err, path, what);
	}
	if (!json_is_object(root)) {
		rc = bad(err, path, "not a JSON object");
		goto out;
	}
	if (!get_u64(root, "version", &v) || v != CDC_OFFSETS_VERSION) {
		char what[100];
		snprintf(what, sizeof(what), "version is not %d", CDC_OFFSETS_VERSION);
		rc = bad(err, path, what);
		goto out;
	}
	srv = json_object_get(root, "server");
	bl = json_object_get(root, "binlog");
	sink = json_object_get(root, "sink");
	tot = json_object_get(root, "totals");
	if (!get_str(root, "source", &o->source) || !json_is_object(srv) ||
	    !get_str(srv, "flavor", &o->flavor) || !get_u64(srv, "server_id", &sid) ||
	    sid > UINT32_MAX || !get_str(srv, "uuid", &o->server_uuid) || !json_is_object(bl) ||
	    !get_str(bl, "file", &o->file) || !get_u64(bl, "pos", &o->pos) ||
	    !get_str(root, "gtid", &o->gtid) || !get_u64(root, "seq_last", &o->seq_last)) {
		rc = bad(err, path,
			 "a field is missing or of the wrong type (source, server.flavor, "
			 "server.server_id, server.uuid, binlog.file, binlog.pos, gtid, "
			 "seq_last)");
		goto out;
	}
	o->server_id = (uint32_t)sid;
	if (json_is_object(sink) && get_u64(sink, "offset", &o->sink_offset))
		o->has_sink_offset = 1;
	if ((ef = json_object_get(root, "emit_from"))) {
		if (!json_is_object(ef) || !get_str(ef, "file", &o->emit_file) ||
		    !get_u64(ef, "pos", &o->emit_pos) || !get_u64(ef, "ts_ms", &v) ||
		    v > INT64_MAX) {
			rc = bad(err, path, "emit_from needs file, pos and ts_ms");
			goto out;
		}
		o->emit_ts_ms = (int64_t)v;
	}
	if (get_u64(root, "updated_ms", &v) && v <= INT64_MAX)
		o->updated_ms = (int64_t)v;
	if ((ef = json_object_get(root, "snapshot"))) {
		if (!json_is_object(ef) || !(o->snapshot = json_dumps(ef, JSON_COMPACT))) {
			rc = bad(err, path, "snapshot is not an object");
			goto out;
		}
	}
	if (json_is_object(tot)) {
		get_u64(tot, "transactions", &o->transactions);
		get_u64(tot, "records", &o->records);
	}
out:
	json_decref(root);
	if (rc != BINLOG_OK)
		cdc_offsets_free(o);
	return rc;
}

binlog_errcode_t cdc_offsets_load(const char *path, cdc_offsets_t *o, int *found, binlog_err_t *err)
{
	binlog_buf_t b;
	binlog_errcode_t rc;
	int missing = 0;

	memset(o, 0, sizeof(*o));
	*found = 0;
	binlog_buf_init(&b, 0);
	rc = cdc_read_file(path, OFFSETS_MAX, &b, &missing, err);
	if (rc == BINLOG_OK) {
		rc = cdc_offsets_parse(path, (const char *)b.data, b.len, o, err);
		*found = rc == BINLOG_OK;
	} else if (missing) {
		rc = BINLOG_OK;
	}
	binlog_buf_free(&b);
	return rc;
}

static json_t *u64_str(uint64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%" PRIu64, v);
	return json_string(t);
}

char *cdc_offsets_format(const cdc_offsets_t *o)
{
	json_t *root = json_object();
	char when[40];
	time_t secs = (time_t)(o->updated_ms / 1000);
	struct tm tm;
	char *text;

	if (!root)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(when, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03dZ",
		 (int)(o->updated_ms % 1000));
	json_object_set_new(root, "version", json_integer(CDC_OFFSETS_VERSION));
	json_object_set_new(root, "source", json_string(o->source ? o->source : ""));
	json_object_set_new(root, "server",
			    json_pack("{s:s, s:I, s:s}", "flavor", o->flavor ? o->flavor : "",
				      "server_id", (json_int_t)o->server_id, "uuid",
				      o->server_uuid ? o->server_uuid : ""));
	json_object_set_new(
		root, "binlog",
		json_pack("{s:s, s:I}", "file", o->file ? o->file : "", "pos", (json_int_t)o->pos));
	json_object_set_new(root, "gtid", json_string(o->gtid ? o->gtid : ""));
	json_object_set_new(root, "seq_last", u64_str(o->seq_last));
	if (o->has_sink_offset)
		json_object_set_new(root, "sink",
				    json_pack("{s:I}", "offset", (json_int_t)o->sink_offset));
	if ((o->emit_file && o->emit_file[0]) || o->emit_ts_ms)
		json_object_set_new(root, "emit_from",
				    json_pack("{s:s, s:I, s:I}", "file",
					      o->emit_file ? o->emit_file : "", "pos",
					      (json_int_t)o->emit_pos, "ts_ms",
					      (json_int_t)o->emit_ts_ms));
	if (o->snapshot) {
		json_t *sn = json_loads(o->snapshot, 0, NULL);
		if (!sn) {
			json_decref(root);
			return NULL;
		}
		json_object_set_new(root, "snapshot", sn);
	}
	json_object_set_new(root, "updated", json_string(when));
	json_object_set_new(root, "updated_ms", json_integer((json_int_t)o->updated_ms));
	json_object_set_new(root, "totals",
			    json_pack("{s:I, s:I}", "transactions", (json_int_t)o->transactions,
				      "records", (json_int_t)o->records));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}

binlog_errcode_t cdc_offsets_save(const char *path, const cdc_offsets_t *o, binlog_err_t *err)
{
	char *text = cdc_offsets_format(o);
	binlog_errcode_t rc;
	size_t n;

	if (!text)
		return binlog_err_set(err, BINLOG_E_NOMEM, "formatting the checkpoint");
	n = strlen(text);
	text[n] = '\n'; /* the NUL's byte: the file ends with a newline */
	rc = cdc_write_atomic(path, text, n + 1, CDC_WRITE_REPLACE, 1, err);
	free(text);
	return rc;
}
