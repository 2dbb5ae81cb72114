"""mergeread.py: the tables `sluice merge` writes, read straight from their
files by the rules of their layout, without sluice: for tests that check
the merger from the outside (tests/live_merge.py).

Merge-on-read (DIR/.sluice/timeline): completed instants are files
ID.ACTION (deltacommit, compaction, checkpoint); ID.ACTION.requested and
ID.ACTION.inflight are pending and ignored. The visible files are the
"files" of the completed instants, leaving out the instants the latest
checkpoint lists in "superseded" and every older checkpoint, minus the
files they list in "replaced" (and, for checkpoints, "garbage"). The
merged view: per _sluice_key the row of highest _sluice_seq; -U and -D
are tombstones.

Hive: DIR/dt=YYYY-MM-DD[/hr=HH]/ (and __HIVE_DEFAULT_PARTITION__) hold
data files; names starting with '.' or '_' are not data (_SUCCESS marks a
committed partition). Each partition is read through a descriptor of its
directory, so a commit exchanging it meanwhile leaves the old one
readable. Files are JSON lines (the stored row) or, with --format text,
Hive text: fields separated by \\x01 (key, seq, ts_ms, db, table, then the
columns of .sluice/columns.json), \\N for NULL, backslash escapes.

Data files ending in .zst are one or more zstd frames: decompressed with
libzstd through ctypes (python's zstandard is not everywhere), else the
zstd command. A truncated or corrupt file raises BadFile.
"""

import ctypes
import ctypes.util
import json
import os
import re
import subprocess


class BadFile(Exception):
    pass


class Gone(Exception):
    """A file the view named disappeared (cleaning): read again."""


# ------------------------------------------------------------------ zstd

class _InBuf(ctypes.Structure):
    _fields_ = [('src', ctypes.c_void_p), ('size', ctypes.c_size_t), ('pos', ctypes.c_size_t)]


class _OutBuf(ctypes.Structure):
    _fields_ = [('dst', ctypes.c_void_p), ('size', ctypes.c_size_t), ('pos', ctypes.c_size_t)]


def _load_zstd():
    for name in ('libzstd.so.1', ctypes.util.find_library('zstd')):
        if not name:
            continue
        try:
            z = ctypes.CDLL(name)
        except OSError:
            continue
        z.ZSTD_createDCtx.restype = ctypes.c_void_p
        z.ZSTD_freeDCtx.argtypes = [ctypes.c_void_p]
        z.ZSTD_decompressStream.restype = ctypes.c_size_t
        z.ZSTD_decompressStream.argtypes = [ctypes.c_void_p, ctypes.POINTER(_OutBuf),
                                            ctypes.POINTER(_InBuf)]
        z.ZSTD_isError.restype = ctypes.c_uint
        z.ZSTD_isError.argtypes = [ctypes.c_size_t]
        z.ZSTD_getErrorName.restype = ctypes.c_char_p
        z.ZSTD_getErrorName.argtypes = [ctypes.c_size_t]
        return z
    return None


_Z = _load_zstd()
_OUT = 1 << 20


def zstd_decompress(data, what):
    """Every frame of data, decompressed; BadFile when a frame is corrupt
    or the data ends inside one (or is empty)."""
    if not data:
        raise BadFile('%s: empty (no zstd frame)' % what)
    if _Z is None:
        p = subprocess.run(['zstd', '-dc'], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise BadFile('%s: zstd -dc: %s' % (what, p.stderr.decode('utf-8', 'replace').strip()))
        return p.stdout
    src = ctypes.c_char_p(data)
    inb = _InBuf(ctypes.cast(src, ctypes.c_void_p), len(data), 0)
    buf = ctypes.create_string_buffer(_OUT)
    out = []
    dctx = _Z.ZSTD_createDCtx()
    try:
        ret = 1
        while True:
            ob = _OutBuf(ctypes.cast(buf, ctypes.c_void_p), _OUT, 0)
            ret = _Z.ZSTD_decompressStream(dctx, ctypes.byref(ob), ctypes.byref(inb))
            if _Z.ZSTD_isError(ret):
                raise BadFile('%s: zstd: %s at byte %d of %d' % (
                    what, _Z.ZSTD_getErrorName(ret).decode(), inb.pos, len(data)))
            out.append(buf.raw[:ob.pos])
            if inb.pos == inb.size and ob.pos < ob.size:
                break
        if ret != 0:
            raise BadFile('%s: truncated zstd frame (%d bytes)' % (what, len(data)))
    finally:
        _Z.ZSTD_freeDCtx(dctx)
    return b''.join(out)


# ------------------------------------------------------------ raw JSON

_STR = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_WS = ' \t\r\n'


def _value_end(s, i):
    c = s[i]
    if c == '"':
        m = _STR.match(s, i)
        if not m:
            raise ValueError('unterminated string at %d' % i)
        return m.end()
    if c in '{[':
        depth = 0
        while True:
            c = s[i]
            if c == '"':
                i = _value_end(s, i)
                continue
            if c in '{[':
                depth += 1
            elif c in '}]':
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
    j = i
    while s[j] not in ',}] \t\r\n':
        j += 1
    return j


def raw_members(s):
    """The members of the JSON object text s (already known to be valid
    JSON) as [(name, raw value text)], in order, bytes of values as is."""
    out = []
    i = 1
    n = len(s)
    while i < n and s[i] in _WS:
        i += 1
    if s[i] == '}':
        return out
    while True:
        while s[i] in _WS:
            i += 1
        e = _value_end(s, i)
        name = json.loads(s[i:e])
        i = e
        while s[i] in _WS:
            i += 1
        if s[i] != ':':
            raise ValueError('no colon at %d' % i)
        i += 1
        while s[i] in _WS:
            i += 1
        e = _value_end(s, i)
        out.append((name, s[i:e]))
        i = e
        while s[i] in _WS:
            i += 1
        if s[i] == ',':
            i += 1
            continue
        if s[i] == '}':
            return out
        raise ValueError('bad object at %d' % i)


META = ('_sluice_key', '_sluice_seq', '_sluice_op', '_sluice_ts_ms', '_sluice_db',
        '_sluice_table')


def stored_row(line):
    """A stored JSON line (str) -> (key, seq, op, ts_ms, db, table,
    [(column, raw value)]); ValueError when it is not one."""
    obj = json.loads(line)          # the whole line must be JSON
    if not isinstance(obj, dict):
        raise ValueError('not an object')
    ms = raw_members(line)
    if [m[0] for m in ms[:6]] != list(META):
        raise ValueError('the meta members are not first, in order: %s' % [m[0] for m in ms[:7]])
    return (obj['_sluice_key'], int(obj['_sluice_seq']), obj['_sluice_op'],
            int(obj['_sluice_ts_ms']), obj['_sluice_db'], obj['_sluice_table'], ms[6:])


def text_value(raw):
    """A raw JSON value as Hive text renders it: None for NULL, a string's
    contents, or the JSON text itself."""
    if raw == 'null':
        return None
    if raw.startswith('"'):
        return json.loads(raw)
    return raw


_TEXT_TOK = re.compile(rb'\\(.)|([^\\\x01]+)|(\x01)', re.S)
_UNESC = {ord('n'): b'\n', ord('r'): b'\r'}


def text_fields(line):
    """A Hive text line (bytes, no newline) -> [str or None]."""
    if b'\\' not in line:
        return [f.decode('utf-8') for f in line.split(b'\x01')]
    fields, cur, null = [], bytearray(), False
    start = True
    for m in _TEXT_TOK.finditer(line):
        esc, plain, sep = m.groups()
        if sep is not None:
            fields.append(None if null else cur.decode('utf-8'))
            cur, null, start = bytearray(), False, True
            continue
        if esc is not None:
            if start and esc == b'N' and (m.end() == len(line) or line[m.end()] == 1):
                null = True
            else:
                cur += _UNESC.get(esc[0], esc)
        else:
            cur += plain
        start = False
    fields.append(None if null else cur.decode('utf-8'))
    return fields


# -------------------------------------------------------------- tables

def table_meta(d):
    with open(os.path.join(d, '.sluice', 'table.json')) as f:
        return json.load(f)


def parse_instant(name):
    """'ID.ACTION[.STATE]' -> (id, action, state) or None."""
    if name.startswith('.'):
        return None
    parts = name.split('.')
    if len(parts) == 2 and '_' in parts[0]:
        return parts[0], parts[1], 'completed'
    if len(parts) == 3 and '_' in parts[0] and parts[2] in ('requested', 'inflight'):
        return parts[0], parts[1], parts[2]
    return None


class Timeline:
    """One consistent scan of a timeline: completed instants (their JSON),
    the latest checkpoint, the visible files, the pending instants."""

    def __init__(self, d):
        self.dir = d
        tl = os.path.join(d, '.sluice', 'timeline')
        for _ in range(50):
            names = os.listdir(tl)
            self.completed = {}
            self.pending = {}       # "ID.ACTION" -> [state...]
            ok = True
            for n in names:
                p = parse_instant(n)
                if not p:
                    continue
                if p[2] == 'completed':
                    try:
                        with open(os.path.join(tl, n), 'rb') as f:
                            self.completed[n] = json.loads(f.read())
                    except FileNotFoundError:
                        ok = False      # folded meanwhile: scan again
                        break
                else:
                    self.pending.setdefault('%s.%s' % (p[0], p[1]), []).append(p[2])
            if ok:
                break
        else:
            raise Gone('%s: the timeline kept changing under 50 scans' % tl)
        cps = sorted(n for n in self.completed if n.endswith('.checkpoint'))
        self.latest_cp = cps[-1] if cps else None
        self.superseded = set(self.completed[self.latest_cp].get('superseded', [])
                              if self.latest_cp else [])
        files, replaced = {}, set()
        self.counted = []
        for n, m in sorted(self.completed.items()):
            if n in self.superseded:
                continue
            if n.endswith('.checkpoint') and n != self.latest_cp:
                continue
            self.counted.append(n)
            for f in m.get('files') or []:
                files[f['path']] = (f.get('rows'), n)
            for r in m.get('replaced') or []:
                replaced.add(r)
            for g in m.get('garbage') or []:
                replaced.add(g[0])
        self.visible = {p: v for p, v in files.items() if p not in replaced}
        # Pending for real: no completed file and not folded.
        self.open_pending = {}
        for name, states in self.pending.items():
            if name in self.completed or name in self.superseded:
                continue
            meta = None
            if 'inflight' in states:
                try:
                    with open(os.path.join(tl, name + '.inflight'), 'rb') as f:
                        meta = json.loads(f.read())
                except (FileNotFoundError, ValueError):
                    meta = None
            self.open_pending[name] = meta


class FileCache:
    """Parsed data files by (path, inode, size, mtime): data files never
    change once written, so each is decompressed and parsed once."""

    def __init__(self):
        self.c = {}
        self.used = set()
        self.hits = self.misses = 0

    def begin(self):
        self.used = set()

    def end(self):
        """Forget the files the reads since begin() did not use."""
        self.c = {k: v for k, v in self.c.items() if k in self.used}

    def get(self, key, load):
        self.used.add(key)
        v = self.c.get(key)
        if v is None:
            self.misses += 1
            v = load()
            self.c[key] = v
        else:
            self.hits += 1
        return v


def _read_bytes(path, dir_fd=None):
    fd = os.open(path, os.O_RDONLY, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        chunks = []
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
        return st, b''.join(chunks)
    finally:
        os.close(fd)


def _lines(data, what, compressed):
    if compressed:
        data = zstd_decompress(data, what)
    if data and not data.endswith(b'\n'):
        raise BadFile('%s: the last line has no newline (%d bytes)' % (what, len(data)))
    return data.split(b'\n')[:-1] if data else []


def _parse_json_lines(lines, what):
    rows = []
    for i, ln in enumerate(lines):
        try:
            s = ln.decode('utf-8')
            obj = json.loads(s)
            rows.append((obj['_sluice_key'], int(obj['_sluice_seq']), obj['_sluice_op'], ln))
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
            raise BadFile('%s: line %d is not a stored row (%s): %r' % (what, i + 1, e, ln[:200]))
    return rows


def _parse_text_lines(lines, what, ncols):
    """ncols(): the columns of columns.json, read again when a line has
    more fields (a commit adds columns there before its files)."""
    rows = []
    n = ncols()
    for i, ln in enumerate(lines):
        try:
            f = text_fields(ln)
            if len(f) > 5 + n:
                n = ncols()
            if len(f) < 5 or len(f) > 5 + n or None in f[:5]:
                raise ValueError('%d fields, %d columns' % (len(f), n))
            rows.append((f[0], int(f[1]), '+U', ln))
        except (UnicodeDecodeError, ValueError) as e:
            raise BadFile('%s: line %d is not a text row (%s): %r' % (what, i + 1, e, ln[:200]))
    return rows


def mor_read(d, cache):
    """(timeline, {file: [(key, seq, op, line)]}) of a merge-on-read table
    (or of a Hive table's key index), reading again when cleaning removes
    a file under it. Gone when a visible file stays missing."""
    last_missing = None
    for attempt in range(8):
        tl = Timeline(d)
        out = {}
        missing = None
        for path, (rows, inst) in sorted(tl.visible.items()):
            full = os.path.join(d, path)
            try:
                st = os.stat(full)
            except FileNotFoundError:
                missing = path
                break
            key = (full, st.st_ino, st.st_size, st.st_mtime_ns)

            def load(full=full, path=path, rows=rows, inst=inst):
                try:
                    _, data = _read_bytes(full)
                except FileNotFoundError:
                    raise Gone(path)
                what = '%s (instant %s)' % (full, inst)
                r = _parse_json_lines(_lines(data, what, full.endswith('.zst')), what)
                if isinstance(rows, int) and rows != len(r):
                    raise BadFile('%s: %d rows, the instant says %d' % (what, len(r), rows))
                return r
            try:
                out[path] = cache.get(key, load)
            except Gone:
                missing = path
                break
        if missing is None:
            return tl, out
        last_missing = missing
    raise Gone('%s: visible file %s is missing, read after read (%s)' % (
        d, last_missing, 'not replaced by any completed instant'))


def merged(files):
    """{key: (seq, op, line)}: per key the highest sequence."""
    best = {}
    for rows in files.values():
        for key, seq, op, line in rows:
            b = best.get(key)
            if b is None or seq > b[0]:
                best[key] = (seq, op, line)
    return best


def hive_partitions(d, hour):
    out = []
    for a in sorted(os.listdir(d)):
        if not a.startswith('dt='):
            continue
        if not hour:
            out.append(a)
            continue
        try:
            subs = os.listdir(os.path.join(d, a))
        except (FileNotFoundError, NotADirectoryError):
            continue
        out += ['%s/%s' % (a, b) for b in sorted(subs) if b.startswith('hr=')]
    return out


def hive_read(d, cache, meta=None):
    """[(partition, has_success, [(file, [(key, seq, op, line)])])] of a
    Hive table, each partition read through its directory's descriptor."""
    meta = meta or table_meta(d)
    text = meta.get('format') == 'text'

    def ncols():
        return len(columns(d))
    parts = []
    for p in hive_partitions(d, meta.get('granularity') == 'hour'):
        for attempt in range(10):
            try:
                got = _hive_partition(d, p, cache, text, ncols)
                break
            except Gone:
                continue    # the old directory was removed while read
        else:
            raise Gone('%s/%s: files kept disappearing while read' % (d, p))
        if got is not None:
            parts.append(got)
    return parts


def _hive_partition(d, p, cache, text, ncols):
    try:
        fd = os.open(os.path.join(d, p), os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        names = sorted(os.listdir(fd))
        files = []
        for n in names:
            if n.startswith('.') or n.startswith('_'):
                continue
            try:
                st = os.stat(n, dir_fd=fd)
            except FileNotFoundError:
                raise Gone(n)
            key = (os.path.join(d, p, n), st.st_ino, st.st_size, st.st_mtime_ns)
            what = '%s/%s/%s' % (d, p, n)

            def load(what=what, n=n):
                try:
                    _, data = _read_bytes(n, dir_fd=fd)
                except FileNotFoundError:
                    raise Gone(n)
                lines = _lines(data, what, n.endswith('.zst'))
                if text:
                    return _parse_text_lines(lines, what, ncols)
                return _parse_json_lines(lines, what)
            files.append((n, cache.get(key, load)))
        return (p, '_SUCCESS' in names, files)
    finally:
        os.close(fd)


def columns(d):
    try:
        with open(os.path.join(d, '.sluice', 'columns.json')) as f:
            return json.load(f)['columns']
    except FileNotFoundError:
        return []
