/*
 * jansson_cost.c: what one JSON object tree per record costs, for
 * docs/BENCHMARKS.md. Builds the changelog-json record of the benchmark's
 * table (10 columns and the metadata) as a jansson tree and serialises it
 * with json_dumpb, N times, and prints the time per record. The values'
 * text is prepared beforehand, so what is timed is the tree alone:
 * allocating the nodes, copying and checking the strings, hashing the
 * keys, walking the tree to write it and freeing it. Not part of sluice;
 * run.sh builds it when jansson's header is installed.
 *
 *   jansson_cost [N]      default 1250000 (the benchmark's records)
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 64

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const char *names[] = {"Ann 1", "Bob 2", "M\xc3\xbcller 3", "Zo\xc3\xab 4"};
	static const char *statuses[] = {"new", "paid", "shipped", "delivered", "cancelled"};
	char amounts[POOL][16], times[POOL][32], stamps[POOL][32];
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1250000;
	size_t total = 0;
	char out[4096];
	double t0, t1;

	if (n <= 0)
		n = 1250000;
	for (int k = 0; k < POOL; k++) {
		snprintf(amounts[k], sizeof(amounts[k]), "%d.%02d", 100 + k, k);
		snprintf(times[k], sizeof(times[k]), "2024-01-01 00:%02d:%02d.%03d", k % 60, k,
			 k * 7);
		snprintf(stamps[k], sizeof(stamps[k]), "2024-01-01 00:%02d:%02dZ", k % 60, k);
	}
	t0 = now();
	for (long i = 1; i <= n; i++) {
		json_t *rec = json_object(), *data = json_object(), *pk = json_array();
		int k = (int)(i % POOL);
		size_t len;

		json_object_set_new(data, "id", json_integer(i));
		json_object_set_new(data, "customer_id", json_integer(i * 7919 % 1000000));
		json_object_set_new(data, "sku", json_integer(i * 2654435761LL));
		json_object_set_new(data, "name", json_string(names[i % 4]));
		json_object_set_new(
			data, "note",
			json_string("Lorem ipsum dolor sit amet, consectetur adipiscing "
				    "elit, sed do eiusmod tempor"));
		json_object_set_new(data, "amount", json_string(amounts[k]));
		json_object_set_new(data, "created", json_string(times[k]));
		json_object_set_new(data, "updated", json_string(stamps[k]));
		json_object_set_new(data, "score", json_real((double)(i % 100000) / 100));
		json_object_set_new(data, "status", json_string(statuses[i % 5]));
		json_object_set_new(rec, "data", data);
		json_object_set_new(rec, "op", json_string("+I"));
		json_object_set_new(rec, "db", json_string("bench"));
		json_object_set_new(rec, "table", json_string("orders"));
		json_array_append_new(pk, json_string("id"));
		json_object_set_new(rec, "pk", pk);
		json_object_set_new(rec, "gtid", json_string("0-1-3"));
		json_object_set_new(rec, "seq", json_integer(50331648 + i));
		json_object_set_new(rec, "ts_ms", json_integer(1795282375000LL));
		json_object_set_new(rec, "file", json_string("mysql-bin.000001"));
		json_object_set_new(rec, "pos", json_integer(2170 + i / 50 * 8200));
		len = json_dumpb(rec, out, sizeof(out), JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (len == 0 || len > sizeof(out)) {
			fprintf(stderr, "jansson_cost: json_dumpb failed\n");
			return 1;
		}
		total += len;
		json_decref(rec);
	}
	t1 = now();
	printf("jansson tree per record: %.0f ns/record (%.2fM records/s), %ld records, "
	       "%.0f bytes each\n",
	       (t1 - t0) / (double)n * 1e9, (double)n / (t1 - t0) / 1e6, n,
	       (double)total / (double)n);
	return 0;
}
