/*
 * binlog_time.c: packed temporal forms, epoch to civil time, and the text
 * that SELECT would print.
 */
#include "binlog_time.h"

#include "binlog_jsonw.h"

void binlog_time_from_packed_datetime(int64_t packed, binlog_time_t *t)
{
	uint64_t v, ymdhms, ymd, ym, hms;

	memset(t, 0, sizeof(*t));
	if (packed < 0) {
		t->neg = 1;
		v = (uint64_t)0 - (uint64_t)packed;
	} else {
		v = (uint64_t)packed;
	}
	t->usec = (uint32_t)(v % (1u << 24));
	ymdhms = v >> 24;
	ymd = ymdhms >> 17;
	ym = ymd >> 5;
	hms = ymdhms % (1u << 17);
	t->day = (uint8_t)(ymd % (1u << 5));
	t->month = (uint8_t)(ym % 13);
	t->year = (uint16_t)(ym / 13 > 65535 ? 65535 : ym / 13);
	t->second = (uint8_t)(hms % (1u << 6));
	t->minute = (uint8_t)((hms >> 6) % (1u << 6));
	t->hour = (uint32_t)(hms >> 12);
}

void binlog_time_from_packed_time(int64_t packed, binlog_time_t *t)
{
	uint64_t v, hms;

	memset(t, 0, sizeof(*t));
	if (packed < 0) {
		t->neg = 1;
		v = (uint64_t)0 - (uint64_t)packed;
	} else {
		v = (uint64_t)packed;
	}
	hms = v >> 24;
	t->usec = (uint32_t)(v % (1u << 24));
	t->hour = (uint32_t)((hms >> 12) % (1u << 10));
	t->minute = (uint8_t)((hms >> 6) % (1u << 6));
	t->second = (uint8_t)(hms % (1u << 6));
}

/*
 * Days since 1970-01-01 (0 .. 2932896, that is up to 9999-12-31) to the
 * civil date, after Neri and Schneider ("Euclidean affine functions and
 * their application to calendar algorithms"): the same March-based years
 * as the general code below, in half as many steps, each a 32-bit multiply
 * and shift (the divisions are by constants). TIMESTAMP (unsigned seconds
 * since 1970) always lands here. Both give the same date for every day of
 * the range.
 */
static void civil_from_days_fast(uint32_t days, uint32_t *year, uint32_t *month, uint32_t *day)
{
	uint32_t n = days + 719468; /* days since 0000-03-01 */
	uint32_t n1 = 4 * n + 3;
	uint32_t century = n1 / 146097;
	uint32_t nc = n1 % 146097 / 4; /* day of the century */
	uint64_t p2 = (uint64_t)2939745 * (4 * nc + 3);
	uint32_t z = (uint32_t)(p2 >> 32);        /* year of the century */
	uint32_t ny = (uint32_t)p2 / 2939745 / 4; /* day of the year, from March 1 */
	uint32_t n3 = 2141 * ny + 197913;
	uint32_t m = n3 >> 16, d = (n3 & 0xffff) / 2141;
	uint32_t jan_feb = ny >= 306;

	*year = 100 * century + z + jan_feb;
	*month = jan_feb ? m - 12 : m;
	*day = d + 1;
}

void binlog_time_from_epoch(int64_t sec, uint32_t usec, binlog_time_t *t)
{
	int64_t days = sec / 86400, rem = sec % 86400;
	int64_t era, doe, yoe, y, doy, mp, d, m;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	if (days >= 0 && days <= 2932896) {
		uint32_t fy, fm, fd;

		civil_from_days_fast((uint32_t)days, &fy, &fm, &fd);
		y = fy;
		m = fm;
		d = fd;
	} else {
		/* Days to civil date: the proleptic Gregorian calendar, counting
		 * in 400-year eras that start on March 1st so leap days fall
		 * last. */
		days += 719468;
		era = (days >= 0 ? days : days - 146096) / 146097;
		doe = days - era * 146097;
		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		y = yoe + era * 400;
		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		mp = (5 * doy + 2) / 153;
		d = doy - (153 * mp + 2) / 5 + 1;
		m = mp < 10 ? mp + 3 : mp - 9;
		y += m <= 2;
	}

	memset(t, 0, sizeof(*t));
	t->year = (uint16_t)(y < 0 ? 0 : y > 9999 ? 9999 : y);
	t->month = (uint8_t)m;
	t->day = (uint8_t)d;
	t->hour = (uint32_t)(rem / 3600);
	t->minute = (uint8_t)(rem / 60 % 60);
	t->second = (uint8_t)(rem % 60);
	t->usec = usec;
}

/* The last two digits of v. */
static inline char *put2(char *p, unsigned v)
{
	memcpy(p, binlog_digit_pairs + 2 * (v % 100), 2);
	return p + 2;
}

/* The last four digits of v. */
static inline char *put4(char *p, unsigned v)
{
	p = put2(p, v / 100 % 100);
	return put2(p, v % 100);
}

/* '.' and the first fsp of the six digits of usec; nothing for fsp 0.
 * Needs 7 bytes at p whatever fsp is. */
static char *put_frac(char *p, uint32_t usec, unsigned fsp)
{
	if (fsp == 0)
		return p;
	if (fsp > 6)
		fsp = 6;
	if (usec > 999999)
		usec = 999999;
	*p++ = '.';
	put2(p, usec / 10000);
	put2(p + 2, usec / 100 % 100);
	put2(p + 4, usec % 100);
	return p + fsp;
}

void binlog_time_put_date(binlog_buf_t *b, const binlog_time_t *t)
{
	char *s = (char *)binlog_buf_space(b, 10), *p = s;

	if (!s)
		return;
	p = put4(p, t->year);
	*p++ = '-';
	p = put2(p, t->month);
	*p++ = '-';
	p = put2(p, t->day);
	binlog_buf_commit(b, (size_t)(p - s));
}

void binlog_time_put_datetime(binlog_buf_t *b, const binlog_time_t *t, unsigned fsp)
{
	char *s = (char *)binlog_buf_space(b, 32), *p = s;

	if (!s)
		return;
	p = put4(p, t->year);
	*p++ = '-';
	p = put2(p, t->month);
	*p++ = '-';
	p = put2(p, t->day);
	*p++ = ' ';
	p = put2(p, t->hour % 100);
	*p++ = ':';
	p = put2(p, t->minute);
	*p++ = ':';
	p = put2(p, t->second);
	p = put_frac(p, t->usec, fsp);
	binlog_buf_commit(b, (size_t)(p - s));
}

void binlog_time_put_time(binlog_buf_t *b, const binlog_time_t *t, unsigned fsp)
{
	char *s = (char *)binlog_buf_space(b, 40), *p = s;

	if (!s)
		return;
	if (t->neg)
		*p++ = '-';
	if (t->hour < 100)
		p = put2(p, t->hour);
	else
		p += binlog_u64_to_dec(t->hour, p);
	*p++ = ':';
	p = put2(p, t->minute);
	*p++ = ':';
	p = put2(p, t->second);
	p = put_frac(p, t->usec, fsp);
	binlog_buf_commit(b, (size_t)(p - s));
}
