#!/usr/bin/env python3
"""live_mariadb_types.py: every MariaDB 10.11 column type, through a real
binlog, decodes to what SELECT returns.

Run by tests/live_mariadb_types.sh, which starts a throwaway server
(tests/lib/mariadb.sh: ROW format, binlog_row_metadata=FULL) and exports
MDB_SOCK, MDB_DATADIR and BUILD.

The test creates tables that cover every column type MariaDB 10.11 has
(integers signed and unsigned at their limits, DECIMAL up to (65,30), FLOAT
and DOUBLE, BIT, every temporal type and precision, text in every character
set the server knows, binary strings and blobs up to > 16 MiB, ENUM, SET,
JSON, the spatial types with SRIDs, UUID, INET4, INET6, compressed columns,
invisible and generated columns, tables without a primary key, with a
composite one and with a promoted UNIQUE NOT NULL key), then runs inserts,
updates (one changing the primary key), deletes, transactions and a
rollback, under binlog_row_image FULL, MINIMAL and NOBLOB, and once more
with compressed binlog events (log_bin_compress). Before and after every
statement it SELECTs the rows the statement touches, with expressions that
give exact values (HEX, UNIX_TIMESTAMP, CAST, CONVERT ... USING utf8mb4), so
it knows every record the binlog must yield, in order.

Then it decodes all binlog files with `sluice decode` and compares record by
record: op, db, table, pk, which columns are present (MINIMAL and NOBLOB
images leave some out: absent, never null), and each value against the
representation docs/CHANGELOG_JSON.md specifies. FLOAT and DOUBLE are
compared bit for bit and must be the shortest text that reads back to the
same 32/64-bit value. The first mismatch ends the test with the column, the
expected and the decoded value.
"""

import base64
import decimal
import fractions
import hashlib
import ipaddress
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
import uuid as uuidmod
from datetime import datetime, timedelta

DB = 'sluicetest'
SOCK = os.environ.get('MDB_SOCK', '')
DATADIR = os.environ.get('MDB_DATADIR', '')
BUILD = os.environ.get('BUILD', 'build')
SLUICE = os.path.join(BUILD, 'sluice')

decimal.getcontext().prec = 200
RNG = random.Random(20240615)   # incompressible bytes, the same every run


class TestFailure(Exception):
    pass


def fail(msg):
    raise TestFailure(msg)


# ------------------------------------------------------------------ client

class Client:
    """One `mariadb` client process kept open for the whole test (one
    session, so SET SESSION sticks). Each call sends SQL plus a marker
    SELECT and reads rows until the marker. Every value the test selects is
    ASCII without tabs or newlines (HEX, numbers, dates), so batch output
    splits cleanly. An SQL error makes the client exit: reported with the
    SQL that failed."""

    def __init__(self, sock):
        # stderr to a file: on an error the client echoes the statement,
        # which can be megabytes, and a pipe nobody reads would block it
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(
            ['mariadb', '--no-defaults', '--socket=' + sock, '--user=root',
             '--batch', '--raw', '--skip-column-names', '--unbuffered',
             '--default-character-set=utf8mb4',
             '--max-allowed-packet=1073741824'],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.n = 0

    def run(self, sql):
        self.n += 1
        marker = '--end-%d--' % self.n
        data = sql.strip().rstrip(';') + ";\nSELECT '" + marker + "';\n"
        try:
            self.p.stdin.write(data.encode('utf-8'))
            self.p.stdin.flush()
        except BrokenPipeError:
            self._died(sql)
        rows = []
        while True:
            line = self.p.stdout.readline()
            if not line:
                self._died(sql)
            line = line.decode('utf-8', 'replace').rstrip('\n')
            if line == marker:
                return rows
            rows.append(line.split('\t'))

    def _died(self, sql):
        self.p.wait(timeout=30)
        self.err.seek(0)
        err = self.err.read().decode('utf-8', 'replace').strip()
        err = err.splitlines()[-1] if err else 'the client exited'
        short = sql if len(sql) < 600 else sql[:600] + '...'
        fail('SQL failed: %s\n  in: %s' % (err, short))

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=30)


# ------------------------------------------------------------- literals

def T(s):
    """A utf8mb4 text literal (hex, so no escaping)."""
    return "_utf8mb4 X'%s'" % s.encode('utf-8').hex()


def B(b):
    """A binary string literal."""
    return "X'%s'" % bytes(b).hex()


def Q(s):
    """A plain quoted literal (ASCII without quotes or backslashes)."""
    assert re.fullmatch(r"[ -&(-\[\]-~]*", s), s
    return "'%s'" % s


def qi(name):
    """A quoted identifier."""
    return '`%s`' % name.replace('`', '``')


def GEO(wkt, srid=None):
    if srid is None:
        return "ST_GeomFromText('%s')" % wkt
    return "ST_GeomFromText('%s', %d)" % (wkt, srid)


# ---------------------------------------------------------- column kinds
#
# A kind says how to SELECT a column exactly (expr) and what the decoded
# JSON value must then be (expect: SELECT token -> expected value), and how
# to compare (check). Every expr is wrapped by the snapshot in
# IFNULL(CONCAT('v', expr), 'n'), so NULL is distinct from any value.

class JFloat(str):
    """A JSON number with a fraction or exponent, kept as its text."""


def f32_bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def f64_bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def f32_from_bits(b):
    return struct.unpack('<f', struct.pack('<I', b))[0]


def dec_to_f32(text):
    """The 32-bit float nearest to the decimal text (ties to even), exactly,
    as a float32-reading parser (strtof) would read it."""
    if decimal.Decimal(text) == 0:
        return -0.0 if text.strip().startswith('-') else 0.0
    q = fractions.Fraction(decimal.Decimal(text))
    try:
        base = f32_bits(float(q))
    except OverflowError:
        return float('inf') if q > 0 else float('-inf')
    best, bestdist = None, None
    for delta in (-1, 0, 1):
        bits = base + delta
        if bits < 0 or (bits & 0x7fffffff) >= 0x7f800000:
            continue
        v = f32_from_bits(bits)
        dist = abs(fractions.Fraction(v) - q)
        if best is None or dist < bestdist or (dist == bestdist and bits % 2 == 0):
            best, bestdist = v, dist
    # Past FLT_MAX by at least half an ulp: infinity.
    fmax = fractions.Fraction(f32_from_bits(0x7f7fffff))
    if abs(q) >= fmax + fractions.Fraction(2) ** 103:
        return float('inf') if q > 0 else float('-inf')
    return best


def shortest_f32(x):
    """The shortest decimal that reads back (strtof) as float32 x; among
    equally short ones the nearest. As a Decimal."""
    if x == 0:
        return decimal.Decimal('-0') if str(x).startswith('-') else decimal.Decimal(0)
    exact = fractions.Fraction(x)
    for digits in range(1, 10):
        s = '%.*e' % (digits - 1, x)
        mant, exp = s.split('e')
        m = decimal.Decimal(mant.replace('.', '').lstrip('-'))
        e = int(exp) - (digits - 1)
        sign = -1 if x < 0 else 1
        cands = []
        for dm in (-1, 0, 1):
            mm = m + dm
            if mm <= 0:
                continue
            cand = decimal.Decimal(sign * mm).scaleb(e)
            if f32_bits(dec_to_f32(str(cand))) == f32_bits(x):
                cands.append(cand)
        if cands:
            return min(cands, key=lambda c: abs(fractions.Fraction(c) - exact))
    raise AssertionError('no shortest for %r' % x)


def sig_digits(d):
    t = d.normalize().as_tuple()
    return len(t.digits)


class Kind:
    name = '?'
    blob = False            # NOBLOB leaves it out of images

    def expr(self, c):
        return 'CAST(%s AS CHAR)' % c

    def expect(self, tok, col):
        return tok

    def check(self, exp, got, col):
        """None when got (decoded JSON) is the value exp (from expect)."""
        if type(got) is not str or got != exp:
            return 'want %r' % (exp,)
        return None


class IntKind(Kind):
    name = 'integer'

    def expect(self, tok, col):
        return int(tok)

    def check(self, exp, got, col):
        if type(got) is not int or got != exp:
            return 'want the number %d' % exp
        return None


class BitKind(IntKind):
    name = 'bit'

    def expr(self, c):
        return 'CAST(%s AS UNSIGNED)' % c


class YearKind(IntKind):
    name = 'year'

    def expr(self, c):
        return '%s+0' % c


class DecimalKind(Kind):
    name = 'decimal'


class TemporalKind(Kind):
    name = 'temporal'


class TimestampKind(Kind):
    """UNIX_TIMESTAMP gives the stored instant whatever the session's time
    zone; the record holds it in UTC with a Z (the zero timestamp as
    0000-00-00 00:00:00, no Z)."""
    name = 'timestamp'

    def __init__(self, fsp):
        self.fsp = fsp

    def expr(self, c):
        return 'UNIX_TIMESTAMP(%s)' % c

    def expect(self, tok, col):
        whole, _, frac = tok.partition('.')
        if len(frac) != self.fsp:
            fail('%s: UNIX_TIMESTAMP gave %r for TIMESTAMP(%d)' % (col, tok, self.fsp))
        fr = ('.' + frac) if self.fsp else ''
        if int(whole) == 0 and (not frac or int(frac) == 0):
            return '0000-00-00 00:00:00' + fr
        t = datetime(1970, 1, 1) + timedelta(seconds=int(whole))
        return t.strftime('%Y-%m-%d %H:%M:%S') + fr + 'Z'


class FloatKind(Kind):
    """CAST(c AS DOUBLE) is exact for FLOAT and DOUBLE and MariaDB prints
    doubles with the shortest round-trip digits; ATAN2(c, -1) < 0 tells the
    sign of a zero."""
    name = 'float'
    width = 32

    def expr(self, c):
        return "CONCAT(CAST(%s AS DOUBLE), ' ', ATAN2(%s, -1) < 0)" % (c, c)

    def expect(self, tok, col):
        num, neg = tok.split(' ')
        x = float(num)
        if x == 0 and neg == '1':
            x = -0.0
        if self.width == 32 and f32_from_bits(f32_bits(x)) != x:
            fail('%s: %r is not a 32-bit float' % (col, tok))
        return x

    def check(self, exp, got, col):
        if self.width == 32 and type(got) is not JFloat:
            return 'want a number with a fraction or exponent for %r' % exp
        if type(got) not in (JFloat, int):
            return 'want a number for %r' % exp
        text = str(got)
        if self.width == 32:
            v = dec_to_f32(text)
            if f32_bits(v) != f32_bits(exp):
                return 'want float32 %r (bits %08x), text reads back as bits %08x' % (
                    exp, f32_bits(exp), f32_bits(v))
            short = shortest_f32(exp)
        else:
            v = float(text)
            if f64_bits(v) != f64_bits(exp):
                return 'want double %r (bits %016x), text reads back as bits %016x' % (
                    exp, f64_bits(exp), f64_bits(v))
            short = decimal.Decimal(repr(exp))
        d = decimal.Decimal(text)
        if exp != 0 and (sig_digits(d) != sig_digits(short) or d != short):
            return 'want the shortest round-trip text %s, not %s' % (short, text)
        return None


class DoubleKind(FloatKind):
    name = 'double'
    width = 64


class TextKind(Kind):
    """Text in any charset as the server converts it to utf8mb4. One
    deliberate difference, counted: a character the server stores but has
    no Unicode mapping for (bytes given with a charset introducer) CONVERTs
    to '?', and sluice writes U+FFFD."""
    name = 'text'

    def __init__(self, blob=False):
        self.blob = blob

    def expr(self, c):
        return 'HEX(CONVERT(%s USING utf8mb4))' % c

    def expect(self, tok, col):
        return bytes.fromhex(tok).decode('utf-8')

    def check(self, exp, got, col):
        if type(got) is not str:
            return 'want a string'
        if got == exp:
            return None
        if len(got) == len(exp):
            bad = [i for i in range(len(exp)) if got[i] != exp[i]]
            if all(exp[i] == '?' and got[i] == '\ufffd' for i in bad):
                STATS['unmapped'] += len(bad)
                return None
        i = next((k for k in range(min(len(got), len(exp))) if got[k] != exp[k]),
                 min(len(got), len(exp)))
        return ('differs at character %d of %d/%d: want %r, got %r' % (
            i, len(exp), len(got), exp[max(0, i - 8):i + 8], got[max(0, i - 8):i + 8]))


BIG = 262144


class BinKind(Kind):
    """Binary strings: HEX of what SELECT returns (BINARY(n) padded); huge
    values by length and SHA-256 instead."""
    name = 'binary'

    def __init__(self, blob=False):
        self.blob = blob

    def expr(self, c):
        return ("IF(LENGTH(%s) > %d, CONCAT('sha256:', LENGTH(%s), ':', SHA2(%s, 256)), HEX(%s))"
                % (c, BIG, c, c, c))

    def expect(self, tok, col):
        if tok.startswith('sha256:'):
            _, n, h = tok.split(':')
            return ('sha256', int(n), h.lower())
        return bytes.fromhex(tok)

    def check(self, exp, got, col):
        if type(got) is not str:
            return 'want a base64 string'
        try:
            raw = base64.b64decode(got, validate=True)
        except ValueError:
            return 'not base64'
        if base64.b64encode(raw).decode() != got:
            return 'not canonical base64'
        if isinstance(exp, tuple):
            if len(raw) != exp[1] or hashlib.sha256(raw).hexdigest() != exp[2]:
                return 'want %d bytes with SHA-256 %s, got %d bytes (%s)' % (
                    exp[1], exp[2], len(raw), hashlib.sha256(raw).hexdigest())
            return None
        if raw != exp:
            return 'want bytes %s, got %s' % (exp.hex()[:200], raw.hex()[:200])
        return None


class UuidKind(BinKind):
    """MariaDB's UUID: the binlog carries the 16 bytes in the order of the
    text form, for every version. (InnoDB stores an RFC-variant UUID of
    version 1..5 with its segments swapped, last group first, so that time
    based ones sort by time: that is the on-disk key order, not what
    replication sees. Found on 10.11.19 by inspecting the .ibd file and the
    binlog; asserted here for v1, v4, v7, nil and non-RFC ones.)"""
    name = 'uuid'

    def expr(self, c):
        return "CONCAT(HEX(%s), ' ', CAST(%s AS CHAR))" % (c, c)

    def expect(self, tok, col):
        h, text = tok.split(' ')
        b = bytes.fromhex(h)
        if b != uuidmod.UUID(text).bytes:
            fail('%s: HEX(%s) = %s is not the text order of %s' % (col, col, h, text))
        return b


class InetKind(BinKind):
    """INET4: the 4 address bytes, network order; INET6: the 16 bytes
    (an IPv4-mapped address included), network order."""
    name = 'inet'

    def expr(self, c):
        return "CONCAT(HEX(%s), ' ', CAST(%s AS CHAR))" % (c, c)

    def expect(self, tok, col):
        h, text = tok.split(' ')
        b = bytes.fromhex(h)
        if b != ipaddress.ip_address(text).packed:
            fail('%s: HEX = %s is not the packed address %s' % (col, h, text))
        return b


class GeoKind(Kind):
    """HEX of a geometry is MariaDB's internal form: SRID (4 bytes LE) then
    the WKB; the record has {"srid": n, "wkb": base64}."""
    name = 'geometry'

    def __init__(self, blob=False):
        self.blob = blob

    def expr(self, c):
        return "CONCAT(HEX(%s), ' ', ST_SRID(%s))" % (c, c)

    def expect(self, tok, col):
        h, srid = tok.split(' ')
        b = bytes.fromhex(h)
        if struct.unpack('<I', b[:4])[0] != int(srid):
            fail('%s: SRID bytes %s, ST_SRID %s' % (col, b[:4].hex(), srid))
        return {'srid': int(srid), 'wkb': b[4:]}

    def check(self, exp, got, col):
        if type(got) is not dict or set(got) != {'srid', 'wkb'}:
            return 'want {"srid":%d,"wkb":...}' % exp['srid']
        if type(got['srid']) is not int or got['srid'] != exp['srid']:
            return 'want srid %d' % exp['srid']
        if got['wkb'] != base64.b64encode(exp['wkb']).decode():
            return 'want wkb %s' % base64.b64encode(exp['wkb']).decode()
        return None


INT, BIT, YEAR, DEC, TEMP = IntKind(), BitKind(), YearKind(), DecimalKind(), TemporalKind()
FLOAT, DOUBLE = FloatKind(), DoubleKind()
TEXT, TEXTB = TextKind(), TextKind(blob=True)
BIN, BINB = BinKind(), BinKind(blob=True)
GEOM = GeoKind()
UUIDK, INET = UuidKind(), InetKind()


class Col:
    def __init__(self, name, ddl, kind, gen=None, auto=False, fdefault=False):
        self.name, self.ddl, self.kind = name, ddl, kind
        self.gen = gen              # None, 'virtual' or 'persistent'
        self.auto = auto            # AUTO_INCREMENT
        self.fdefault = fdefault    # DEFAULT / ON UPDATE CURRENT_TIMESTAMP


class Table:
    """A test table. `id` is the test's handle on a row (unique in every
    table, even where it is not the key); rows are lists of SQL literals
    for data_cols(), the non-key, insertable columns. key_cols(id) gives
    the literals of the key columns of the row with that id."""

    def __init__(self, name, cols, rows, pk=('id',), extra_keys=None,
                 options='', key_cols=None):
        self.name = name
        self.cols = cols                    # all columns, table order
        self.pk = list(pk) if pk else None  # key order, as records name it
        self.options = options
        self.extra_keys = extra_keys or []
        # key columns the test fills from the row id
        self.key_cols = key_cols or (lambda i: {'id': str(i)})
        self.rows = rows

    def col(self, name):
        return next(c for c in self.cols if c.name == name)

    def data_cols(self):
        """Non-key, insertable columns (what rows give and SETs assign)."""
        keys = set(self.key_cols(1))
        return [c for c in self.cols if c.name not in keys and not c.gen and not c.auto]

    def ddl(self):
        parts = []
        for c in self.cols:
            parts.append('%s %s' % (qi(c.name), c.ddl))
        if self.pk and not self.extra_keys:
            parts.append('PRIMARY KEY (%s)' % ', '.join(qi(k) for k in self.pk))
        parts += self.extra_keys
        return 'CREATE TABLE %s (\n  %s\n) %s' % (qi(self.name), ',\n  '.join(parts), self.options)


# ------------------------------------------------------------- the tables

def int_table():
    cols = [Col('id', 'INT NOT NULL', INT)]
    spec = [('ti', 'TINYINT'), ('tiu', 'TINYINT UNSIGNED'), ('si', 'SMALLINT'),
            ('siu', 'SMALLINT UNSIGNED'), ('mi', 'MEDIUMINT'), ('miu', 'MEDIUMINT UNSIGNED'),
            ('i', 'INT'), ('iu', 'INT UNSIGNED'), ('bi', 'BIGINT'), ('biu', 'BIGINT UNSIGNED'),
            ('bo', 'BOOLEAN'), ('zf', 'INT(8) UNSIGNED ZEROFILL'), ('i1', 'INT1'),
            ('i8', 'INT8 UNSIGNED')]
    cols += [Col(n, d, INT) for n, d in spec]
    rows = [
        ['-128', '0', '-32768', '0', '-8388608', '0', '-2147483648', '0',
         '-9223372036854775808', '0', '0', '0', '-128', '0'],
        ['127', '255', '32767', '65535', '8388607', '16777215', '2147483647', '4294967295',
         '9223372036854775807', '18446744073709551615', '1', '4294967295', '127',
         '18446744073709551615'],
        ['-1', '1', '-1', '1', '-1', '1', '-1', '1', '-1', '1', 'TRUE', '42', '-1', '1'],
        ['0', '128', '0', '32768', '0', '8388608', '0', '2147483648', '0',
         '9223372036854775808', 'FALSE', '7', '0', '9223372036854775808'],
        ['1', '254', '2', '65534', '3', '16777214', '4', '4294967294', '5',
         '18446744073709551614', '0', '1', '1', '9223372036854775807'],
        ['100', '200', '-300', '300', '-70000', '70000', '123456789', '3000000000',
         '-1234567890123456789', '12345678901234567890', '1', '99999999', '-100',
         '12345678901234567890'],
    ]
    return Table('t_int', cols, rows)


def decimal_table():
    cols = [Col('id', 'INT NOT NULL', INT)]
    spec = [('d1', 'DECIMAL(1,0)'), ('d52', 'DECIMAL(5,2)'), ('d105', 'DECIMAL(10,5)'),
            ('d189', 'DECIMAL(18,9)'), ('d190', 'DECIMAL(19,0)'), ('d2010', 'DECIMAL(20,10)'),
            ('d99', 'DECIMAL(9,9)'), ('d3838', 'DECIMAL(38,38)'), ('d650', 'DECIMAL(65,0)'),
            ('d6530', 'DECIMAL(65,30)'), ('du', 'DECIMAL(12,4) UNSIGNED'),
            ('num', 'NUMERIC(7,3)'), ('dflt', 'DECIMAL')]
    cols += [Col(n, d, DEC) for n, d in spec]
    n65 = '9' * 65
    n35_30 = '9' * 35 + '.' + '9' * 30
    rows = [
        ['9', '999.99', '99999.99999', '999999999.999999999', '9999999999999999999',
         '9999999999.9999999999', '0.999999999', '0.' + '9' * 38, n65, n35_30,
         '99999999.9999', '9999.999', '9999999999'],
        ['-9', '-999.99', '-99999.99999', '-999999999.999999999', '-9999999999999999999',
         '-9999999999.9999999999', '-0.999999999', '-0.' + '9' * 38, '-' + n65, '-' + n35_30,
         '0', '-9999.999', '-9999999999'],
        ['0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'],
        ['1', '-0.01', '0.00001', '-0.000000001', '-1', '0.0000000001', '-0.000000001',
         '0.' + '0' * 37 + '1', '1', '-0.' + '0' * 29 + '1', '0.0001', '-0.001', '-1'],
        ['-3', '123.45', '-12345.6789', '123456789.123456789', '-1234567890123456789',
         '-1234567890.0123456789', '0.123456789', '-0.12345678901234567890123456789012345678',
         '1' + '234567890' * 7 + '1', '-12345678901234567890123456789012345.' + '0123456789' * 3,
         '1234.5678', '-1.5', '42'],
        ['0.5', '1.005', '-0.000004', '100000000', '1000000000000000000', '-0.5',
         '0.000000001', '0.5', '-' + '1' + '0' * 64, '0.' + '0' * 29 + '1', '12345678.9',
         '0.0005', '1e5'],
    ]
    return Table('t_decimal', cols, rows)


def float_table():
    # MariaDB 10.11 never stores -0.0 it is given (an expression can yield
    # it, a FLOAT or DOUBLE column then holds +0.0), but a tiny negative
    # double that underflows on its way into a FLOAT leaves -0.0 there:
    # row 3's -1e-30*1e-30. FLOAT's maximum must be written with 17 digits:
    # 3.4028235e38, the shortest text for it (and what sluice writes), is
    # "out of range" to MariaDB's strict mode.
    cols = [Col('id', 'INT NOT NULL', INT),
            Col('f', 'FLOAT', FLOAT), Col('d', 'DOUBLE', DOUBLE),
            Col('fu', 'FLOAT UNSIGNED', FLOAT), Col('r', 'REAL', DOUBLE),
            Col('f72', 'FLOAT(7,2)', FLOAT), Col('d205', 'DOUBLE(20,5)', DOUBLE),
            Col('fp', 'FLOAT(30)', DOUBLE), Col('dp', 'DOUBLE PRECISION', DOUBLE)]
    rows = [
        ['0.1', '0.1', '1.5', '0.1', '1.23', '1.123456789', '0.1', '1e-7'],
        ['3.4028234663852886e38', '1e300', '3.4028234663852886e38', '1.7976931348623157e308',
         '99999.99', '123456789012345.12345', '2.5', '1e23'],
        ['-1e-30*1e-30', '-1e-300*1e-300', '0', '-0e0', '-0.01', '-0.1', '-0.0', '0'],
        ['1e-45', '4.9e-324', '1.17549435e-38', '2.2250738585072014e-308', '0.005',
         '0.000005', '1e-300', '-2.2250738585072009e-308'],
        ['16777217', '9007199254740993', '16777216', '-9007199254740992', '12345.67',
         '-99999.99999', '123456789', '1e22'],
        ['-1.5e-40', '0.30000000000000004', '1.1', '1/3e0', '2', '1e14', '1e16', '5e-324'],
    ]
    return Table('t_float', cols, rows)


def bit_table():
    cols = [Col('id', 'INT NOT NULL', INT)]
    widths = [1, 7, 8, 10, 17, 32, 63, 64]
    cols += [Col('b%d' % w, 'BIT(%d)' % w, BIT) for w in widths]
    rows = [
        ['0'] * 8,
        [str((1 << w) - 1) for w in widths],
        ["b'1'", "b'1000001'", "b'10000001'", "b'1000000001'", "b'10000000000000001'",
         "b'10000000000000000000000000000001'", "b'1" + '0' * 61 + "1'", "b'1" + '0' * 62 + "1'"],
        ['1', '85', '170', '513', '65536', '2147483648', '4611686018427387904',
         '9223372036854775808'],
        ['0', '1', '2', '3', '4', '5', '6', '7'],
        ['1', '42', '255', '1000', '99999', '123456789', '1234567890123456789',
         '12345678901234567890'],
    ]
    return Table('t_bit', cols, rows)


def temporal_table():
    cols = [Col('id', 'INT NOT NULL', INT), Col('d', 'DATE', TEMP), Col('t', 'TIME', TEMP)]
    cols += [Col('t%d' % n, 'TIME(%d)' % n, TEMP) for n in range(1, 7)]
    cols += [Col('dt', 'DATETIME', TEMP)]
    cols += [Col('dt%d' % n, 'DATETIME(%d)' % n, TEMP) for n in range(1, 7)]
    cols += [Col('y', 'YEAR', YEAR)]

    def frac(base, n, digit='9'):
        return base + '.' + digit * n

    rows = [
        [Q('0000-00-00'), Q('00:00:00')] + [Q('00:00:00.' + '0' * n) for n in range(1, 7)]
        + [Q('0000-00-00 00:00:00')] + [Q('0000-00-00 00:00:00.' + '0' * n) for n in range(1, 7)]
        + [Q('0000')],
        [Q('1000-01-01'), Q('-838:59:59')] + [Q(frac('-838:59:59', n)) for n in range(1, 7)]
        + [Q('1000-01-01 00:00:00')] + [Q(frac('1000-01-01 00:00:00', n, '0')[:-1] + '1')
                                        for n in range(1, 7)]
        + ['1901'],
        [Q('9999-12-31'), Q('838:59:59')] + [Q(frac('838:59:59', n)) for n in range(1, 7)]
        + [Q('9999-12-31 23:59:59')] + [Q(frac('9999-12-31 23:59:59', n)) for n in range(1, 7)]
        + ['2155'],
        [Q('2024-02-29'), Q('-01:02:03'), Q('-01:02:03.5'), Q('-00:00:00.01'),
         Q('-01:02:03.500'), Q('-00:00:00.0001'), Q('-00:00:00.00001'),
         Q('-00:00:00.000001'), Q('2024-02-29 12:34:56'), Q('2024-02-29 12:34:56.7'),
         Q('2024-02-29 12:34:56.78'), Q('2024-02-29 12:34:56.789'),
         Q('2024-02-29 12:34:56.7891'), Q('2024-02-29 12:34:56.78912'),
         Q('2024-02-29 12:34:56.789123'), '2024'],
        [Q('2024-00-15'), Q('12:00:00'), Q('00:00:00.1'), Q('00:00:00.01'),
         Q('23:59:59.999'), Q('100:00:00.0001'), Q('-100:00:00.00001'),
         Q('00:00:00.000001'), Q('2024-00-00 00:00:00'), Q('1970-01-01 00:00:00.5'),
         Q('1969-12-31 23:59:59.25'), Q('2038-01-19 03:14:08.001'),
         Q('0001-01-01 00:00:00.0001'), Q('2000-02-29 23:59:59.99999'),
         Q('0000-01-01 00:00:00.000001'), '69'],
        [Q('0000-01-01'), Q('-00:00:01'), Q('-00:00:00.9'), Q('-00:00:00.99'),
         Q('-00:00:00.999'), Q('-00:00:00.9999'), Q('-00:00:00.99999'),
         Q('-00:00:00.999999'), Q('2024-06-15 00:00:00'), Q('2024-06-15 00:00:00.0'),
         Q('2024-06-15 00:00:00.01'), Q('2024-06-15 00:00:00.001'),
         Q('2024-06-15 00:00:00.0001'), Q('2024-06-15 00:00:00.00001'),
         Q('2024-06-15 00:00:00.000001'), '70'],
    ]
    return Table('t_temporal', cols, rows)


def timestamp_table():
    cols = [Col('id', 'INT NOT NULL', INT),
            Col('ts', 'TIMESTAMP NULL DEFAULT NULL', TimestampKind(0))]
    cols += [Col('ts%d' % n, 'TIMESTAMP(%d) NULL DEFAULT NULL' % n, TimestampKind(n))
             for n in range(1, 7)]
    # Valid in every session time zone the test uses (+05:30, Europe/Berlin,
    # -08:00); the extremes are in t_ts_edge. Around the 2021 DST changes
    # of Europe/Berlin: 03-28 jumps from 02:00 to 03:00 (strict mode
    # refuses a time in the gap), 02:30 on 10-31 happens twice.
    rows = [
        [Q('0000-00-00 00:00:00')] * 7,
        [Q('2021-03-28 01:59:59')] + [Q('2021-03-28 01:59:59.' + '9' * n) for n in range(1, 7)],
        [Q('2021-03-28 03:00:00')] + [Q('2021-03-28 03:00:00.' + '0' * (n - 1) + '1')
                                      for n in range(1, 7)],
        [Q('2021-10-31 02:30:00')] + [Q('2021-10-31 02:59:59.' + '5' * n) for n in range(1, 7)],
        [Q('2024-06-15 12:34:56')] + [Q('2024-06-15 12:34:56.' + '123456'[:n]) for n in range(1, 7)],
        [Q('1999-12-31 23:59:59')] + [Q('2000-01-01 00:00:00.' + '0' * n) for n in range(1, 7)],
    ]
    return Table('t_timestamp', cols, rows)


UTF8_SAMPLES = [
    'plain ASCII',
    '😀👍🏽 emoji, 𝄞 music, ü é ß, 中文, עברית',
    'quotes \' " backslash \\ slash / newline\n tab\t cr\r',
    'controls \x00\x01\x02\x1f\x7f and \u0085 \u2028 \u2029 \ufeff \ufffd',
    '',
    'trailing spaces   ',
]


def bmp_only(s):
    """s without the characters utf8mb3 cannot hold."""
    return ''.join(ch for ch in s if ord(ch) < 0x10000)


def text_table():
    cols = [Col('id', 'INT NOT NULL', INT),
            Col('c', 'CHAR(10)', TEXT), Col('cw', 'CHAR(255)', TEXT),
            Col('vc', 'VARCHAR(20)', TEXT), Col('vl', 'VARCHAR(300)', TEXT),
            Col('vbin', 'VARCHAR(40) COLLATE utf8mb4_bin', TEXT),
            Col('vuca', 'VARCHAR(40) COLLATE utf8mb4_uca1400_ai_ci', TEXT),
            Col('tt', 'TINYTEXT', TEXTB), Col('tx', 'TEXT', TEXTB),
            Col('mt', 'MEDIUMTEXT', TEXTB), Col('lt', 'LONGTEXT', TEXTB),
            Col('nat', 'NATIONAL VARCHAR(20)', TEXT),
            Col('lv', 'LONG VARCHAR', TEXTB)]
    rows = []
    for k, s in enumerate(UTF8_SAMPLES):
        short = s[:10] if k != 5 else 'ab  '
        rows.append([T(short), T(s), T(s[:20]), T(s * 3), T(s[:40]), T(s[:40]),
                     T(s[:40]), T(s * 10), T(s * 20), T(s * 2), T(bmp_only(s)[:20]), T(s)])
    # long values: CHAR(255) of 4-byte characters (1020 bytes), VARCHAR(300)
    # of 4-byte characters, TINYTEXT at its 255-byte limit, TEXT near
    # 64 KiB, MEDIUMTEXT and LONGTEXT past 64 KiB
    rows[4] = [T('😀' * 10), T('😀' * 255), T('é' * 20), T('😀' * 300), T('a' * 40),
               T('Ünïcödé' * 5), T('😀' * 63 + 'abc'), T('ü' * 32000),
               T(('Lorem ipsum dolor sit amet ' * 4000)[:100000]), T('ä€😀' * 8000),
               T('ж' * 20), T('z' * 70000)]
    return Table('t_text', cols, rows, options='DEFAULT CHARSET=utf8mb4')


# Every character set of MariaDB 10.11 (binary aside) with a sample of its
# own script. Loaded by value in utf8mb4: the server converts, and in strict
# mode refuses anything the set cannot hold.
CHARSET_SAMPLES = {
    'armscii8': 'Բարեւ Հայաստան',
    'ascii': 'plain ASCII ~',
    'big5': '繁體中文測試',
    'cp1250': 'Żółć ąę €‚„…†‡‰Š‹ŚŤŽŹ',
    'cp1251': 'Привет, мир € Ђ Ѓ ‚ ѓ',
    'cp1256': 'مرحبا بالعالم €',
    'cp1257': 'Ąčęėįšųūž €',
    'cp850': 'café ñ ½ ¼ ░▒▓',
    'cp852': 'Łódź čšž ░▒',
    'cp866': 'Привет ░▒▓',
    'cp932': '日本語テキスト①ｶﾀｶﾅ～',
    'dec8': 'café ß',
    'eucjpms': '日本語①ｶﾀｶﾅ',
    'euckr': '한국어 텍스트',
    'gb2312': '简体中文',
    'gbk': '中文汉字 简体',
    'geostd8': 'ქართული',
    'greek': 'Καλημέρα κόσμε',
    'hebrew': 'שלום עולם',
    'hp8': 'café ß',
    'keybcs2': 'Čeština ů',
    'koi8r': 'Съешь же ещё',
    'koi8u': 'Україна ґ є і ї',
    'latin1': 'café €‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ ÿ',
    'latin2': 'Łódź Žluťoučký',
    'latin5': 'İstanbul ğş',
    'latin7': 'Ąčęėįšųūž',
    'macce': 'Łódź Žluť',
    'macroman': 'café ƒ∂ π',
    'sjis': '日本語ｶﾀｶﾅ',
    'swe7': 'ÅÄÖåäö É é',
    'tis620': 'ภาษาไทย',
    'ucs2': 'BMP ☃ Ω 中',
    'ujis': '日本語 ｶﾀｶﾅ',
    'utf16': '😀 𝄞 ☃',
    'utf16le': '😀 𝄞 ☃',
    'utf32': '😀 𝄞 ☃',
    'utf8mb3': 'BMP ☃ Ω 中',
    'utf8mb4': '😀 👍🏽',
}
CHARSETS = sorted(CHARSET_SAMPLES)
SINGLE_BYTE = ['armscii8', 'ascii', 'cp1250', 'cp1251', 'cp1256', 'cp1257', 'cp850', 'cp852',
               'cp866', 'dec8', 'geostd8', 'greek', 'hebrew', 'hp8', 'keybcs2', 'koi8r',
               'koi8u', 'latin1', 'latin2', 'latin5', 'latin7', 'macce', 'macroman', 'swe7',
               'tis620']
# The ASCII specials every set but swe7 holds (swe7 has letters at [\]{|}`@~).
SPECIALS = 'q\'"\\ nl\n tab\t \x00\x01\x1f\x7f ~'
SPECIALS_SWE7 = 'q\'" nl\n tab\t \x01\x1f ?'
CHAR_PAD = ['latin1', 'ucs2', 'utf16', 'utf16le', 'utf32', 'sjis', 'utf8mb4', 'ujis']


def charset_table():
    cols = [Col('id', 'INT NOT NULL', INT)]
    cols += [Col('c_' + cs, 'VARCHAR(40) CHARACTER SET %s' % cs, TEXT) for cs in CHARSETS]
    cols += [Col('p_' + cs, 'CHAR(12) CHARACTER SET %s' % cs, TEXT) for cs in CHAR_PAD]
    # past 255 bytes: a CHAR's length and a VARCHAR's length prefix take
    # 2 bytes
    cols += [Col('w_utf32', 'CHAR(255) CHARACTER SET utf32', TEXT),
             Col('w_ucs2', 'CHAR(200) CHARACTER SET ucs2', TEXT),
             Col('l_utf16', 'VARCHAR(200) CHARACTER SET utf16', TEXT),
             Col('l_gbk', 'VARCHAR(200) CHARACTER SET gbk', TEXT)]
    samples = dict(CHARSET_SAMPLES)

    def row(f):
        return ([T(f(cs)) for cs in CHARSETS] + [T(f(cs)[:12]) for cs in CHAR_PAD] +
                [T((f('utf32') * 40)[:255]), T((f('ucs2') * 40)[:200]),
                 T((f('utf16') * 40)[:200]), T((f('gbk') * 40)[:200])])

    rows = [
        row(lambda cs: samples[cs]),
        row(lambda cs: SPECIALS_SWE7 if cs == 'swe7' else SPECIALS),
        row(lambda cs: ''),
        row(lambda cs: 'a  '),
        row(lambda cs: samples[cs][::-1]),
        row(lambda cs: ' ' + samples[cs][:3] + ' 9'),
    ]
    return Table('t_charset', cols, rows)


def binary_table():
    cols = [Col('id', 'INT NOT NULL', INT),
            Col('b1', 'BINARY(1)', BIN), Col('b8', 'BINARY(8)', BIN),
            Col('b255', 'BINARY(255)', BIN), Col('vb', 'VARBINARY(10)', BIN),
            Col('vbl', 'VARBINARY(1000)', BIN), Col('tb', 'TINYBLOB', BINB),
            Col('bl', 'BLOB', BINB), Col('mb', 'MEDIUMBLOB', BINB), Col('lb', 'LONGBLOB', BINB),
            Col('cbin', 'CHAR(4) CHARACTER SET binary', BIN),
            Col('vcbin', 'VARCHAR(10) CHARACTER SET binary', BIN)]
    allb = bytes(range(256))
    rows = [
        [B(b'\x00'), B(b'\x01\x02'), B(b'\x00'), B(b'\x00\x00'), B(b'ab\x00\x00'),
         B(b'\x00'), B(b'\x00\x00\x00'), B(b'x'), B(b'\xff'), B(b'\x00\x01'),
         B(b'\x00\x00')],
        [B(b'')] * 11,
        [B(b' '), B(b'ab  '), B(b'a  \x00'), B(b'ab  '), B(b'  '), B(b'ab  '), B(b' '),
         B(b'\x20\x00\x20'), B(b'end\x00'), B(b'a '), B(b'a \x00 ')],
        [B(b'\xff'), B(allb[-8:]), B(allb[1:]), B(allb[:10]), B(allb * 3), B(allb[:255]),
         B(allb * 200), B(allb * 257), B(allb * 300), B(allb[250:254]), B(allb[246:])],
        [B(b'\x80'), B(b'\xff' * 8), B(b'\xff' * 255), B(b'\xff' * 10), B(b'\xfe' * 1000),
         B(b'\xfe' * 255), B(bytes(65535)), B(RNG.randbytes(100000)), B(RNG.randbytes(70000)),
         B(b'\xff' * 4), B(b'\x7f' * 10)],
        [B(b'A'), B(b'\x00\x00\x00\x01'), B(b'pad'), B(b'0'), B(b'utf8 \xc3\xa9'),
         B(b'\xc3'), B('😀'.encode()), B(b'blob'), B(b'longblob'), B(b'\x00'), B(b'v')],
    ]
    return Table('t_binary', cols, rows)


def enum_table():
    e300 = ', '.join("'v%d'" % k for k in range(300))
    s64 = ', '.join("'m%d'" % k for k in range(64))
    cols = [Col('id', 'INT NOT NULL', INT),
            Col('e', "ENUM('a', 'b,c', 'it''s', 'q\"uote', 'back\\\\slash', 'ü', '😀', ' sp ')",
                TEXT),
            Col('s', "SET('x', 'y''q', 'z', 'ü', 'a\"b', '😀', 'b\\\\s', 'h', 'i')", TEXT),
            Col('s64', 'SET(%s)' % s64, TEXT),
            Col('e300', 'ENUM(%s)' % e300, TEXT),
            Col('el', "ENUM('café', 'naïve', 'x') CHARACTER SET latin1", TEXT),
            Col('ec', "ENUM('привет', 'мир') CHARACTER SET cp1251", TEXT),
            Col('es', "SET('ä', 'ö', 'ü') CHARACTER SET latin1", TEXT),
            Col('eu', "ENUM('日本', '語') CHARACTER SET sjis", TEXT),
            Col('su', "SET('ä€', '😀') CHARACTER SET utf16", TEXT)]
    rows = [
        [Q('a'), Q(''), Q(''), Q('v0'), T('café'), T('привет'), Q(''), T('日本'), Q('')],
        [Q(' sp '), T("x,y'q,z,ü,a\"b,😀,b\\s,h,i"), Q(','.join('m%d' % k for k in range(64))),
         Q('v299'), Q('x'), T('мир'), T('ä,ö,ü'), T('語'), T('ä€,😀')],
        [Q('b,c'), Q('x'), Q('m63'), Q('v255'), T('naïve'), T('мир'), T('ü'), T('日本'), T('😀')],
        [T("it's"), T("y'q"), Q('m0,m31,m32'), Q('v256'), T('café'), T('привет'), T('ä'),
         T('語'), T('ä€')],
        [T('q"uote'), T('😀,b\\s'), Q('m7,m8'), Q('v1'), Q('x'), T('мир'), T('ö,ü'), T('日本'),
         Q('')],
        [T('back\\slash'), T('i'), Q('m62,m63'), Q('v128'), T('naïve'), T('привет'), Q(''),
         T('語'), T('😀')],
    ]
    return Table('t_enum', cols, rows, options='DEFAULT CHARSET=utf8mb4')


def json_table():
    cols = [Col('id', 'INT NOT NULL', INT), Col('j', 'JSON', TEXTB),
            Col('j2', 'JSON', TEXTB)]
    docs = ['{"a": 1, "b": [true, false, null], "c": {"d": "e"}}', '[]', '"a string"',
            'null', '1.5e300', '{"emoji": "😀", "esc": "\\n\\t\\"\\\\", "u": "\\u00e9"}',
            '[' + ', '.join(str(k) for k in range(3000)) + ']', '{}', '-0', '12345678901234567890']
    rows = [[T(docs[k % len(docs)]), T(docs[(k + 5) % len(docs)])] for k in range(6)]
    return Table('t_json', cols, rows)


def geo_table():
    kinds = [('g', 'GEOMETRY'), ('p', 'POINT'), ('l', 'LINESTRING'), ('pg', 'POLYGON'),
             ('mp', 'MULTIPOINT'), ('ml', 'MULTILINESTRING'), ('mpg', 'MULTIPOLYGON'),
             ('gc', 'GEOMETRYCOLLECTION')]
    cols = [Col('id', 'INT NOT NULL', INT)]
    cols += [Col(n, d, GEOM) for n, d in kinds]
    cols += [Col('gs', 'GEOMETRY REF_SYSTEM_ID=4326', GEOM),
             Col('ps', 'POINT REF_SYSTEM_ID=3857', GEOM)]
    wkt = [
        ['POINT(1 2)', 'POINT(0 0)', 'LINESTRING(0 0,1 1,2 2)',
         'POLYGON((0 0,10 0,10 10,0 10,0 0))', 'MULTIPOINT(1 1,2 2)',
         'MULTILINESTRING((0 0,1 1),(2 2,3 3))',
         'MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))',
         'GEOMETRYCOLLECTION(POINT(1 1),LINESTRING(0 0,1 1))', 'POINT(13.4 52.5)',
         'POINT(1000 2000)'],
        ['LINESTRING(-1.5 2.25,3e10 -4e-10)', 'POINT(-0.000001 1e300)',
         'LINESTRING(1 1,1 1)',
         'POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 2,1 1))', 'MULTIPOINT(0 0)',
         'MULTILINESTRING((1 2,3 4))', 'MULTIPOLYGON(((0 0,1 0,0 1,0 0)))',
         'GEOMETRYCOLLECTION EMPTY', 'POLYGON((0 0,1 0,0 1,0 0))', 'POINT(-1 -1)'],
        ['GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(POINT(3 4)))',
         'POINT(123.456 -78.9)', 'LINESTRING(0 0,0 1,1 1,1 0,0 0)',
         'POLYGON((1 1,2 1,2 2,1 1))', 'MULTIPOINT(1 2,3 4,5 6,7 8)',
         'MULTILINESTRING((0 0,1 1,2 2),(3 3,4 4))', 'MULTIPOLYGON(((1 1,2 1,2 2,1 1)))',
         'GEOMETRYCOLLECTION(MULTIPOINT(1 1,2 2),POLYGON((0 0,1 0,0 1,0 0)))',
         'LINESTRING(0 0,1 1)', 'POINT(0 0)'],
    ]
    srids = [None, 4326, 3857]
    rows = []
    for k in range(6):
        w = wkt[k % 3]
        s = srids[k % 3] if k < 3 else [0, 2154, 4326][k - 3]
        rows.append([GEO(x, s) for x in w[:8]] + [GEO(w[8], 4326), GEO(w[9], 3857)])
    return Table('t_geo', cols, rows)


UUIDS = ['6ccd780c-baba-1026-9564-5b8c656024db',   # version 1 (time based)
         '3f0e9c5a-7b1d-4c2e-9f3a-8d6b5e4c3a21',   # version 4
         '01890a5d-ac96-774b-bcce-b302099a8057',   # version 7
         '00000000-0000-0000-0000-000000000000',   # nil
         'ffffffff-ffff-ffff-ffff-ffffffffffff',   # max
         '11112222-3333-4444-5555-666677778888']   # version 4, non-RFC variant


def mariadb_types_table():
    cols = [Col('id', 'INT NOT NULL', INT), Col('u', 'UUID', UUIDK),
            Col('i4', 'INET4', INET), Col('i6', 'INET6', INET), Col('u2', 'UUID', UUIDK)]
    v4 = ['192.168.1.10', '0.0.0.0', '255.255.255.255', '10.0.0.1', '127.0.0.1', '1.2.3.4']
    v6 = ['2001:db8::ff00:42:8329', '::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
          '::ffff:1.2.3.4', '::1', 'fe80::1']
    rows = [[Q(UUIDS[k]), Q(v4[k]), Q(v6[k]), Q(UUIDS[(k + 1) % 6].upper())] for k in range(6)]
    return Table('t_mariadb_types', cols, rows)


def compressed_table():
    cols = [Col('id', 'INT NOT NULL', INT),
            Col('vc', 'VARCHAR(1000) COMPRESSED', TEXT),
            Col('vcl', 'VARCHAR(300) CHARACTER SET latin1 COMPRESSED', TEXT),
            Col('vb', 'VARBINARY(2000) COMPRESSED', BIN),
            Col('tt', 'TINYTEXT COMPRESSED', TEXTB),
            Col('tx', 'TEXT COMPRESSED', TEXTB),
            Col('bl', 'BLOB COMPRESSED', BINB),
            Col('mt', 'MEDIUMTEXT COMPRESSED', TEXTB),
            Col('lb', 'LONGBLOB COMPRESSED', BINB)]
    rnd = RNG.randbytes(1800)
    rows = [
        # below column_compression_threshold (100 bytes): stored as is
        [T('short'), T('café'), B(b'\x00\x01'), T('t'), T('😀'), B(b'\xff'), T('m'), B(b'l')],
        # compressible
        [T('abc' * 300), T('é' * 300), B(b'\x00' * 2000), T('x' * 250), T('😀' * 5000),
         B(b'ab' * 30000), T('Lorem ipsum ' * 10000), B(b'\x01\x02' * 50000)],
        # incompressible
        [T(rnd.hex()[:1000]), T(rnd.hex()[:300]), B(rnd), T(rnd.hex()[:255]),
         T(rnd.hex() * 10), B(rnd * 10), T(rnd.hex() * 40), B(RNG.randbytes(100000))],
        [T('')] * 2 + [B(b'')] + [T('')] * 2 + [B(b'')] + [T('')] + [B(b'')],
        [T('a' * 99), T('b' * 100), B(b'c' * 101), T('d' * 99), T('e' * 100), B(b'f' * 101),
         T('g' * 102), B(b'h' * 100)],
        [T('ü€😀' * 100), T('ÿ' * 300), B(bytes(range(256)) * 7), T('ж' * 127),
         T('中' * 20000), B(bytes(range(256)) * 200), T('😀' * 50000), B(b'z' * 200000)],
    ]
    return Table('t_compressed', cols, rows, options='DEFAULT CHARSET=utf8mb4')


def nopk_table():
    cols = [Col('id', 'INT', INT), Col('v', 'VARCHAR(20)', TEXT), Col('n', 'INT', INT),
            Col('b', 'BLOB', BINB), Col('d', 'DOUBLE', DOUBLE)]
    rows = [[T('v%d' % k), str(k * 11), B(bytes([k]) * k), '%d.25' % k] for k in range(6)]
    return Table('t_nopk', cols, rows, pk=None)


def cpk_table():
    cols = [Col('k1', 'INT NOT NULL', INT), Col('v', 'VARCHAR(20)', TEXT),
            Col('k2', 'VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL', TEXT),
            Col('id', 'INT NOT NULL', INT), Col('t', 'TEXT', TEXTB)]
    rows = [[T('val%d' % k), T('text %d' % k)] for k in range(6)]
    return Table('t_cpk', cols, rows, pk=('k2', 'k1'),
                 key_cols=lambda i: {'k1': str(i), 'k2': T('ключ-%d' % (i % 7)), 'id': str(i)})


def uniq_table():
    # No PRIMARY KEY, but a UNIQUE NOT NULL key: MariaDB promotes it, and
    # the binlog names it as the primary key.
    cols = [Col('v', 'VARCHAR(20)', TEXT), Col('id', 'INT NOT NULL', INT),
            Col('n', 'INT', INT), Col('t', 'TEXT', TEXTB)]
    rows = [[T('u%d' % k), str(k), T('t%d' % k)] for k in range(6)]
    return Table('t_uniq', cols, rows, pk=('id',), extra_keys=['UNIQUE KEY (id)'])


def misc_table():
    cols = [Col('id', 'INT NOT NULL AUTO_INCREMENT', INT, auto=True),
            Col('a', 'INT', INT),
            Col('h', 'INT INVISIBLE DEFAULT 7', INT),
            Col('g', 'INT AS (a + 1) VIRTUAL', INT, gen='virtual'),
            Col('p', 'INT AS (a * 2) PERSISTENT', INT, gen='persistent'),
            Col('ts', 'TIMESTAMP(6) NULL DEFAULT CURRENT_TIMESTAMP(6) '
                'ON UPDATE CURRENT_TIMESTAMP(6)', TimestampKind(6), fdefault=True),
            Col('df', "VARCHAR(10) DEFAULT 'dflt'", TEXT),
            Col('n', 'INT', INT)]
    rows = [[str(k), str(k + 100), Q('2020-01-0%d 00:00:00.5' % (k + 1)), Q('d%d' % k),
             str(k * 3)] for k in range(6)]
    return Table('t_misc', cols, rows)


def wide_table():
    """300 columns of mixed types: more than 255 (the column count, the
    null and image bitmaps and the metadata lists get longer encodings)
    with ENUM labels and charsets on columns past the 255th."""
    types = [('INT', INT), ('VARCHAR(8)', TEXT), ('DOUBLE', DOUBLE), ('DATE', TEMP),
             ('BIT(3)', BIT), ("ENUM('a', 'b')", TEXT), ('DECIMAL(5,2)', DEC),
             ('TEXT CHARACTER SET latin1', TEXTB), ('SET(\'x\', \'y\')', TEXT)]
    cols = [Col('id', 'INT NOT NULL', INT)]
    for k in range(1, 300):
        ddl, kind = types[k % len(types)]
        cols.append(Col('c%03d' % k, ddl, kind))

    def lit(r, k):
        v = r * 1000 + k
        return [str(v), T('ä%d.%d' % (r, k)), '%d.5' % v, Q('2024-01-%02d' % (r + 1)),
                str((r + k) % 8), Q('ab'[(r + k) % 2]), '%d.%02d' % (r, k % 100),
                T('é%d_%d' % (r, k)), Q(['', 'x', 'y', 'x,y'][(r + k) % 4])][k % len(types)]

    rows = [[lit(r, k) for k in range(1, 300)] for r in range(6)]
    return Table('t_wide', cols, rows, options='DEFAULT CHARSET=utf8mb4')


def names_table():
    """Names that need escaping in JSON and quoting in SQL."""
    cols = [Col('id', 'INT NOT NULL', INT), Col('ä "x"', 'INT', INT),
            Col('back\\slash/', 'VARCHAR(10)', TEXT), Col('中文 `tick`', 'INT', INT),
            Col('ctl\tx', 'INT', INT)]
    rows = [[str(k), T('v%d' % k), str(-k), str(k * 7)] for k in range(6)]
    return Table('t_näme "q" \\ `b`', cols, rows, options='DEFAULT CHARSET=utf8mb4')


def all_tables():
    return [int_table(), decimal_table(), float_table(), bit_table(), temporal_table(),
            timestamp_table(), text_table(), charset_table(), binary_table(), enum_table(),
            json_table(), geo_table(), mariadb_types_table(), compressed_table(),
            nopk_table(), cpk_table(), uniq_table(), misc_table(), wide_table(),
            names_table()]


# ----------------------------------------------------------- the workload

STATS = {'unmapped': 0}


class Workload:
    """Runs statements and records the records they must produce."""

    def __init__(self, client):
        self.c = client
        self.expected = []     # dicts: op, table, pk, data {col: expected}
        self.mode = 'full'     # binlog_row_image
        self.rows_inserted = 0
        self.txn_mark = None

    def sql(self, s):
        return self.c.run(s)

    def set_image(self, mode):
        self.mode = mode
        self.sql('SET SESSION binlog_row_image = %s' % mode.upper())

    def snapshot(self, t, ids):
        """{id: {col: expected value or None}} for the rows with these ids."""
        if not ids:
            return {}
        exprs = ["IFNULL(CONCAT('v', %s), 'n')" % c.kind.expr(qi(c.name)) for c in t.cols]
        rows = self.sql('SELECT `id`, %s FROM %s WHERE `id` IN (%s)' % (
            ', '.join(exprs), qi(t.name), ', '.join(str(i) for i in ids)))
        out = {}
        for r in rows:
            vals = {}
            for c, tok in zip(t.cols, r[1:]):
                if tok == 'n':
                    vals[c.name] = None
                else:
                    vals[c.name] = c.kind.expect(tok[1:], '%s.%s' % (t.name, c.name))
            out[int(r[0])] = vals
        missing = set(ids) - set(out)
        if missing:
            fail('test bug: %s has no rows with id %s' % (t.name, sorted(missing)))
        return out

    # Which columns an image holds, by binlog_row_image (MariaDB 10.11, found
    # by experiment and asserted here):
    #   FULL     every column, virtual and invisible ones included.
    #   MINIMAL  a table without a key: every column, in both images.
    #            Before image: the primary key. After image of an UPDATE:
    #            the columns the statement assigns (changed or not), plus
    #            every PERSISTENT generated column and every column with ON
    #            UPDATE CURRENT_TIMESTAMP. INSERT: the columns listed, plus
    #            AUTO_INCREMENT, PERSISTENT generated and CURRENT_TIMESTAMP-
    #            default columns (not VIRTUAL ones, nor constant defaults).
    #   NOBLOB   like FULL without the BLOB/TEXT/JSON columns (GEOMETRY and
    #            VARCHAR COMPRESSED stay in), except those an INSERT lists or
    #            an UPDATE assigns, and key columns; every column without a
    #            key.
    def image_cols(self, t, op, which, touched):
        allc = [c.name for c in t.cols]
        if self.mode in ('full', 'compressed'):
            return allc
        if self.mode == 'minimal':
            if t.pk is None:
                return allc
            if which == 'before':
                return [c for c in allc if c in t.pk]
            keep = set(touched)
            for c in t.cols:
                if c.gen == 'persistent':
                    keep.add(c.name)
                if c.fdefault:
                    keep.add(c.name)
                if op == 'I' and c.auto:
                    keep.add(c.name)
            if op == 'I':
                return [c for c in allc if c in keep and not t.col(c).gen == 'virtual']
            return [c for c in allc if c in keep]
        if self.mode == 'noblob':
            if t.pk is None:
                return allc
            keys = set(t.pk or [])
            return [c.name for c in t.cols
                    if not c.kind.blob or c.name in keys or
                    (which == 'after' and c.name in touched)]
        raise AssertionError(self.mode)

    def add(self, t, op, vals, cols):
        self.expected.append({'op': op, 'table': t.name, 'pk': t.pk,
                              'data': {c: vals[c] for c in cols}, 'id': vals.get('id')})

    def insert(self, t, rowlits, ids, cols=None):
        """INSERT rows (lists of literals for `cols`, default all data
        columns) with these ids, in one statement."""
        cols = cols or [c.name for c in t.data_cols()]
        keys = list(t.key_cols(1))
        values = []
        for lits, i in zip(rowlits, ids):
            k = t.key_cols(i)
            values.append('(' + ', '.join([k[c] for c in keys] + list(lits)) + ')')
        self.sql('INSERT INTO %s (%s) VALUES %s' % (
            qi(t.name), ', '.join(qi(c) for c in keys + cols), ',\n'.join(values)))
        after = self.snapshot(t, ids)
        touched = set(keys + cols)
        for i in ids:
            self.add(t, '+I', after[i], self.image_cols(t, 'I', 'after', touched))
        self.rows_inserted += len(ids)

    def update(self, t, assign, where_ids, order='ASC', new_ids=None, assigned=None):
        """UPDATE ... SET assign WHERE id IN where_ids ORDER BY id order;
        new_ids maps an old id to its new one when the key changes."""
        new_ids = new_ids or {}
        seq = sorted(where_ids, reverse=(order == 'DESC'))
        before = self.snapshot(t, seq)
        self.sql('UPDATE %s SET %s WHERE `id` IN (%s) ORDER BY `id` %s' % (
            qi(t.name), assign, ', '.join(str(i) for i in seq), order))
        after = self.snapshot(t, [new_ids.get(i, i) for i in seq])
        for i in seq:
            b, a = before[i], after[new_ids.get(i, i)]
            if a == b:
                fail('test bug: UPDATE of %s id %d changes nothing' % (t.name, i))
            self.add(t, '-U', b, self.image_cols(t, 'U', 'before', assigned))
            self.add(t, '+U', a, self.image_cols(t, 'U', 'after', assigned))

    def delete(self, t, ids, order='ASC'):
        seq = sorted(ids, reverse=(order == 'DESC'))
        before = self.snapshot(t, seq)
        self.sql('DELETE FROM %s WHERE `id` IN (%s) ORDER BY `id` %s' % (
            qi(t.name), ', '.join(str(i) for i in seq), order))
        for i in seq:
            self.add(t, '-D', before[i], self.image_cols(t, 'D', 'before', ()))

    def begin(self):
        self.sql('BEGIN')
        self.txn_mark = len(self.expected)

    def commit(self):
        self.sql('COMMIT')

    def rollback(self):
        self.sql('ROLLBACK')
        del self.expected[self.txn_mark:]


def set_clause(cols, lits):
    return ', '.join('%s = %s' % (qi(c), l) for c, l in zip(cols, lits))


def generic_script(w, t, base):
    """The same statements for every table and phase; ids base+1.."""
    dc = [c.name for c in t.data_cols()]
    R = t.rows
    half_a = dc[0::2]
    half_b = dc[1::2] or dc

    def lits(row, cols):
        return [R[row][dc.index(c)] for c in cols]

    # multi-row INSERT, then single rows: all NULL, and one listing only
    # some columns (the others take their defaults)
    w.insert(t, R[0:5], [base + k for k in range(1, 6)])
    w.insert(t, [['NULL'] * len(dc)], [base + 90])
    w.insert(t, [lits(3, half_a)], [base + 91], cols=half_a)
    # one row, every column
    w.update(t, set_clause(dc, lits(1, dc)), [base + 1], assigned=dc)
    # the key changes
    k_new = t.key_cols(base + 101)
    key_assign = ', '.join('%s = %s' % (qi(c), k_new[c]) for c in k_new)
    w.update(t, key_assign, [base + 2], new_ids={base + 2: base + 101}, assigned=list(k_new))
    # a transaction: insert, update, delete
    w.begin()
    w.insert(t, [R[5]], [base + 6])
    w.update(t, set_clause(half_a, lits(0, half_a)), [base + 6], assigned=half_a)
    w.delete(t, [base + 3])
    w.commit()
    # two rows, in descending id order
    w.update(t, set_clause(half_b, lits(2, half_b)), [base + 4, base + 5], order='DESC',
             assigned=half_b)
    # to NULL
    w.update(t, set_clause(dc, ['NULL'] * len(dc)), [base + 101], assigned=dc)
    # rolled back: nothing in the binlog
    w.begin()
    w.insert(t, [R[3]], [base + 7])
    w.delete(t, [base + 4])
    w.rollback()
    # a statement that changes no row logs no row at all
    w.sql('UPDATE %s SET `id` = `id` WHERE `id` = %d' % (qi(t.name), base + 4))
    # from NULL, and two deletes
    w.update(t, set_clause(half_a, lits(4, half_a)), [base + 90], assigned=half_a)
    w.delete(t, [base + 1, base + 5])
    w.delete(t, [base + 90, base + 91], order='DESC')


def timestamp_edges(w, base):
    """TIMESTAMP extremes and the zero value, entered in several session
    time zones (UTC at the limits, far east and far west): the record is
    always UTC."""
    t = Table('t_ts_edge', [Col('id', 'INT NOT NULL', INT),
                            Col('ts', 'TIMESTAMP NULL DEFAULT NULL', TimestampKind(0)),
                            Col('ts6', 'TIMESTAMP(6) NULL DEFAULT NULL', TimestampKind(6))],
              [])
    if base == 0:
        w.sql(t.ddl())
    cases = [
        ("'+00:00'", ['1970-01-01 00:00:01', '1970-01-01 00:00:01.000001']),
        ("'+00:00'", ['2038-01-19 03:14:07', '2038-01-19 03:14:07.999999']),
        ("'+13:00'", ['1970-01-01 13:00:01', '2038-01-19 16:14:07.999999']),
        ("'-12:00'", ['1969-12-31 12:00:01', '2038-01-18 15:14:07.5']),
        ("'+05:30'", ['0000-00-00 00:00:00', '0000-00-00 00:00:00.000000']),
        ("'-08:00'", ['2000-02-29 16:00:00', '1999-12-31 16:00:00.000001']),
    ]
    for k, (tz, vals) in enumerate(cases):
        w.sql('SET SESSION time_zone = %s' % tz)
        w.insert(t, [[Q(v) for v in vals]], [base + k + 1])
    w.sql("SET SESSION time_zone = '-08:00'")
    w.update(t, "`ts` = '2001-01-01 00:00:00'", [base + 1, base + 2], assigned=['ts'])
    w.sql("SET SESSION time_zone = '+00:00'")
    w.delete(t, [base + k + 1 for k in range(len(cases))])
    return t


def enum_error_value(w, t, base):
    """An invalid ENUM value in non-strict mode is the empty error value
    (index 0), written as ""."""
    w.insert(t, [[T('ü')], [T('😀')]], [base + 201, base + 202], cols=['e'])
    w.delete(t, [base + 201, base + 202])
    w.sql("SET SESSION sql_mode = ''")
    w.insert(t, [[Q('bogus')]], [base + 200], cols=['e'])
    w.update(t, "`e300` = 'nope', `el` = 'nope'", [base + 200], assigned=['e300', 'el'])
    w.sql('SET SESSION sql_mode = DEFAULT')
    w.delete(t, [base + 200])


def huge_blob(w):
    """A LONGBLOB past 16 MiB (one row event larger than 16 MiB) and a
    MEDIUMTEXT near its limit; MINIMAL then updates another column (the
    blob stays out of the after image) and deletes by key."""
    t = Table('t_huge', [Col('id', 'INT NOT NULL', INT), Col('n', 'INT', INT),
                         Col('lb', 'LONGBLOB', BINB), Col('mt', 'MEDIUMTEXT', TEXTB)], [])
    w.sql(t.ddl())
    w.set_image('full')
    w.insert(t, [['1', "REPEAT(X'00ff5a0102fe', 3000000)", "REPEAT('é', 500000)"]], [1])
    w.set_image('minimal')
    w.update(t, '`n` = 2', [1], assigned=['n'])
    w.delete(t, [1])
    return t


def charset_exhaustive(w):
    """Every character each charset can hold, as the server converts the
    whole BMP (and a sample of the other planes) into it (unmappable ones
    dropped); for the single-byte sets also every byte 00..ff as stored,
    mapped or not."""
    cols = [Col('id', 'INT NOT NULL', INT)]
    cols += [Col('c_' + cs, 'MEDIUMTEXT CHARACTER SET %s' % cs, TEXTB) for cs in CHARSETS]
    t = Table('t_charset_all', cols, [])
    w.sql(t.ddl())
    w.set_image('full')
    bmp = ''.join(chr(c) for c in range(1, 0x10000) if not 0xd800 <= c <= 0xdfff)
    astral = ''.join(chr(c) for c in range(0x10000, 0x110000, 0xfd))
    w.sql("SET @bmp = _utf8mb4 X'%s'" % bmp.encode('utf-8').hex())
    w.sql("SET @all = _utf8mb4 X'%s'" % (bmp + astral).encode('utf-8').hex())
    w.sql("SET SESSION sql_mode = ''")
    w.insert(t, [["REPLACE(CONVERT(%s USING %s), '?', '')" % (
        '@all' if cs in ('utf8mb4', 'utf16', 'utf16le', 'utf32') else '@bmp', cs)
        for cs in CHARSETS]], [1])
    allbytes = bytes(range(256)).hex()
    w.insert(t, [["_%s X'%s'" % (cs, allbytes) if cs in SINGLE_BYTE else 'NULL'
                  for cs in CHARSETS]], [2])
    w.sql('SET SESSION sql_mode = DEFAULT')
    w.delete(t, [1, 2])
    return t


def cross_table(w, tables, base):
    """One transaction over three tables, rows interleaved."""
    ti, tt, tb = tables['t_int'], tables['t_text'], tables['t_bit']
    w.begin()
    w.insert(ti, [ti.rows[1]], [base + 300])
    w.insert(tt, [tt.rows[0]], [base + 300])
    w.update(ti, '`ti` = 5', [base + 300], assigned=['ti'])
    w.insert(tb, [tb.rows[1]], [base + 300])
    w.delete(tt, [base + 300])
    w.delete(ti, [base + 300])
    w.delete(tb, [base + 300])
    w.commit()


def load_time_zone(c):
    """Europe/Berlin into the time zone tables, without binlogging it."""
    if c.run("SELECT COUNT(*) FROM mysql.time_zone_name WHERE Name = 'Europe/Berlin'") != [['0']]:
        return True
    zi = '/usr/share/zoneinfo/Europe/Berlin'
    try:
        out = subprocess.run(['mariadb-tzinfo-to-sql', zi, 'Europe/Berlin'],
                             capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return False
    c.run('SET SESSION sql_log_bin = 0; USE mysql;\n' + out + '\nSET SESSION sql_log_bin = 1')
    c.run('USE `%s`' % DB)
    return True


# --------------------------------------------------------------- compare

def decode(files):
    cmd = [SLUICE, 'decode', '--stats'] + files
    p = subprocess.run(cmd, capture_output=True)
    if p.returncode != 0:
        fail('sluice decode failed (%d): %s' % (p.returncode,
                                               p.stderr.decode('utf-8', 'replace')[-2000:]))
    recs = []
    for n, line in enumerate(p.stdout.split(b'\n')):
        if not line:
            continue
        try:
            recs.append(json.loads(line.decode('utf-8'), parse_float=JFloat))
        except (UnicodeDecodeError, ValueError) as e:
            fail('record %d is not UTF-8 JSON (%s): %r' % (n, e, line[:300]))
    return recs, p.stderr.decode('utf-8', 'replace')


def short(v, n=300):
    s = repr(v)
    return s if len(s) <= n else s[:n] + '...(%d chars)' % len(s)


def compare(expected, records, tables, files):
    names = {os.path.basename(f) for f in files}
    by_name = {t.name: t for t in tables}
    values = 0
    last_seq = -1
    for k, exp in enumerate(expected):
        if k >= len(records):
            fail('decoded %d records, expected %d; first missing: %s %s id %s' % (
                len(records), len(expected), exp['op'], exp['table'], exp['id']))
        got = records[k]
        where = 'record %d (%s %s id %s)' % (k, exp['op'], exp['table'], exp['id'])
        for f in ('op', 'db', 'table'):
            want = {'op': exp['op'], 'db': DB, 'table': exp['table']}[f]
            if got.get(f) != want:
                fail('%s: %s is %r, want %r\n  record: %s' % (where, f, got.get(f), want,
                                                               short(got, 600)))
        if exp['pk'] is None:
            if 'pk' in got:
                fail('%s: pk %r, but the table has no key' % (where, got['pk']))
        elif got.get('pk') != exp['pk']:
            fail('%s: pk %r, want %r' % (where, got.get('pk'), exp['pk']))
        if got.get('positional_names') or 'json_diff' in got:
            fail('%s: unexpected positional_names/json_diff' % where)
        if got.get('file') not in names or type(got.get('pos')) is not int:
            fail('%s: file/pos %r/%r' % (where, got.get('file'), got.get('pos')))
        if type(got.get('seq')) is not int or got['seq'] <= last_seq:
            fail('%s: seq %r does not increase' % (where, got.get('seq')))
        last_seq = got['seq']
        if type(got.get('ts_ms')) is not int:
            fail('%s: ts_ms %r' % (where, got.get('ts_ms')))
        if not re.fullmatch(r'0-1-\d+', str(got.get('gtid'))):
            fail('%s: gtid %r' % (where, got.get('gtid')))
        data = got.get('data')
        if type(data) is not dict:
            fail('%s: data is %r' % (where, data))
        want_cols = list(exp['data'])
        if list(data) != want_cols:
            missing = [c for c in want_cols if c not in data]
            extra = [c for c in data if c not in exp['data']]
            fail('%s: columns %s, want %s (missing %s, not expected %s)' % (
                where, list(data), want_cols, missing, extra))
        t = by_name[exp['table']]
        for c, ev in exp['data'].items():
            gv = data[c]
            col = t.col(c)
            values += 1
            if ev is None:
                if gv is not None:
                    fail('%s: column %s (%s): want null, got %s' % (where, c, col.ddl, short(gv)))
                continue
            if gv is None:
                fail('%s: column %s (%s): want %s, got null' % (where, c, col.ddl, short(ev)))
            err = col.kind.check(ev, gv, c)
            if err:
                fail('%s: column %s (%s): %s\n  expected: %s\n  decoded:  %s' % (
                    where, c, col.ddl, err, short(ev), short(gv)))
    if len(records) > len(expected):
        extra = records[len(expected)]
        fail('decoded %d records, expected %d; first extra: %s' % (
            len(records), len(expected), short(extra, 600)))
    return values


# ------------------------------------------------------------------ main

def main():
    if not SOCK or not DATADIR:
        print('MDB_SOCK and MDB_DATADIR must be set (run tests/live_mariadb_types.sh)')
        return 2
    if not os.access(SLUICE, os.X_OK):
        print('%s not found: build it first (make)' % SLUICE)
        return 2
    t0 = time.time()
    c = Client(SOCK)
    # the server is ours (throwaway): start from an empty binlog
    c.run('DROP DATABASE IF EXISTS `%s`; RESET MASTER; CREATE DATABASE `%s`; USE `%s`'
          % (DB, DB, DB))
    have_berlin = load_time_zone(c)
    tables = all_tables()
    for t in tables:
        c.run(t.ddl())
    w = Workload(c)
    by_name = {t.name: t for t in tables}
    extra_tables = []
    zones = {'full': "'+05:30'", 'minimal': "'Europe/Berlin'" if have_berlin else "'+01:00'",
             'noblob': "'-08:00'", 'compressed': "'+00:00'"}

    phases = [('full', 0), ('minimal', 1000), ('noblob', 2000), ('compressed', 3000)]
    for phase, base in phases:
        if phase == 'compressed':
            # MariaDB's own compressed row events (types 169..171)
            c.run('SET GLOBAL log_bin_compress = ON; SET GLOBAL log_bin_compress_min_len = 10')
            w.set_image('full')
            w.mode = 'compressed'
        else:
            w.set_image(phase)
        for t in tables:
            # TIMESTAMP values are entered in a different session time zone
            # in each phase; the records are UTC all the same
            c.run('SET SESSION time_zone = %s' % (zones[phase] if t.name == 't_timestamp'
                                                  else "'+03:00'"))
            generic_script(w, t, base)
        c.run("SET SESSION time_zone = '+00:00'")
        edge = timestamp_edges(w, base)
        if base == 0:
            extra_tables.append(edge)
        enum_error_value(w, by_name['t_enum'], base)
        cross_table(w, by_name, base)
        if phase == 'compressed':
            c.run('SET GLOBAL log_bin_compress = OFF')
        c.run('FLUSH BINARY LOGS')
    extra_tables.append(huge_blob(w))
    extra_tables.append(charset_exhaustive(w))
    c.run('FLUSH BINARY LOGS')
    files = [os.path.join(DATADIR, r[0]) for r in c.run('SHOW BINARY LOGS')]
    statements = c.n
    c.close()
    t_load = time.time() - t0

    t1 = time.time()
    records, stats = decode(files)
    t_decode = time.time() - t1
    alltables = tables + extra_tables
    values = compare(w.expected, records, alltables, files)
    m = re.search(r'replaced text bytes (\d+)', stats)
    if not m or int(m.group(1)) != STATS['unmapped']:
        fail('--stats says %r replaced text bytes, the records hold %d U+FFFD for unmapped '
             'characters' % (m and m.group(1), STATS['unmapped']))
    ncols = sum(len(t.cols) for t in alltables)
    print('MariaDB: %d tables, %d columns, %d rows inserted, %d client calls (%.1fs)' % (
        len(alltables), ncols, w.rows_inserted, statements, t_load))
    print('binlog: %d files, %d bytes; sluice decode %.1fs' % (
        len(files), sum(os.path.getsize(f) for f in files), t_decode))
    print('compared %d records, %d values: all as SELECT returns them' % (len(records), values))
    if STATS['unmapped']:
        print('note: %d stored characters without a Unicode mapping: the server CONVERTs '
              'them to "?", sluice writes U+FFFD' % STATS['unmapped'])
    if not have_berlin:
        print('note: no Europe/Berlin time zone (mariadb-tzinfo-to-sql); DST cases ran in +01:00')
    print(stats.strip())
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except TestFailure as e:
        print('FAIL: %s' % e)
        sys.exit(1)
