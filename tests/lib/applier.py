"""applier.py: read what `sluice run` wrote, check it, apply it to a copy
database, and compare the copy with the source. For the live-capture tests
(tests/live_capture.py, tests/live_restart.py).

read_output     the lines of a sink file, split where each run of sluice
                started writing (a run killed mid-write leaves a torn last
                line: dropped, and counted)
dedup           one record per sequence; every repeat must be the same
                bytes as the first copy
decode          `sluice decode` of binlog files: the offline truth
compare_values  two record streams: the same sequences and value JSON
check_sequences the sequence contract on one stream: strictly increasing,
                ordinal = the GTID's seq_no (one replication domain),
                index 0, 1, 2... within each transaction
Applier         records (sorted by sequence) and the workload's DDL, with
                each DDL replayed between the records of lower and higher
                ordinals, into an empty copy database, mapping each JSON
                value back to an SQL literal by the column's type
compare_dbs     every table of two databases: columns, and the sorted rows
                selected through exact expressions (an order-independent
                hash), plus CHECKSUM TABLE; a diff of rows on failure
"""

import base64
import hashlib
import ipaddress
import json
import re
import struct
import subprocess
import uuid as uuidmod

from workload import B, Q, T, TestFailure, fail, qi


class JFloat(str):
    """A JSON number with a fraction or exponent, kept as its text."""


class Rec:
    __slots__ = ('seq', 'gtid', 'value', 'line', 'obj', 'run')

    def __init__(self, seq, gtid, value, line, obj, run):
        self.seq, self.gtid, self.value, self.line, self.obj, self.run = (
            seq, gtid, value, line, obj, run)


VALUE_KEY = b',"value":'


def parse_line(line, where, run=0, headers=True):
    """One output line (bytes, no newline) -> Rec. With headers, the
    headers must agree with the value."""
    try:
        obj = json.loads(line.decode('utf-8'), parse_float=JFloat)
    except (UnicodeDecodeError, ValueError) as e:
        fail('%s: not a UTF-8 JSON line (%s): %r' % (where, e, line[:300]))
    if headers:
        k = line.find(VALUE_KEY)
        if not line.startswith(b'{"headers":') or k < 0 or not line.endswith(b'}'):
            fail('%s: not {"headers":...,"value":...}: %r' % (where, line[:300]))
        value = line[k + len(VALUE_KEY):-1]
        h, v = obj.get('headers'), obj.get('value')
        if type(h) is not dict or type(v) is not dict:
            fail('%s: headers/value missing: %r' % (where, line[:300]))
        for hk, vk in (('gtid', 'gtid'), ('db', 'db'), ('table', 'table'), ('op', 'op')):
            if h.get(hk) != v.get(vk):
                fail('%s: header %s %r, value has %r' % (where, hk, h.get(hk), v.get(vk)))
        if h.get('sequence') != str(v.get('seq')):
            fail('%s: header sequence %r, value seq %r' % (where, h.get('sequence'), v.get('seq')))
        if h.get('type') != 'data':
            fail('%s: header type %r' % (where, h.get('type')))
    else:
        value, v = line, obj
    seq = v.get('seq')
    if type(seq) is not int or seq <= 0:
        fail('%s: seq %r' % (where, seq))
    return Rec(seq, v.get('gtid'), value, line, v, run)


def read_output(path, starts=None):
    """The records of a sink file. starts: byte offsets at which each run
    of sluice began appending (standard output appended to a file); the
    last line of a run may be torn (killed mid-write): dropped. Without
    starts, the file must hold only complete lines. Returns (records,
    torn): records in file order, each with the index of its run."""
    with open(path, 'rb') as f:
        data = f.read()
    bounds = list(starts or [0]) + [len(data)]
    if bounds[0] != 0 or bounds != sorted(bounds):
        fail('%s: runs started at offsets %s' % (path, bounds[:-1]))
    recs, torn, parsed = [], 0, {}
    for run in range(len(bounds) - 1):
        seg = data[bounds[run]:bounds[run + 1]]
        lines = seg.split(b'\n')
        last = lines.pop()              # b'' when the run ended its line
        if last:
            if starts is None:
                fail('%s: the file ends with a partial line: %r' % (path, last[-200:]))
            torn += 1
        off = bounds[run]
        for n, line in enumerate(lines):
            # a line identical to one already read is that record again
            m = SEQ_RE.match(line)
            prev = parsed.get(m.group(1)) if m else None
            if prev is not None and prev.line == line:
                recs.append(Rec(prev.seq, prev.gtid, prev.value, line, prev.obj, run))
            else:
                r = parse_line(line, '%s: run %d line %d (offset %d)' % (path, run, n, off), run)
                parsed.setdefault(m.group(1) if m else None, r)
                recs.append(r)
            off += len(line) + 1
    return recs, torn


SEQ_RE = re.compile(rb'\{"headers":\{"sequence":"(\d+)"')


def line_diff(a, b):
    """Where two byte strings first differ, with context."""
    k = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    lo = max(0, k - 80)
    return 'first difference at byte %d:\n    first:  ...%r\n    repeat: ...%r' % (
        k, a[lo:k + 120], b[lo:k + 120])


def dedup(recs):
    """{seq: Rec} keeping the first copy. Returns (by_seq, repeats,
    mismatches): mismatches lists (first, repeat) where a repeat is not
    byte-identical to the first copy."""
    by_seq, repeats, bad = {}, 0, []
    for r in recs:
        first = by_seq.get(r.seq)
        if first is None:
            by_seq[r.seq] = r
            continue
        repeats += 1
        if first.line != r.line:
            bad.append((first, r))
    return by_seq, repeats, bad


def describe_repeats(bad, what, limit=3):
    out = ['%s: %d repeated records differ from their first copy (the same sequence, '
           'other content); the first %d:' % (what, len(bad), min(limit, len(bad)))]
    for first, r in bad[:limit]:
        out.append('  sequence %d (GTID %s, %s %s.%s), runs %d and %d: %s' % (
            r.seq, r.gtid, r.obj.get('op'), r.obj.get('db'), r.obj.get('table'), first.run,
            r.run, value_diff(first.value, r.value)))
    return '\n'.join(out)


def decode(sluice, files):
    p = subprocess.run([sluice, 'decode'] + list(files), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        fail('sluice decode failed (%d): %s' % (p.returncode,
                                               p.stderr.decode('utf-8', 'replace')[-2000:]))
    out = []
    for n, line in enumerate(p.stdout.split(b'\n')):
        if line:
            out.append(parse_line(line, 'sluice decode line %d' % n, headers=False))
    return out


def check_sequences(recs, what):
    """The sequence contract on records in commit (binlog) order."""
    last = 0
    idx = {}
    for n, r in enumerate(recs):
        if r.seq <= last:
            fail('%s: record %d has sequence %d, not above the previous %d\n  %s' % (
                what, n, r.seq, last, r.value[:300]))
        last = r.seq
        m = re.fullmatch(r'0-(\d+)-(\d+)', r.gtid or '')
        if not m:
            fail('%s: record %d: gtid %r is not in domain 0' % (what, n, r.gtid))
        ordinal, index = r.seq >> 24, r.seq & 0xffffff
        if ordinal != int(m.group(2)):
            fail('%s: record %d: sequence %d has ordinal %d, its GTID %s says %s' % (
                what, n, r.seq, ordinal, r.gtid, m.group(2)))
        want = idx.get(r.gtid, 0)
        if index != want:
            fail('%s: record %d (GTID %s): index %d in its transaction, want %d' % (
                what, n, r.gtid, index, want))
        idx[r.gtid] = want + 1


def value_diff(a, b):
    """The fields of two value JSONs that differ."""
    try:
        x = json.loads(a, parse_float=JFloat)
        y = json.loads(b, parse_float=JFloat)
    except ValueError:
        return line_diff(a, b)
    out = []
    for k in sorted(set(x) | set(y)):
        if k == 'data' and isinstance(x.get(k), dict) and isinstance(y.get(k), dict):
            for c in list(x[k]) + [c for c in y[k] if c not in x[k]]:
                if x[k].get(c, '<absent>') != y[k].get(c, '<absent>'):
                    out.append('data.%s: %s vs %s' % (c, short(x[k].get(c, '<absent>')),
                                                      short(y[k].get(c, '<absent>'))))
            if list(x[k]) != list(y[k]) and not out:
                out.append('data column order: %s vs %s' % (list(x[k]), list(y[k])))
        elif x.get(k, '<absent>') != y.get(k, '<absent>'):
            out.append('%s: %s vs %s' % (k, short(x.get(k, '<absent>')),
                                         short(y.get(k, '<absent>'))))
    return '; '.join(out) or line_diff(a, b)


def short(v, n=200):
    s = repr(v)
    return s if len(s) <= n else s[:n] + '...(%d chars)' % len(s)


def catalog_form(lv, dv):
    """When live value lv is what the server's catalog makes of binlog
    value dv (docs/CHANGELOG_JSON.md, "What the catalog supplies"): a
    MariaDB UUID, INET4 or INET6 as text instead of base64, a MariaDB
    JSON column as the JSON value instead of its text. The kind, or None."""
    if type(dv) is not str:
        return None
    if type(lv) is str:
        try:
            raw = base64.b64decode(dv, validate=True)
        except ValueError:
            raw = None
        if raw is not None and len(raw) == 16:
            try:
                if uuidmod.UUID(lv).bytes == raw and lv == str(uuidmod.UUID(lv)):
                    return 'UUID'
            except ValueError:
                pass
            try:
                if ipaddress.IPv6Address(lv).packed == raw:
                    return 'INET6'
            except ValueError:
                pass
        if raw is not None and len(raw) == 4:
            try:
                if ipaddress.IPv4Address(lv).packed == raw:
                    return 'INET4'
            except ValueError:
                pass
    try:
        doc = json.loads(dv, parse_float=JFloat)
    except ValueError:
        return None
    return 'JSON' if same_json(doc, lv) else None


def same_json(a, b):
    """Equal JSON values, numbers by their text, types included."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(same_json(a[k], b[k]) for k in a)
    if type(a) is list:
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return a == b


def compare_values(name_a, a, name_b, b, catalog=None):
    """Two lists of Rec sorted by sequence: the same sequences, the same
    value JSON byte for byte. With catalog (a dict, filled with counts), a
    data value of a (live) may instead be the catalog's form of b's."""
    for k in range(min(len(a), len(b))):
        x, y = a[k], b[k]
        if x.seq != y.seq:
            lo = min(x.seq, y.seq)
            only = name_a if x.seq == lo else name_b
            r = x if x.seq == lo else y
            fail('%s and %s differ at record %d: sequence %d (%s) is only in %s\n  %s' % (
                name_a, name_b, k, lo, r.gtid, only, r.value[:400].decode('utf-8', 'replace')))
        if x.value != y.value and not (catalog is not None and catalog_equal(x, y, catalog)):
            fail('%s and %s differ at sequence %d (GTID %s): %s\n  %s: %s\n  %s: %s' % (
                name_a, name_b, x.seq, x.gtid, value_diff(x.value, y.value),
                name_a, x.value[:600].decode('utf-8', 'replace'),
                name_b, y.value[:600].decode('utf-8', 'replace')))
    if len(a) != len(b):
        more, name, other = (a, name_a, name_b) if len(a) > len(b) else (b, name_b, name_a)
        r = more[min(len(a), len(b))]
        fail('%s has %d records, %s %d: the first one %s lacks is sequence %d (%s)\n  %s' % (
            name_a, len(a), name_b, len(b), other, r.seq, r.gtid,
            r.value[:400].decode('utf-8', 'replace')))


def catalog_equal(x, y, counts):
    """x (live) equals y (decode) but for data values in the catalog's
    form; counts those by kind."""
    vx = json.loads(x.value, parse_float=JFloat)
    vy = json.loads(y.value, parse_float=JFloat)
    # json_null: columns the catalog shows to be JSON, holding the document
    # null (the binlog's text "null")
    jnull = vx.pop('json_null', [])
    if list(vx) != list(vy) or any(vx[k] != vy[k] for k in vx if k != 'data'):
        return False
    dx, dy = vx['data'], vy['data']
    if list(dx) != list(dy):
        return False
    kinds = []
    for c in dx:
        if c in jnull:
            if dx[c] is not None or dy[c] != 'null':
                return False
            kinds.append('JSON')
            continue
        if dx[c] == dy[c] and type(dx[c]) is type(dy[c]):
            continue
        kind = catalog_form(dx[c], dy[c])
        if not kind:
            return False
        kinds.append(kind)
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return True


# ---------------------------------------------------------------- applier

INTS = {'tinyint', 'smallint', 'mediumint', 'int', 'bigint'}
TEXTS = {'char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set'}
BINS = {'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'}
GEOS = {'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring',
        'multipolygon', 'geometrycollection'}
DEC_RE = re.compile(r'-?\d+(\.\d+)?')
DATE_RE = {
    'date': re.compile(r'\d{4}-\d\d-\d\d'),
    'datetime': re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?'),
    'timestamp': re.compile(r'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?Z?'),
    'time': re.compile(r'-?\d{2,3}:\d\d:\d\d(\.\d{1,6})?'),
}


def b64(v, where):
    if type(v) is not str:
        fail('%s: want a base64 string, got %s' % (where, short(v)))
    try:
        return base64.b64decode(v, validate=True)
    except ValueError:
        fail('%s: not base64: %s' % (where, short(v)))


def literal(dtype, v, where):
    """The SQL literal for JSON value v of a column of type dtype
    (information_schema DATA_TYPE), per docs/CHANGELOG_JSON.md."""
    if v is None:
        return 'NULL'
    if dtype in INTS or dtype == 'year':
        if type(v) is not int:
            fail('%s: want an integer, got %s' % (where, short(v)))
        return str(v)
    if dtype == 'decimal':
        if type(v) is not str or not DEC_RE.fullmatch(v):
            fail('%s: want a decimal string, got %s' % (where, short(v)))
        return v
    if dtype in ('float', 'double'):
        if type(v) not in (JFloat, int):
            fail('%s: want a number, got %s' % (where, short(v)))
        if dtype == 'float':
            # as the server reads a FLOAT literal: to double, then float;
            # written back as the exact double of that float (the
            # shortest text of FLT_MAX is "out of range" to strict mode)
            x = struct.unpack('<f', struct.pack('<f', float(v)))[0]
            return repr(x) + ('' if 'e' in repr(x) else 'e0')
        return str(v) + ('' if 'e' in str(v).lower() else 'e0')
    if dtype == 'bit':
        if type(v) is not int or v < 0:
            fail('%s: want an unsigned integer, got %s' % (where, short(v)))
        return "b'%s'" % format(v, 'b')
    if dtype in DATE_RE:
        if type(v) is not str or not DATE_RE[dtype].fullmatch(v):
            fail('%s: not a %s: %s' % (where, dtype, short(v)))
        if dtype == 'timestamp':
            # UTC with a Z (the applier's session is in +00:00); the zero
            # timestamp has none
            if v.endswith('Z'):
                v = v[:-1]
            elif v.strip('0:-. '):
                fail('%s: TIMESTAMP %s has no Z' % (where, short(v)))
        return Q(v)
    if dtype in TEXTS:
        if type(v) is not str:
            fail('%s: want a string, got %s' % (where, short(v)))
        return T(v)
    if dtype in BINS:
        return B(b64(v, where))
    if dtype in GEOS:
        if type(v) is not dict or set(v) != {'srid', 'wkb'}:
            fail('%s: want {"srid":..,"wkb":..}, got %s' % (where, short(v)))
        return 'ST_GeomFromWKB(%s, %d)' % (B(b64(v['wkb'], where)), v['srid'])
    if dtype == 'json':
        # MariaDB's JSON (a LONGTEXT with CHECK (json_valid(..))): the
        # text as a string, or, rendered through the catalog, the JSON
        # value itself. A string that is not JSON text is such a value
        # (a document that is a JSON string). A string that is JSON text
        # cannot be told from a document that is a string holding JSON
        # text: the workload writes no such documents.
        if type(v) is str:
            try:
                json.loads(v)
                return T(v)
            except ValueError:
                return T(json.dumps(v, ensure_ascii=False))
        return T(json_text(v))
    if dtype in ('uuid', 'inet4', 'inet6'):
        # base64 of the bytes, or (through the catalog) the text form
        if type(v) is str and ((dtype == 'uuid' and len(v) == 36) or
                               (dtype == 'inet4' and '.' in v) or
                               (dtype == 'inet6' and ':' in v)):
            return Q(v)
        raw = b64(v, where)
        want = {'uuid': 16, 'inet4': 4, 'inet6': 16}[dtype]
        if len(raw) != want:
            fail('%s: %s of %d bytes' % (where, dtype, len(raw)))
        if dtype == 'uuid':
            return Q(str(uuidmod.UUID(bytes=raw)))
        if dtype == 'inet4':
            return Q(str(ipaddress.IPv4Address(raw)))
        return Q(str(ipaddress.IPv6Address(raw)))
    fail('%s: the applier has no mapping for type %s' % (where, dtype))


def json_text(v, ascii=False):
    """Compact JSON text of a parsed value, numbers as they were written."""
    if isinstance(v, JFloat):
        return str(v)
    if type(v) is dict:
        return '{' + ','.join(json.dumps(k, ensure_ascii=ascii) + ':' + json_text(x, ascii)
                              for k, x in v.items()) + '}'
    if type(v) is list:
        return '[' + ','.join(json_text(x, ascii) for x in v) + ']'
    return json.dumps(v, ensure_ascii=ascii)


def column_types(client, db):
    """{table: {column: type}} and {table: [(column, COLUMN_TYPE)]}. The
    type is information_schema's DATA_TYPE, except 'json' for MariaDB's
    JSON columns (LONGTEXT with a json_valid CHECK)."""
    types, defs = {}, {}
    json_cols = set()
    for t, clause in client.run(
            "SELECT TABLE_NAME, HEX(CHECK_CLAUSE) FROM information_schema.CHECK_CONSTRAINTS "
            "WHERE CONSTRAINT_SCHEMA = '%s'" % db):
        m = re.fullmatch(r'json_valid\(`([^`]+)`\)', bytes.fromhex(clause).decode('utf-8'))
        if m:
            json_cols.add((t, m.group(1)))
    for t, c, dt, ct in client.run(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = '%s' ORDER BY TABLE_NAME, ORDINAL_POSITION" % db):
        if dt == 'longtext' and (t, c) in json_cols:
            dt = 'json'
        types.setdefault(t, {})[c] = dt
        defs.setdefault(t, []).append((c, ct))
    return types, defs


class Applier:
    """Applies records to database `copy` through `client` (a Client;
    the session is set to log nothing to the binlog and to UTC). DDL
    statements are (gtid, sql) pairs, run in `copy` unchanged: they name
    tables without a database."""

    CHUNK = 1 << 20

    def __init__(self, client, src_db, copy_db):
        self.c = client
        self.src, self.copy = src_db, copy_db
        self.c.run("SET SESSION sql_log_bin = 0; SET SESSION time_zone = '+00:00'")
        self.c.run('DROP DATABASE IF EXISTS %s; CREATE DATABASE %s; USE %s' % (
            qi(copy_db), qi(copy_db), qi(copy_db)))
        self.types = {}
        self.statements = 0
        self.ddls = 0
        self.pending = []          # (sql, seq) not yet sent
        self.pending_bytes = 0

    def refresh(self):
        self.types, _ = column_types(self.c, self.copy)

    def send(self):
        if not self.pending:
            return
        sql = ';\n'.join(s for s, _ in self.pending)
        before = self.c.lines
        try:
            self.c.run(sql)
        except TestFailure as e:
            m = re.search(r'at line (\d+)', str(e))
            hint = ''
            if m:
                # the client numbers lines over its whole input
                line = int(m.group(1)) - before - 1
                at = 0
                for s, seq in self.pending:
                    n = s.count('\n') + 1
                    if at <= line < at + n:
                        hint = '\n  statement (record sequence %s): %s' % (seq, s[:800])
                        break
                    at += n
            raise TestFailure('applying to %s: %s%s' % (self.copy, e, hint))
        self.pending = []
        self.pending_bytes = 0

    def add(self, sql, seq):
        self.pending.append((sql, seq))
        self.pending_bytes += len(sql)
        self.statements += 1

    def ddl(self, gtid, sql):
        self.add(sql, 'DDL %s' % gtid)
        self.send()
        self.ddls += 1
        self.refresh()

    def apply(self, recs, ddls):
        """recs: Rec sorted by sequence; ddls: (gtid, sql) in commit order."""
        self.refresh()
        ddl_q = [(int(g.split('-')[2]), g, s) for g, s in ddls]
        ddl_q.sort()
        k = 0
        cur_txn = None
        ins = None                   # (table, cols, [values]) being merged
        for r in recs:
            ordinal = r.seq >> 24
            if ordinal != cur_txn:
                ins = self.flush_insert(ins)
                if cur_txn is not None:
                    self.add('COMMIT', cur_txn)
                while k < len(ddl_q) and ddl_q[k][0] < ordinal:
                    self.send()
                    self.ddl(ddl_q[k][1], ddl_q[k][2])
                    k += 1
                if k < len(ddl_q) and ddl_q[k][0] == ordinal:
                    fail('records with sequence %d belong to GTID %s, a DDL' % (r.seq, ddl_q[k][1]))
                self.add('BEGIN', r.seq)
                cur_txn = ordinal
                if self.pending_bytes > self.CHUNK:
                    self.send()
            v = r.obj
            if v.get('db') != self.src:
                fail('record %d: database %r, the workload writes only %r' % (
                    r.seq, v.get('db'), self.src))
            table = v.get('table')
            types = self.types.get(table)
            if types is None:
                fail('record %d (%s): table %s does not exist in the copy at this point '
                     '(DDL out of order?)' % (r.seq, r.gtid, table))
            data = v.get('data')
            where = 'record %d (%s %s.%s)' % (r.seq, v.get('op'), self.src, table)
            if type(data) is not dict:
                fail('%s: data %s' % (where, short(data)))
            for c in data:
                if c not in types:
                    fail('%s: column %s is not in the copy\'s table at this point (it has %s)' % (
                        where, c, ', '.join(types)))
            jnull = v.get('json_null', [])
            for c in jnull:
                if c not in data or data[c] is not None:
                    fail('%s: json_null names %s, whose value is %s' % (
                        where, c, short(data.get(c, '(absent)'))))
            # null is SQL NULL unless json_null names the column: then it
            # is the JSON document null (docs/CHANGELOG_JSON.md)
            lits = [T('null') if c in jnull else
                    literal(types[c], x, '%s column %s' % (where, c)) for c, x in data.items()]
            op = v.get('op')
            if op in ('+I', '+U'):
                cols = tuple(data)
                if ins and ins[0] == table and ins[1] == cols and len(ins[2]) < 500:
                    ins[2].append('(' + ', '.join(lits) + ')')
                else:
                    self.flush_insert(ins)
                    ins = (table, cols, ['(' + ', '.join(lits) + ')'], r.seq)
            elif op in ('-U', '-D'):
                ins = self.flush_insert(ins)
                pk = v.get('pk')
                if not pk or any(c not in data for c in pk):
                    fail('%s: pk %r, data has %s' % (where, pk, list(data)))
                cond = ' AND '.join('%s = %s' % (qi(c), literal(types[c], data[c], where))
                                    for c in pk)
                self.add('DELETE FROM %s WHERE %s LIMIT 1' % (qi(table), cond), r.seq)
            else:
                fail('%s: op %r' % (where, op))
        self.flush_insert(ins)
        if cur_txn is not None:
            self.add('COMMIT', cur_txn)
        self.send()
        while k < len(ddl_q):
            self.ddl(ddl_q[k][1], ddl_q[k][2])
            k += 1

    def flush_insert(self, ins):
        if ins:
            table, cols, values, seq = ins
            self.add('INSERT INTO %s (%s) VALUES %s' % (
                qi(table), ', '.join(qi(c) for c in cols), ', '.join(values)), seq)
        return None


# ---------------------------------------------------------------- compare

def canon(col, dtype):
    """An exact, tab- and newline-free text of a column's value."""
    c = qi(col)
    if dtype == 'float':
        e = 'CAST(%s AS DOUBLE)' % c
    elif dtype == 'bit':
        e = 'CAST(%s AS UNSIGNED)' % c
    elif dtype in TEXTS or dtype in BINS or dtype in GEOS or dtype == 'json':
        e = 'HEX(%s)' % c
    else:
        e = 'CAST(%s AS CHAR)' % c
    return "IFNULL(CONCAT('v', %s), 'n')" % e


def json_canon(tok):
    """A JSON column's value (v + hex of the text) as its document:
    j + compact JSON, escapes resolved, numbers as written."""
    if tok == 'n':
        return tok
    text = bytes.fromhex(tok[1:]).decode('utf-8')
    try:
        doc = json.loads(text, parse_float=JFloat)
    except ValueError:
        return tok
    return 'j' + json_text(doc, ascii=True)


def table_rows(client, db, table, types, exact_json):
    """The rows of a table, each a tab-joined line of canonical values,
    sorted. Without exact_json, JSON columns hold their document (through
    the catalog a record carries the JSON value, not its text)."""
    cols = list(types)
    rows = client.run('SELECT %s FROM %s.%s' % (', '.join(canon(c, types[c]) for c in cols),
                                                qi(db), qi(table)))
    js = [] if exact_json else [k for k, c in enumerate(cols) if types[c] == 'json']
    for r in rows:
        for k in js:
            r[k] = json_canon(r[k])
    return sorted('\t'.join(r) for r in rows)


def row_diff(t, cols, src, copy, only_a, only_b):
    """Rows only on one side, paired by `id` where both have it, the
    differing columns named."""
    lines = []
    k = cols.index('id') if 'id' in cols else None

    def key(r):
        return r.split('\t')[k] if k is not None else None

    by_b = {key(r): r for r in only_b} if k is not None else {}
    shown = 0
    for r in only_a:
        other = by_b.pop(key(r), None) if k is not None else None
        if shown < 6:
            if other is not None:
                va, vb = r.split('\t'), other.split('\t')
                diffs = ['%s: %s %s, %s %s' % (c, src, clip(x), copy, clip(y))
                         for c, x, y in zip(cols, va, vb) if x != y]
                lines.append('    id %s: %s' % (clip(key(r)), '; '.join(diffs)))
            else:
                lines.append('    only in %s: %s' % (src, clip(r, 300)))
            shown += 1
    for r in (list(by_b.values()) if k is not None else only_b):
        if shown < 6:
            lines.append('    only in %s: %s' % (copy, clip(r, 300)))
            shown += 1
    return lines


def clip(s, n=80):
    """A canonical value (v + text, or n for NULL) for a message."""
    return s if len(s) <= n else s[:n] + '...(%d chars)' % len(s)


def compare_dbs(client, src, copy, exact_json=True):
    """Every table of src and copy: the same columns, the same rows (an
    order-independent hash of the sorted rows), the same CHECKSUM TABLE.
    Without exact_json, JSON columns are compared as documents (not as
    text) and tables with one skip CHECKSUM TABLE. Returns {table: (rows,
    hash)}; fails naming every table that differs. `client` must be in
    time zone +00:00."""
    st, sdefs = column_types(client, src)
    ct, cdefs = column_types(client, copy)
    if set(st) != set(ct):
        fail('tables differ: only in %s: %s; only in %s: %s' % (
            src, sorted(set(st) - set(ct)), copy, sorted(set(ct) - set(st))))
    out, bad = {}, []
    for t in sorted(st):
        if sdefs[t] != cdefs[t]:
            bad.append('%s: columns differ:\n  %s: %s\n  %s: %s' % (t, src, sdefs[t], copy,
                                                                   cdefs[t]))
            continue
        a = table_rows(client, src, t, st[t], exact_json)
        b = table_rows(client, copy, t, ct[t], exact_json)
        ha = hashlib.sha256('\n'.join(a).encode()).hexdigest()
        hb = hashlib.sha256('\n'.join(b).encode()).hexdigest()
        out[t] = (len(a), ha)
        if ha != hb:
            sa, sb = set(a), set(b)
            only_a = sorted(sa - sb)
            only_b = sorted(sb - sa)
            cols = [c for c, _ in sdefs[t]]
            lines = ['table %s differs: %d rows in %s, %d in %s (hash %s vs %s); %d rows '
                     'only in %s, %d only in %s (values as v + exact text, n = NULL):' % (
                         t, len(a), src, len(b), copy, ha[:16], hb[:16], len(only_a), src,
                         len(only_b), copy)]
            lines += row_diff(t, cols, src, copy, only_a, only_b)
            if not only_a and not only_b:
                lines.append('    (the same rows, different counts of duplicates)')
            bad.append('\n'.join(lines))
            continue
        if not exact_json and 'json' in st[t].values():
            continue
        cs = client.run('CHECKSUM TABLE %s.%s, %s.%s' % (qi(src), qi(t), qi(copy), qi(t)))
        if len(cs) != 2 or cs[0][1] != cs[1][1]:
            bad.append('table %s: the rows are equal but CHECKSUM TABLE differs: %s' % (t, cs))
    if bad:
        fail('the copy differs from the source:\n' + '\n'.join(bad))
    return out
