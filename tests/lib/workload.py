"""workload.py: a seeded random DML and DDL workload on a MariaDB server,
for the live-capture tests (tests/live_capture.py, tests/live_restart.py).

Client      one `mariadb --batch` process fed through stdin: one session.
Workload    tables that together use every MariaDB column type, and steps
            that run on them: multi-row INSERTs, UPDATEs (some changing
            the primary key, some to NULL), DELETEs, transactions over
            several tables, rollbacks, large transactions (thousands of
            rows), binlog rotation, and DDL: ADD COLUMN (also FIRST),
            DROP COLUMN, RENAME COLUMN, MODIFY COLUMN, CREATE TABLE (then
            used), DROP TABLE (and a table created again under the same
            name with other columns).

The workload keeps a model of the tables (columns, and the ids of the rows
it believes exist) only to aim its statements; checks compare the server's
tables, never this model. Every DDL's GTID is read back with
`SELECT @@last_gtid` and kept in `ddls`, in order, so that an applier can
replay the DDL at the same place in the stream. Everything random comes
from one random.Random(seed): the same seed gives the same statements.
"""

import ipaddress
import json
import os
import subprocess
import tempfile
import uuid as uuidmod


class TestFailure(Exception):
    pass


def fail(msg):
    raise TestFailure(msg)


# ------------------------------------------------------------------ client

class Client:
    """One `mariadb` client process kept open: one session, so SET SESSION
    and BEGIN stick across calls. Each call sends SQL plus a marker SELECT
    and reads rows until the marker. An SQL error makes the client exit;
    it is reported with the SQL that failed. Values that can hold tabs or
    newlines must be selected through HEX()."""

    def __init__(self, sock, database=None, user='root', extra=()):
        self.err = tempfile.TemporaryFile()
        args = ['mariadb', '--no-defaults', '--socket=' + sock, '--user=' + user,
                '--batch', '--raw', '--skip-column-names', '--unbuffered',
                '--default-character-set=utf8mb4', '--max-allowed-packet=1073741824']
        args += list(extra)
        if database:
            args.append('--database=' + database)
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err)
        self.n = 0
        self.lines = 0          # lines sent: the client's errors name one

    def run(self, sql):
        self.n += 1
        marker = '--end-%d--' % self.n
        data = sql.strip().rstrip(';') + ";\nSELECT '" + marker + "';\n"
        self.lines += data.count('\n')
        try:
            self.p.stdin.write(data.encode('utf-8'))
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError):
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

    def value(self, sql):
        rows = self.run(sql)
        return rows[0][0] if rows and rows[0] else None

    def _died(self, sql):
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
        self.err.seek(0)
        err = self.err.read().decode('utf-8', 'replace').strip()
        err = err.splitlines()[-1] if err else 'the client exited'
        short = sql if len(sql) < 800 else sql[:800] + '...'
        raise ClientError('SQL failed: %s\n  in: %s' % (err, short))

    def close(self):
        if self.p.poll() is None:
            try:
                self.p.stdin.close()
                self.p.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.p.kill()
                self.p.wait()


class ClientError(TestFailure):
    pass


# ------------------------------------------------------------- literals

def T(s):
    """A utf8mb4 text literal (hex, so no escaping)."""
    return "_utf8mb4 X'%s'" % s.encode('utf-8').hex()


def B(b):
    return "X'%s'" % bytes(b).hex()


def Q(s):
    """A plain quoted literal (ASCII without quotes or backslashes)."""
    assert all(32 <= ord(c) < 127 and c not in "'\\" for c in s), s
    return "'%s'" % s


def qi(name):
    return '`%s`' % name.replace('`', '``')


# ----------------------------------------------------------- value makers
#
# Each column type has a key; GEN[key](rng) gives an SQL literal for a
# random value of the type, with its limits now and then.

WORDS_UTF8 = ['plain', 'ASCII', 'café', 'naïve', 'Straße', 'ü', 'é', '中文', '日本語',
              'עברית', 'привет', '😀', '👍🏽', '𝄞', "it's", 'q"uote', 'back\\slash',
              'tab\there', 'new\nline', 'cr\rx', '', ' ', 'trailing  ', '€', '\u2028',
              'x' * 40]
# MariaDB's latin1 is cp1252: € œ ™ are in it (0x80, 0x9c, 0x99).
WORDS_LATIN1 = ['plain', 'café', 'naïve', 'Straße', 'àéîõü', 'ÿ', '£§©®', '€', 'œ',
                '™', "it's", 'back\\slash', 'tab\there', '', 'x' * 30, 'ÀÉÎÕÜ ñ']


def text(rng, words, maxchars):
    n = rng.choice([0, 1, 1, 2, 3, 5, 8, 20])
    s = ' '.join(rng.choice(words) for _ in range(n))
    return s[:maxchars]


def big_text(rng, words, maxbytes):
    s = ''
    target = rng.randint(maxbytes // 4, maxbytes // 2)
    while len(s.encode('utf-8')) < target:
        s += rng.choice(words) + ' '
    while len(s.encode('utf-8')) > maxbytes:
        s = s[:-1]
    return s


def int_gen(lo, hi):
    def g(rng):
        r = rng.random()
        if r < 0.08:
            return str(lo)
        if r < 0.16:
            return str(hi)
        if r < 0.3:
            return str(rng.randint(max(lo, -3), min(hi, 3)))
        return str(rng.randint(lo, hi))
    return g


def dec_gen(p, s, unsigned=False):
    def g(rng):
        ip = p - s
        r = rng.random()
        if r < 0.08:
            digits_i, digits_f = '9' * ip, '9' * s
        elif r < 0.14:
            digits_i, digits_f = '0', '0' * s
        else:
            ni = rng.randint(0, ip)
            digits_i = ''.join(rng.choice('0123456789') for _ in range(ni)) or '0'
            digits_f = ''.join(rng.choice('0123456789') for _ in range(rng.randint(0, s)))
        v = (digits_i or '0') + ('.' + digits_f if digits_f else '')
        if not unsigned and rng.random() < 0.5:
            v = '-' + v
        return v
    return g


def float_gen(rng):
    import struct
    r = rng.random()
    if r < 0.3:
        x = round(rng.uniform(-1000, 1000), rng.randint(0, 4))
    elif r < 0.35:
        x = rng.choice([0.0, 1.0, -1.0, 3.4028234663852886e38, -3.4028234663852886e38,
                        1.401298464324817e-45, 1.1754943508222875e-38, 16777217.0, 0.1])
    else:
        while True:
            bits = rng.getrandbits(32)
            if (bits >> 23) & 0xff != 0xff:
                break
        x = struct.unpack('<f', struct.pack('<I', bits))[0]
    # the double that is exactly the float32 value: stored exactly
    x = struct.unpack('<f', struct.pack('<f', x))[0]
    if x == 0:
        x = 0.0
    return repr(x) + ('e0' if 'e' not in repr(x) else '')


def double_gen(rng):
    import struct
    r = rng.random()
    if r < 0.3:
        x = round(rng.uniform(-1e6, 1e6), rng.randint(0, 6))
    elif r < 0.35:
        x = rng.choice([0.0, 1.0, -2.5, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308,
                        0.30000000000000004, 9007199254740993.0, 1e23])
    else:
        while True:
            bits = rng.getrandbits(64)
            if (bits >> 52) & 0x7ff != 0x7ff:
                break
        x = struct.unpack('<d', struct.pack('<Q', bits))[0]
    if x == 0:
        x = 0.0
    return repr(x) + ('e0' if 'e' not in repr(x) else '')


def bit_gen(width):
    def g(rng):
        r = rng.random()
        if r < 0.1:
            v = 0
        elif r < 0.2:
            v = (1 << width) - 1
        else:
            v = rng.getrandbits(width)
        return "b'%s'" % format(v, 'b')
    return g


def date_str(rng):
    if rng.random() < 0.04:
        return '0000-00-00'
    if rng.random() < 0.03:
        return '%04d-00-%02d' % (rng.randint(1, 9999), rng.randint(0, 28))
    return '%04d-%02d-%02d' % (rng.choice([rng.randint(1000, 9999), rng.randint(1960, 2040)]),
                               rng.randint(1, 12), rng.randint(1, 28))


def frac(rng, fsp):
    if not fsp:
        return ''
    return '.' + ''.join(rng.choice('0123456789') for _ in range(fsp))


def date_gen(rng):
    return Q(date_str(rng))


def datetime_gen(fsp):
    def g(rng):
        if rng.random() < 0.04:
            return Q('0000-00-00 00:00:00')
        return Q('%s %02d:%02d:%02d%s' % (date_str(rng).replace('0000-00-00', '2000-01-01'),
                                          rng.randint(0, 23), rng.randint(0, 59),
                                          rng.randint(0, 59), frac(rng, fsp)))
    return g


def timestamp_gen(fsp):
    # In the session's time zone (+03:00 in these tests: no DST, so every
    # local time between these years exists and is in TIMESTAMP's range).
    def g(rng):
        if rng.random() < 0.04:
            return Q('0000-00-00 00:00:00')
        return Q('%04d-%02d-%02d %02d:%02d:%02d%s' % (
            rng.randint(1971, 2037), rng.randint(1, 12), rng.randint(1, 28),
            rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), frac(rng, fsp)))
    return g


def time_gen(fsp):
    def g(rng):
        r = rng.random()
        if r < 0.05:
            return Q('838:59:59' + ('.' + '0' * fsp if fsp else ''))
        if r < 0.1:
            return Q('-838:59:59' + ('.' + '0' * fsp if fsp else ''))
        sign = '-' if rng.random() < 0.3 else ''
        return Q('%s%d:%02d:%02d%s' % (sign, rng.choice([rng.randint(0, 23), rng.randint(0, 837)]),
                                       rng.randint(0, 59), rng.randint(0, 59), frac(rng, fsp)))
    return g


def year_gen(rng):
    r = rng.random()
    if r < 0.05:
        return '0'
    return str(rng.randint(1901, 2155))


def text_gen(words, maxchars, big=0):
    def g(rng):
        if big and rng.random() < 0.01:
            return T(big_text(rng, words, big))
        return T(text(rng, words, maxchars))
    return g


def bytes_gen(maxlen, fixed=None, big=0):
    def g(rng):
        if fixed:
            n = rng.randint(0, fixed)
        elif big and rng.random() < 0.01:
            n = rng.randint(maxlen, big)
        else:
            n = rng.choice([0, 1, 3, rng.randint(0, maxlen)])
        return B(rng.randbytes(n))
    return g


ENUM_LABELS = ['a', 'b', 'c d', 'é', '😀']
SET_LABELS = ['x', 'y', 'z', 'ü']


def enum_gen(rng):
    return T(rng.choice(ENUM_LABELS))


def set_gen(rng):
    return T(','.join(l for l in SET_LABELS if rng.random() < 0.5))


def json_value(rng, depth=0):
    r = rng.random()
    if depth < 3 and r < 0.25:
        return {rng.choice(['a', 'b', 'ключ', 'emoji😀', 'x y']) + str(k): json_value(rng, depth + 1)
                for k in range(rng.randint(0, 4))}
    if depth < 3 and r < 0.45:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return rng.choice([None, True, False, rng.randint(-10**12, 10**12), rng.random() * 1e6,
                       text(rng, WORDS_UTF8, 30)])


def json_gen(rng):
    return T(json.dumps(json_value(rng), ensure_ascii=rng.random() < 0.3))


def coord(rng):
    if rng.random() < 0.1:
        return repr(rng.uniform(-1e10, 1e10))
    return '%.6f' % rng.uniform(-180, 180)


def point_wkt(rng):
    return 'POINT(%s %s)' % (coord(rng), coord(rng))


def line_wkt(rng):
    return 'LINESTRING(%s)' % ','.join('%s %s' % (coord(rng), coord(rng))
                                       for _ in range(rng.randint(2, 5)))


def poly_wkt(rng):
    x, y = rng.uniform(-100, 100), rng.uniform(-100, 100)
    w, h = rng.uniform(0.5, 10), rng.uniform(0.5, 10)
    return 'POLYGON((%f %f,%f %f,%f %f,%f %f,%f %f))' % (x, y, x + w, y, x + w, y + h, x, y + h,
                                                        x, y)


def geo_gen(kinds, srid=None):
    def g(rng):
        wkt = rng.choice(kinds)(rng)
        if srid is None:
            return "ST_GeomFromText('%s')" % wkt
        return "ST_GeomFromText('%s', %d)" % (wkt, srid)
    return g


def uuid_gen(rng):
    # MariaDB refuses some version/variant pairs: versions 1, 4 and 7 of
    # the RFC variant, and the nil and max UUIDs
    r = rng.random()
    if r < 0.05:
        return Q('00000000-0000-0000-0000-000000000000')
    if r < 0.1:
        return Q('ffffffff-ffff-ffff-ffff-ffffffffffff')
    b = bytearray(rng.randbytes(16))
    b[6] = (b[6] & 0x0f) | (rng.choice([1, 4, 7]) << 4)
    b[8] = (b[8] & 0x3f) | 0x80
    u = str(uuidmod.UUID(bytes=bytes(b)))
    return Q(u.upper() if rng.random() < 0.3 else u)


def inet4_gen(rng):
    return Q(str(ipaddress.IPv4Address(rng.getrandbits(32))))


def inet6_gen(rng):
    if rng.random() < 0.2:
        return Q('::ffff:%s' % ipaddress.IPv4Address(rng.getrandbits(32)))
    if rng.random() < 0.1:
        return Q(rng.choice(['::', '::1', 'fe80::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']))
    return Q(str(ipaddress.IPv6Address(rng.getrandbits(128))))


# key -> (DDL type, value maker). Every column type of MariaDB 10.11.
TYPES = {
    'tinyint': ('TINYINT', int_gen(-128, 127)),
    'utinyint': ('TINYINT UNSIGNED', int_gen(0, 255)),
    'smallint': ('SMALLINT', int_gen(-32768, 32767)),
    'usmallint': ('SMALLINT UNSIGNED', int_gen(0, 65535)),
    'mediumint': ('MEDIUMINT', int_gen(-8388608, 8388607)),
    'umediumint': ('MEDIUMINT UNSIGNED', int_gen(0, 16777215)),
    'int': ('INT', int_gen(-2147483648, 2147483647)),
    'uint': ('INT UNSIGNED', int_gen(0, 4294967295)),
    'bigint': ('BIGINT', int_gen(-9223372036854775808, 9223372036854775807)),
    'ubigint': ('BIGINT UNSIGNED', int_gen(0, 18446744073709551615)),
    'bool': ('BOOLEAN', int_gen(0, 1)),
    'zerofill': ('INT(6) UNSIGNED ZEROFILL', int_gen(0, 4294967295)),
    'dec1': ('DECIMAL(1,0)', dec_gen(1, 0)),
    'dec52': ('DECIMAL(5,2)', dec_gen(5, 2)),
    'dec189': ('DECIMAL(18,9)', dec_gen(18, 9)),
    'dec3838': ('DECIMAL(38,38)', dec_gen(38, 38)),
    'dec6530': ('DECIMAL(65,30)', dec_gen(65, 30)),
    'udec124': ('DECIMAL(12,4) UNSIGNED', dec_gen(12, 4, unsigned=True)),
    'float': ('FLOAT', float_gen),
    'double': ('DOUBLE', double_gen),
    'bit1': ('BIT(1)', bit_gen(1)),
    'bit13': ('BIT(13)', bit_gen(13)),
    'bit64': ('BIT(64)', bit_gen(64)),
    'date': ('DATE', date_gen),
    'datetime': ('DATETIME', datetime_gen(0)),
    'datetime3': ('DATETIME(3)', datetime_gen(3)),
    'datetime6': ('DATETIME(6)', datetime_gen(6)),
    'timestamp': ('TIMESTAMP NULL DEFAULT NULL', timestamp_gen(0)),
    'timestamp2': ('TIMESTAMP(2) NULL DEFAULT NULL', timestamp_gen(2)),
    'timestamp6': ('TIMESTAMP(6) NULL DEFAULT NULL', timestamp_gen(6)),
    'time': ('TIME', time_gen(0)),
    'time1': ('TIME(1)', time_gen(1)),
    'time6': ('TIME(6)', time_gen(6)),
    'year': ('YEAR', year_gen),
    'char': ('CHAR(12) CHARACTER SET utf8mb4', text_gen(WORDS_UTF8, 12)),
    'varchar': ('VARCHAR(200) CHARACTER SET utf8mb4', text_gen(WORDS_UTF8, 200)),
    'varchar_bin': ('VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
                    text_gen(WORDS_UTF8, 50)),
    'tinytext': ('TINYTEXT CHARACTER SET utf8mb4', text_gen(WORDS_UTF8, 60)),
    'text': ('TEXT CHARACTER SET utf8mb4', text_gen(WORDS_UTF8, 500, big=60000)),
    'mediumtext': ('MEDIUMTEXT CHARACTER SET utf8mb4', text_gen(WORDS_UTF8, 500, big=200000)),
    'longtext': ('LONGTEXT CHARACTER SET utf8mb4', text_gen(WORDS_UTF8, 300)),
    'char_l': ('CHAR(8) CHARACTER SET latin1', text_gen(WORDS_LATIN1, 8)),
    'varchar_l': ('VARCHAR(120) CHARACTER SET latin1', text_gen(WORDS_LATIN1, 120)),
    'text_l': ('TEXT CHARACTER SET latin1', text_gen(WORDS_LATIN1, 300, big=20000)),
    'binary': ('BINARY(16)', bytes_gen(16, fixed=16)),
    'varbinary': ('VARBINARY(300)', bytes_gen(300)),
    'tinyblob': ('TINYBLOB', bytes_gen(255)),
    'blob': ('BLOB', bytes_gen(200, big=60000)),
    'mediumblob': ('MEDIUMBLOB', bytes_gen(200, big=100000)),
    'longblob': ('LONGBLOB', bytes_gen(200, big=300000)),
    'enum': ("ENUM('a','b','c d','é','😀') CHARACTER SET utf8mb4", enum_gen),
    'set': ("SET('x','y','z','ü') CHARACTER SET utf8mb4", set_gen),
    'json': ('JSON', json_gen),
    'geometry': ('GEOMETRY', geo_gen([point_wkt, line_wkt, poly_wkt])),
    'point': ('POINT', geo_gen([point_wkt])),
    'point4326': ('POINT REF_SYSTEM_ID=4326', geo_gen([point_wkt], 4326)),
    'linestring': ('LINESTRING', geo_gen([line_wkt])),
    'polygon': ('POLYGON', geo_gen([poly_wkt])),
    'uuid': ('UUID', uuid_gen),
    'inet4': ('INET4', inet4_gen),
    'inet6': ('INET6', inet6_gen),
}


# ------------------------------------------------------------- the model

class Col:
    def __init__(self, name, key, nullable=True):
        self.name, self.key, self.nullable = name, key, nullable

    def ddl(self):
        return '%s %s' % (qi(self.name), TYPES[self.key][0])

    def value(self, rng):
        if self.nullable and rng.random() < 0.08:
            return 'NULL'
        return TYPES[self.key][1](rng)


class Table:
    """A table of the workload. Every table has an integer `id` that the
    workload picks rows by; `keyfn(id)` gives the literals of the primary
    key columns (id alone, or id with a text column derived from it)."""

    def __init__(self, name, cols, pk=('id',), id_type='INT NOT NULL', options=''):
        self.name = name
        self.cols = cols                 # non-key columns, table order
        self.pk = list(pk)
        self.id_type = id_type
        self.options = options
        self.ids = []                    # ids of the rows believed to exist
        self.pos = {}

    def key_lits(self, i):
        if self.pk == ['id']:
            return {'id': str(i)}
        return {'k': T('ключ-%d' % (i % 13)), 'id': str(i)}

    def create_sql(self):
        parts = ['`id` %s' % self.id_type]
        if 'k' in self.pk:
            parts.insert(0, '`k` VARCHAR(32) CHARACTER SET utf8mb4 NOT NULL')
        parts += [c.ddl() for c in self.cols]
        parts.append('PRIMARY KEY (%s)' % ', '.join(qi(k) for k in self.pk))
        return 'CREATE TABLE %s (\n  %s\n) %s' % (qi(self.name), ',\n  '.join(parts),
                                                 self.options)

    def where(self, i):
        return ' AND '.join('%s = %s' % (qi(c), v) for c, v in self.key_lits(i).items())

    def add_id(self, i):
        self.pos[i] = len(self.ids)
        self.ids.append(i)

    def remove_id(self, i):
        k = self.pos.pop(i)
        last = self.ids.pop()
        if k < len(self.ids):
            self.ids[k] = last
            self.pos[last] = k

    def col(self, name):
        return next(c for c in self.cols if c.name == name)


def base_tables():
    def cols(*keys):
        return [Col(k, k) for k in keys]

    return [
        Table('t_int', cols('tinyint', 'utinyint', 'smallint', 'usmallint', 'mediumint',
                            'umediumint', 'int', 'uint', 'bigint', 'ubigint', 'bool',
                            'zerofill')),
        Table('t_num', cols('dec1', 'dec52', 'dec189', 'dec3838', 'dec6530', 'udec124',
                            'float', 'double', 'bit1', 'bit13', 'bit64'),
              id_type='BIGINT NOT NULL'),
        Table('t_time', cols('date', 'datetime', 'datetime3', 'datetime6', 'timestamp',
                             'timestamp2', 'timestamp6', 'time', 'time1', 'time6', 'year'),
              id_type='INT UNSIGNED NOT NULL'),
        Table('t_text', cols('char', 'varchar', 'varchar_bin', 'tinytext', 'text',
                             'mediumtext', 'longtext', 'char_l', 'varchar_l', 'text_l'),
              pk=('k', 'id'), options='DEFAULT CHARSET=utf8mb4'),
        Table('t_bin', cols('binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob',
                            'longblob', 'enum', 'set')),
        Table('t_misc', cols('json', 'geometry', 'point', 'point4326', 'linestring',
                             'polygon', 'uuid', 'inet4', 'inet6'),
              options='DEFAULT CHARSET=latin1'),
        Table('t_orders', [Col('cust', 'int', nullable=False), Col('amount', 'dec189'),
                           Col('qty', 'usmallint'), Col('note', 'varchar'),
                           Col('created', 'datetime6'), Col('paid', 'timestamp6'),
                           Col('flags', 'bit13'), Col('status', 'enum')],
              id_type='BIGINT UNSIGNED NOT NULL'),
    ]


# ---------------------------------------------------------- the workload

DDL_KINDS = ['add', 'create', 'rename', 'drop', 'add_first', 'drop_table', 'modify',
             'create', 'add', 'rename', 'drop', 'drop_table']


class Workload:
    """Runs steps on `client` (a Client in database `db`). ddls: list of
    (gtid, sql) in commit order, the initial CREATE TABLEs included.
    on_big(gtid, rows) is called after each large transaction commits."""

    def __init__(self, client, db, seed, on_big=None, big_every=70, ddl_every=60):
        import random
        self.c = client
        self.db = db
        self.rng = random.Random(seed)
        self.tables = []
        self.ddls = []
        self.next_id = 1
        self.steps = 0
        self.stats = {}
        self.on_big = on_big
        self.big_every = big_every
        self.ddl_every = ddl_every
        self.ddl_done = {}
        self.ddl_plan = list(DDL_KINDS)
        self.rng.shuffle(self.ddl_plan)
        self.new_tables = 0
        self.col_serial = 0

    # -- helpers

    def count(self, what, n=1):
        self.stats[what] = self.stats.get(what, 0) + n

    def fresh_id(self):
        self.next_id += 1
        return self.next_id

    def ddl(self, sql):
        gtid = self.c.value(sql + ';\nSELECT @@last_gtid')
        if not gtid:
            fail('no GTID for DDL %s' % sql)
        self.ddls.append((gtid, sql))
        self.count('ddl')
        return gtid

    def setup(self):
        """Create the database and the base tables (their DDL recorded)."""
        self.c.run('CREATE DATABASE %s; USE %s' % (qi(self.db), qi(self.db)))
        # the session's zone: TIMESTAMP literals are local times in it
        self.c.run("SET SESSION time_zone = '+03:00'")
        for t in base_tables():
            self.ddl(t.create_sql())
            self.tables.append(t)

    def table(self, name):
        return next(t for t in self.tables if t.name == name)

    def row_values(self, t, i):
        keys = t.key_lits(i)
        return list(keys.values()) + [c.value(self.rng) for c in t.cols]

    def insert_sql(self, t, ids):
        names = list(t.key_lits(0)) + [c.name for c in t.cols]
        rows = ['(' + ', '.join(self.row_values(t, i)) + ')' for i in ids]
        return 'INSERT INTO %s (%s) VALUES\n%s' % (
            qi(t.name), ', '.join(qi(n) for n in names), ',\n'.join(rows))

    def pick(self, t, n):
        n = min(n, len(t.ids))
        return self.rng.sample(t.ids, n) if n else []

    # -- statements (return SQL, update the model)

    def s_insert(self, t, n):
        ids = [self.fresh_id() for _ in range(n)]
        for i in ids:
            t.add_id(i)
        self.count('rows inserted', n)
        return [self.insert_sql(t, ids)]

    def s_update(self, t, n):
        out = []
        for i in self.pick(t, n):
            cols = self.rng.sample(t.cols, self.rng.randint(1, min(4, len(t.cols))))
            out.append('UPDATE %s SET %s WHERE %s' % (
                qi(t.name), ', '.join('%s = %s' % (qi(c.name), c.value(self.rng)) for c in cols),
                t.where(i)))
            self.count('rows updated')
        return out

    def s_update_null(self, t):
        out = []
        for i in self.pick(t, 1):
            cols = [c for c in t.cols if c.nullable]
            out.append('UPDATE %s SET %s WHERE %s' % (
                qi(t.name), ', '.join('%s = NULL' % qi(c.name) for c in cols), t.where(i)))
            self.count('rows set to NULL')
        return out

    def s_update_same_set(self, t, n):
        """One UPDATE over several rows, the same values for all."""
        ids = self.pick(t, n)
        if not ids:
            return []
        cols = self.rng.sample(t.cols, self.rng.randint(1, min(3, len(t.cols))))
        self.count('rows updated', len(ids))
        return ['UPDATE %s SET %s WHERE `id` IN (%s)' % (
            qi(t.name), ', '.join('%s = %s' % (qi(c.name), c.value(self.rng)) for c in cols),
            ', '.join(str(i) for i in ids))]

    def s_update_pk(self, t):
        out = []
        for i in self.pick(t, 1):
            j = self.fresh_id()
            new = t.key_lits(j)
            extra = ''
            if t.cols and self.rng.random() < 0.5:
                c = self.rng.choice(t.cols)
                extra = ', %s = %s' % (qi(c.name), c.value(self.rng))
            out.append('UPDATE %s SET %s%s WHERE %s' % (
                qi(t.name), ', '.join('%s = %s' % (qi(k), v) for k, v in new.items()), extra,
                t.where(i)))
            t.remove_id(i)
            t.add_id(j)
            self.count('primary keys changed')
        return out

    def s_delete(self, t, n):
        ids = self.pick(t, n)
        for i in ids:
            t.remove_id(i)
        self.count('rows deleted', len(ids))
        if not ids:
            return []
        return ['DELETE FROM %s WHERE `id` IN (%s)' % (qi(t.name), ', '.join(str(i) for i in ids))]

    def small_statement(self, t=None):
        t = t or self.rng.choice(self.tables)
        r = self.rng.random()
        if r < 0.35 or len(t.ids) < 5:
            return self.s_insert(t, self.rng.choice([1, 1, 2, 3, 5, 8, 15]))
        if r < 0.6:
            return self.s_update(t, self.rng.randint(1, 3))
        if r < 0.67:
            return self.s_update_same_set(t, self.rng.randint(2, 6))
        if r < 0.74:
            return self.s_update_pk(t)
        if r < 0.78:
            return self.s_update_null(t)
        return self.s_delete(t, self.rng.randint(1, 3))

    # -- steps

    def step(self):
        """One step: a transaction, a rollback, a large transaction, DDL or
        a binlog rotation."""
        self.steps += 1
        r = self.rng.random()
        if self.steps % self.ddl_every == self.ddl_every // 2:
            self.step_ddl()
        elif self.steps % self.big_every == 0:
            self.step_big()
        elif r < 0.004:
            self.c.run('FLUSH BINARY LOGS')
            self.count('binlog rotations')
        elif r < 0.06:
            self.step_rollback()
        elif r < 0.22:
            self.step_multi()
        else:
            self.c.run(';\n'.join(self.small_statement()))
            self.count('autocommit statements')

    def step_multi(self):
        """One transaction over several tables."""
        stmts = []
        for t in self.rng.sample(self.tables, min(len(self.tables), self.rng.randint(2, 4))):
            for _ in range(self.rng.randint(1, 2)):
                stmts += self.small_statement(t)
        self.c.run('BEGIN;\n%s;\nCOMMIT' % ';\n'.join(stmts))
        self.count('multi-table transactions')

    def step_rollback(self):
        saved = {t.name: (list(t.ids), dict(t.pos)) for t in self.tables}
        saved_next = self.next_id
        stmts = []
        for t in self.rng.sample(self.tables, min(len(self.tables), self.rng.randint(1, 3))):
            stmts += self.small_statement(t)
        self.c.run('BEGIN;\n%s;\nROLLBACK' % ';\n'.join(stmts))
        for t in self.tables:
            t.ids, t.pos = saved[t.name]
        self.next_id = saved_next
        self.count('rollbacks')

    def step_big(self):
        """A transaction of thousands of rows."""
        o = self.table('t_orders')
        kind = self.rng.choice(['insert', 'insert', 'update', 'delete', 'mixed'])
        if len(o.ids) < 3000 and kind in ('update', 'delete'):
            kind = 'insert'
        stmts = []
        rows = 0
        if kind in ('insert', 'mixed'):
            n = self.rng.randint(2000, 4000)
            ids = [self.fresh_id() for _ in range(n)]
            for k in range(0, n, 500):
                stmts.append(self.insert_sql(o, ids[k:k + 500]))
            for i in ids:
                o.add_id(i)
            rows += n
        if kind in ('update', 'mixed'):
            ids = sorted(o.ids)
            lo = self.rng.randint(0, max(0, len(ids) - 2500))
            sel = ids[lo:lo + self.rng.randint(1500, 2500)]
            # keep to columns every version of t_orders has
            stmts.append("UPDATE `t_orders` SET `amount` = `amount` / 2 + 1.5, `cust` = `cust` %% 1000 "
                         "+ %d WHERE `id` BETWEEN %d AND %d" % (self.rng.randint(1, 9), sel[0],
                                                               sel[-1]))
            rows += 2 * len(sel)
        if kind == 'mixed':
            t = self.table('t_text')
            stmts += self.s_insert(t, 300)
            stmts += self.s_update(t, 20)
        if kind == 'delete':
            ids = sorted(o.ids)
            lo = self.rng.randint(0, max(0, len(ids) - 3000))
            sel = ids[lo:lo + self.rng.randint(2000, 3000)]
            stmts.append('DELETE FROM `t_orders` WHERE `id` BETWEEN %d AND %d' % (sel[0], sel[-1]))
            for i in sel:
                o.remove_id(i)
            rows += len(sel)
        gtid = self.c.value('BEGIN;\n%s;\nCOMMIT;\nSELECT @@last_gtid' % ';\n'.join(stmts))
        self.count('large transactions')
        if self.on_big:
            self.on_big(gtid, rows)

    def new_col(self, keys=None):
        self.col_serial += 1
        key = self.rng.choice(keys or sorted(TYPES))
        return Col('x%d_%s' % (self.col_serial, key), key)

    def step_ddl(self):
        kind = self.ddl_plan[len(self.ddl_done_list()) % len(self.ddl_plan)]
        created = [t for t in self.tables if t.name.startswith('t_new')]
        if kind == 'drop_table' and not created:
            kind = 'create'
        if kind == 'create' and len(created) >= 2:
            kind = 'drop_table'
        t = self.rng.choice([t for t in self.tables if t.name != 't_orders'] or self.tables)
        if kind in ('add', 'add_first'):
            c = self.new_col()
            if kind == 'add_first':
                where, k = ' FIRST', 0
            elif self.rng.random() < 0.5:
                k = self.rng.randrange(len(t.cols))
                where, k = ' AFTER %s' % qi(t.cols[k].name), k + 1
            else:
                where, k = '', len(t.cols)
            self.ddl('ALTER TABLE %s ADD COLUMN %s%s' % (qi(t.name), c.ddl(), where))
            t.cols.insert(k, c)
        elif kind == 'rename':
            c = self.rng.choice(t.cols)
            new = '%s_r%d' % (c.name.split('_r')[0], self.steps)
            self.ddl('ALTER TABLE %s RENAME COLUMN %s TO %s' % (qi(t.name), qi(c.name), qi(new)))
            c.name = new
        elif kind == 'drop':
            if len(t.cols) <= 2:
                return self.step_big()
            added = [c for c in t.cols if c.name.startswith('x')]
            c = self.rng.choice(added or t.cols)
            self.ddl('ALTER TABLE %s DROP COLUMN %s' % (qi(t.name), qi(c.name)))
            t.cols.remove(c)
        elif kind == 'modify':
            # widen a column: INT-like to BIGINT, or a VARCHAR to a longer one
            cands = [c for c in t.cols if c.key in ('tinyint', 'smallint', 'mediumint', 'int',
                                                    'varchar', 'varchar_l')]
            if not cands:
                c = self.new_col(['int'])
                self.ddl('ALTER TABLE %s ADD COLUMN %s' % (qi(t.name), c.ddl()))
                t.cols.append(c)
                cands = [c]
            c = self.rng.choice(cands)
            wide = {'varchar': 'VARCHAR(400) CHARACTER SET utf8mb4',
                    'varchar_l': 'VARCHAR(400) CHARACTER SET latin1'}.get(c.key, 'BIGINT')
            self.ddl('ALTER TABLE %s MODIFY COLUMN %s %s' % (qi(t.name), qi(c.name), wide))
        elif kind == 'create':
            # t_new0 and t_new1, each created again after a drop with
            # other columns
            self.new_tables += 1
            names = [t.name for t in created]
            name = next(n for n in ('t_new%d' % (self.new_tables % 2),
                                    't_new%d' % (1 - self.new_tables % 2)) if n not in names)
            cols = [self.new_col() for _ in range(self.rng.randint(3, 7))]
            nt = Table(name, cols, options='DEFAULT CHARSET=%s' % (
                'utf8mb4' if self.new_tables % 2 else 'latin1'))
            self.ddl(nt.create_sql())
            self.tables.append(nt)
            self.c.run(';\n'.join(self.s_insert(nt, 10)))
        elif kind == 'drop_table':
            d = self.rng.choice(created)
            self.ddl('DROP TABLE %s' % qi(d.name))
            self.tables.remove(d)
        self.ddl_done[kind] = self.ddl_done.get(kind, 0) + 1

    def ddl_done_list(self):
        return [k for k, n in self.ddl_done.items() for _ in range(n)]

    def missing_ddl_kinds(self):
        want = {'add', 'drop', 'rename', 'create', 'drop_table'}
        return sorted(want - set(k for k in self.ddl_done if self.ddl_done[k]) - (
            {'add'} if self.ddl_done.get('add_first') else set()))
