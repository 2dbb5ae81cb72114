#!/usr/bin/env python3
"""gen_charset_tables.py: writes binlog/binlog_charset_tables.c.

Every mapping in the output comes from a running MariaDB server, not from
memory or from another project:

  * collation ids: information_schema.COLLATIONS and, for the UCA 14.0.0
    family (ids 2048+, MariaDB 10.10+), COLLATION_CHARACTER_SET_APPLICABILITY
    (FULL_COLLATION_NAME, ID);
  * single-byte sets: for every byte b,
    HEX(CONVERT(CAST(X'bb' AS CHAR CHARACTER SET cs) USING utf8mb4)),
    one query of 256 columns per set; '?' for a byte other than '?' means
    the server has no mapping (stored as 0, written as U+FFFD);
  * multi-byte legacy sets: the same conversion for every 1-, 2- and (EUC-JP
    family) 3-byte sequence, from which come the byte shapes (lead and trail
    bytes) and the list of characters where glibc iconv, which does the
    conversion at run time, disagrees with the server.

MySQL's ids are not on a MariaDB server; they are listed below (MYSQL_*),
and every id both servers define is checked to name the same charset.

Usage:
  tests/tools/gen_charset_tables.py [--socket PATH] [-o FILE]

Without --socket it starts a throwaway server (mariadb-install-db, mariadbd
on a private socket with networking off), and shuts it down afterwards.
"""

import argparse
import ctypes
import os
import shutil
import subprocess
import tempfile
import time

OUT_DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           '..', '..', 'binlog', 'binlog_charset_tables.c')

# Charsets that are not table-driven single-byte sets.
UNICODE_KINDS = {
    'utf8mb3': 'BINLOG_CS_UTF8',
    'utf8mb4': 'BINLOG_CS_UTF8',
    'binary': 'BINLOG_CS_BINARY',
    'ucs2': 'BINLOG_CS_UCS2',
    'utf16': 'BINLOG_CS_UTF16',
    'utf16le': 'BINLOG_CS_UTF16LE',
    'utf32': 'BINLOG_CS_UTF32',
}

# Multi-byte legacy sets: the glibc iconv name that matches the server best,
# and the lead bytes of 3-byte characters to probe. Chosen by converting
# every character both ways with glibc 2.36 and MariaDB 10.11 (fewest
# differences; what still differs becomes the override list):
#   big5: BIG5 461 (CP950 the same; BIG5-HKSCS thousands)
#   sjis: SJIS 1, besides 5c/7e, which stay ASCII here (CP932 thousands)
#   cp932: CP932 0          eucjpms: EUC-JP-MS 0
#   ujis: EUC-JP-MS 198 (EUC-JP lacks the server's user-defined rows)
#   euckr: CP949 0 (EUC-KR lacks the 8822 UHC characters the server has)
#   gb2312: EUC-CN 0        gbk: GBK 0 (its 0x80 = euro is not the server's)
MBCS = {
    'big5': ('BIG5', []),
    'cp932': ('CP932', []),
    'eucjpms': ('EUC-JP-MS', [0x8f]),
    'euckr': ('CP949', []),      # the server's euckr takes the UHC extension
    'gb2312': ('EUC-CN', []),
    'gbk': ('GBK', []),
    'sjis': ('SJIS', []),
    'ujis': ('EUC-JP-MS', [0x8f]),  # maps the user-defined rows as the server
}

# MySQL 8.0/8.4/9.x ids (the same numbering as 5.5..5.7 below 248), with
# their charset. Ids also on the MariaDB server are checked against it.
# Sources: MySQL's SHOW COLLATION output as published in its manual and in
# client libraries' collation tables; 254 is from MySQL's source only.
MYSQL_1_99 = {
    1: 'big5', 2: 'latin2', 3: 'dec8', 4: 'cp850', 5: 'latin1', 6: 'hp8',
    7: 'koi8r', 8: 'latin1', 9: 'latin2', 10: 'swe7', 11: 'ascii',
    12: 'ujis', 13: 'sjis', 14: 'cp1251', 15: 'latin1', 16: 'hebrew',
    18: 'tis620', 19: 'euckr', 20: 'latin7', 21: 'latin2', 22: 'koi8u',
    23: 'cp1251', 24: 'gb2312', 25: 'greek', 26: 'cp1250', 27: 'latin2',
    28: 'gbk', 29: 'cp1257', 30: 'latin5', 31: 'latin1', 32: 'armscii8',
    33: 'utf8mb3', 34: 'cp1250', 35: 'ucs2', 36: 'cp866', 37: 'keybcs2',
    38: 'macce', 39: 'macroman', 40: 'cp852', 41: 'latin7', 42: 'latin7',
    43: 'macce', 44: 'cp1250', 45: 'utf8mb4', 46: 'utf8mb4', 47: 'latin1',
    48: 'latin1', 49: 'latin1', 50: 'cp1251', 51: 'cp1251', 52: 'cp1251',
    53: 'macroman', 54: 'utf16', 55: 'utf16', 56: 'utf16le', 57: 'cp1256',
    58: 'cp1257', 59: 'cp1257', 60: 'utf32', 61: 'utf32', 62: 'utf16le',
    63: 'binary', 64: 'armscii8', 65: 'ascii', 66: 'cp1250', 67: 'cp1256',
    68: 'cp866', 69: 'dec8', 70: 'greek', 71: 'hebrew', 72: 'hp8',
    73: 'keybcs2', 74: 'koi8r', 75: 'koi8u', 76: 'utf8mb3', 77: 'latin2',
    78: 'latin5', 79: 'latin7', 80: 'cp850', 81: 'cp852', 82: 'swe7',
    83: 'utf8mb3', 84: 'big5', 85: 'euckr', 86: 'gb2312', 87: 'gbk',
    88: 'sjis', 89: 'tis620', 90: 'ucs2', 91: 'ujis', 92: 'geostd8',
    93: 'geostd8', 94: 'latin1', 95: 'cp932', 96: 'cp932', 97: 'eucjpms',
    98: 'eucjpms', 99: 'cp1250',
}


def mysql_ids():
    """id -> (charset, name or None); names only where MariaDB lacks the id."""
    m = {i: (cs, None) for i, cs in MYSQL_1_99.items()}
    m[76] = ('utf8mb3', 'utf8mb3_tolower_ci')  # MySQL 8.0 data dictionary
    for lo, hi, cs in ((101, 124, 'utf16'), (128, 151, 'ucs2'),
                       (159, 159, 'ucs2'), (160, 183, 'utf32'),
                       (192, 215, 'utf8mb3'), (223, 223, 'utf8mb3'),
                       (224, 247, 'utf8mb4')):
        for i in range(lo, hi + 1):
            m[i] = (cs, None)
    m[248] = ('gb18030', 'gb18030_chinese_ci')
    m[249] = ('gb18030', 'gb18030_bin')
    m[250] = ('gb18030', 'gb18030_unicode_520_ci')
    # Only in builds with HAVE_UTF8_GENERAL_CS (not in release binaries).
    m[254] = ('utf8mb3', 'utf8mb3_general_cs')
    # utf8mb4_0900_*: 255..277 accent/case-insensitive, 278..300 the same
    # tailorings sensitive (id + 23); 272/295 (fa) and 276/299 (si) unused.
    tail = ['', 'de_pb', 'is', 'lv', 'ro', 'sl', 'pl', 'et', 'es', 'sv',
            'tr', 'cs', 'da', 'lt', 'sk', 'es_trad', 'la', None, 'eo', 'hu',
            'hr', None, 'vi']
    for k, t in enumerate(tail):
        if t is None:
            continue
        pre = 'utf8mb4_' + (t + '_' if t else '')
        m[255 + k] = ('utf8mb4', pre + '0900_ai_ci')
        m[278 + k] = ('utf8mb4', pre + '0900_as_cs')
    for i, n in ((303, 'ja_0900_as_cs'), (304, 'ja_0900_as_cs_ks'),
                 (305, '0900_as_ci'), (306, 'ru_0900_ai_ci'),
                 (307, 'ru_0900_as_cs'), (308, 'zh_0900_as_cs'),
                 (309, '0900_bin')):
        m[i] = ('utf8mb4', 'utf8mb4_' + n)
    # MySQL 8.0.30.
    for k, t in enumerate(['nb', 'nn', 'sr_latn', 'bs', 'bg', 'gl',
                           'mn_cyrl']):
        m[310 + 2 * k] = ('utf8mb4', 'utf8mb4_%s_0900_ai_ci' % t)
        m[311 + 2 * k] = ('utf8mb4', 'utf8mb4_%s_0900_as_cs' % t)
    return m


# ---------------------------------------------------------------- server

class Server:
    def __init__(self, socket):
        self.socket = socket
        self.proc = None
        self.tmp = None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix='sluice-gencs-')
        data = os.path.join(self.tmp, 'data')
        self.socket = os.path.join(self.tmp, 'sock')
        subprocess.run(['mariadb-install-db', '--no-defaults',
                        '--datadir=' + data,
                        '--auth-root-authentication-method=normal'],
                       check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        self.log = open(os.path.join(self.tmp, 'log'), 'w')
        self.proc = subprocess.Popen(
            ['mariadbd', '--no-defaults', '--datadir=' + data,
             '--socket=' + self.socket, '--skip-networking', '--user=root',
             '--pid-file=' + os.path.join(self.tmp, 'pid')],
            stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            if self.proc.poll() is not None:
                raise SystemExit('mariadbd exited; see ' + self.tmp)
            r = subprocess.run(self.cmd() + ['-e', 'SELECT 1'],
                               capture_output=True)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise SystemExit('mariadbd did not come up')

    def stop(self):
        if self.proc is None:
            return
        subprocess.run(['mariadb-admin', '--no-defaults', '-S', self.socket,
                        '-uroot', 'shutdown'], capture_output=True)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cmd(self):
        return ['mariadb', '--no-defaults', '-S', self.socket, '-uroot',
                '-N', '-B', '-D', 'mysql']

    def query(self, sql):
        r = subprocess.run(self.cmd() + ['-e', sql], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise SystemExit('query failed: %s\n%s' % (sql[:200], r.stderr))
        return [line.split('\t') for line in r.stdout.splitlines()]


# ---------------------------------------------------------------- glibc

class Iconv:
    """glibc iconv through ctypes, to compare with the server."""

    def __init__(self):
        self.libc = ctypes.CDLL('libc.so.6', use_errno=True)
        self.libc.iconv_open.restype = ctypes.c_void_p
        self.libc.iconv_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        pp = ctypes.POINTER(ctypes.c_char_p)
        ps = ctypes.POINTER(ctypes.c_size_t)
        self.libc.iconv.argtypes = [ctypes.c_void_p, pp, ps, pp, ps]
        self.libc.iconv.restype = ctypes.c_size_t
        self.libc.iconv_close.argtypes = [ctypes.c_void_p]
        self.libc.gnu_get_libc_version.restype = ctypes.c_char_p

    def version(self):
        return self.libc.gnu_get_libc_version().decode()

    def open(self, name):
        cd = self.libc.iconv_open(b'UTF-8', name.encode())
        if cd is None or cd == ctypes.c_void_p(-1).value:
            raise SystemExit('glibc iconv lacks ' + name)
        return cd

    def one(self, cd, seq):
        """The single code point glibc makes of seq, or None."""
        self.libc.iconv(cd, None, None, None, None)
        inb = ctypes.create_string_buffer(seq, len(seq))
        out = ctypes.create_string_buffer(32)
        ip = ctypes.c_char_p(ctypes.addressof(inb))
        il = ctypes.c_size_t(len(seq))
        op = ctypes.c_char_p(ctypes.addressof(out))
        ol = ctypes.c_size_t(32)
        r = self.libc.iconv(cd, ctypes.byref(ip), ctypes.byref(il),
                            ctypes.byref(op), ctypes.byref(ol))
        if r == ctypes.c_size_t(-1).value or il.value:
            return None
        text = out.raw[:32 - ol.value].decode('utf-8', 'replace')
        return ord(text) if len(text) == 1 else None


# ---------------------------------------------------------------- data

def conv_expr(hexbytes, cs):
    return ("HEX(CONVERT(CAST(X'%s' AS CHAR CHARACTER SET %s) USING utf8mb4))"
            % (hexbytes, cs))


def single_byte_map(srv, cs):
    """byte -> code point (None: unmapped) for all 256 bytes."""
    cols = ', '.join(conv_expr('%02X' % b, cs) for b in range(256))
    row = srv.query('SELECT ' + cols)[0]
    m = {}
    for b, h in enumerate(row):
        text = bytes.fromhex(h).decode('utf-8')
        if len(text) != 1:
            raise SystemExit('%s byte %02x gives %r' % (cs, b, text))
        cp = ord(text)
        if cp > 0xffff:
            raise SystemExit('%s byte %02x maps beyond the BMP' % (cs, b))
        m[b] = None if (cp == 0x3f and b != 0x3f) else cp
    return m


def mb_probe(srv, cs, leads3):
    """sequence bytes -> text the server makes of it, for every byte, every
    pair starting with 0x80..0xff, and every triple starting with leads3."""
    res = {}
    for b, cp in single_byte_map(srv, cs).items():
        res[bytes([b])] = '?' if cp is None else chr(cp)
    rows = srv.query(
        'SELECT a.seq, b.seq, HEX(CONVERT(CAST(CHAR(a.seq, b.seq) AS CHAR '
        'CHARACTER SET %s) USING utf8mb4)) FROM seq_128_to_255 a, '
        'seq_0_to_255 b' % cs)
    for a, b, h in rows:
        res[bytes([int(a), int(b)])] = bytes.fromhex(h).decode('utf-8')
    for lead in leads3:
        rows = srv.query(
            'SELECT a.seq, b.seq, HEX(CONVERT(CAST(CHAR(%d, a.seq, b.seq) AS '
            'CHAR CHARACTER SET %s) USING utf8mb4)) FROM seq_128_to_255 a, '
            'seq_128_to_255 b' % (lead, cs))
        for a, b, h in rows:
            res[bytes([lead, int(a), int(b)])] = \
                bytes.fromhex(h).decode('utf-8')
    return res


def mb_shape(cs, probe, leads3):
    """Derive byte kinds and trail sets: a sequence is one character (mapped
    or not) when the server turns it into exactly one character."""
    kind = ['BINLOG_MB_INVALID'] * 256
    for b in range(128):
        if probe[bytes([b])] != chr(b):
            raise SystemExit('%s: ASCII byte %02x is not ASCII' % (cs, b))
        kind[b] = 'BINLOG_MB_ASCII'
    for b in range(128, 256):
        if probe[bytes([b])] != '?':
            kind[b] = 'BINLOG_MB_SINGLE'
    trails = {}
    for lead in range(128, 256):
        if kind[lead] == 'BINLOG_MB_SINGLE':
            continue
        t = frozenset(x for x in range(256)
                      if len(probe[bytes([lead, x])]) == 1)
        if t:
            trails[lead] = t
    # Set A is the one most leads take (EUC-JP: A1..FE, not SS2's A1..DF).
    sets = sorted(set(trails.values()),
                  key=lambda t: -sum(1 for x in trails.values() if x == t))
    if len(sets) > 2:
        raise SystemExit('%s: more than two trail sets' % cs)
    for lead, t in trails.items():
        kind[lead] = 'BINLOG_MB_LEAD2A' if t == sets[0] else 'BINLOG_MB_LEAD2B'
    for lead in leads3:
        for a in range(128, 256):
            for b in range(128, 256):
                one = len(probe[bytes([lead, a, b])]) == 1
                if one != (a in sets[0] and b in sets[0]):
                    raise SystemExit('%s: %02x %02x %02x breaks the 3-byte '
                                     'shape' % (cs, lead, a, b))
        kind[lead] = 'BINLOG_MB_LEAD3'
    return kind, sets


def mb_units(kind, sets, leads3):
    """Every byte sequence that the shape says is one character."""
    for b in range(128, 256):
        k = kind[b]
        if k == 'BINLOG_MB_SINGLE':
            yield bytes([b])
        elif k in ('BINLOG_MB_LEAD2A', 'BINLOG_MB_LEAD2B'):
            for t in sorted(sets[0 if k == 'BINLOG_MB_LEAD2A' else 1]):
                yield bytes([b, t])
        elif k == 'BINLOG_MB_LEAD3':
            for t1 in sorted(sets[0]):
                for t2 in sorted(sets[0]):
                    yield bytes([b, t1, t2])


def seq_key(seq):
    v = len(seq) << 24
    for i, x in enumerate(seq):
        v |= x << (8 * (len(seq) - 1 - i))
    return v


# ---------------------------------------------------------------- output

def c_u16_table(name, values, base):
    lines = ['static const uint16_t %s[%d] = {' % (name, len(values))]
    for i in range(0, len(values), 8):
        lines.append('\t' + ' '.join('0x%04x,' % v for v in values[i:i + 8])
                     + ' /* %02x */' % (base + i))
    lines.append('};')
    return '\n'.join(lines)


def c_u8_bytes(name, values, per_line=8):
    lines = ['static const uint8_t %s[%d] = {' % (name, len(values))]
    for i in range(0, len(values), per_line):
        lines.append('\t' + ' '.join('0x%02x,' % v
                                     for v in values[i:i + per_line]))
    lines.append('};')
    return '\n'.join(lines)


def wrap(line):
    """A summary line as comment lines of at most 78 columns."""
    out, cur = [], ' *   '
    for w in line.split(' '):
        if len(cur) + len(w) > 78 and cur.strip() != '*':
            out.append(cur.rstrip())
            cur = ' *       '
        cur += w + ' '
    out.append(cur.rstrip())
    return '\n'.join(out)


def ranges(xs):
    """'80..9f a4' for a set of bytes."""
    out = []
    for x in sorted(xs):
        if out and out[-1][1] == x - 1:
            out[-1][1] = x
        else:
            out.append([x, x])
    return ' '.join('%02x..%02x' % (a, b) if b > a + 1 else
                    ('%02x %02x' % (a, b) if b > a else '%02x' % a)
                    for a, b in out)


def bitmap(s):
    bm = [0] * 32
    for x in s:
        bm[x >> 3] |= 1 << (x & 7)
    return bm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--socket', help='use a running server')
    ap.add_argument('-o', '--output', default=OUT_DEFAULT)
    args = ap.parse_args()

    srv = Server(args.socket)
    if not args.socket:
        srv.start()
    try:
        out = generate(srv)
    finally:
        srv.stop()
    with open(args.output, 'w') as f:
        f.write(out)
    print('wrote', os.path.normpath(args.output))


def generate(srv):
    ic = Iconv()
    version = srv.query('SELECT VERSION()')[0][0]

    # Charsets of the server, plus MySQL's gb18030.
    maxlen = {cs: int(n) for cs, n in srv.query(
        'SELECT CHARACTER_SET_NAME, MAXLEN FROM '
        'information_schema.CHARACTER_SETS')}
    maxlen['gb18030'] = 4

    # Collations: COLLATIONS, then the full names and ids of the
    # APPLICABILITY table (the only place the uca1400 family has ids).
    coll = {}
    for i, cs, name in srv.query(
            'SELECT ID, CHARACTER_SET_NAME, COLLATION_NAME FROM '
            'information_schema.COLLATIONS WHERE ID IS NOT NULL'):
        coll[int(i)] = (cs, name)
    for i, cs, name in srv.query(
            'SELECT ID, CHARACTER_SET_NAME, FULL_COLLATION_NAME FROM '
            'information_schema.COLLATION_CHARACTER_SET_APPLICABILITY'):
        i = int(i)
        if i in coll and coll[i] != (cs, name):
            raise SystemExit('id %d: %r vs %r' % (i, coll[i], (cs, name)))
        coll[i] = (cs, name)
    mysql = mysql_ids()
    conflicts = []
    for i, (cs, _) in mysql.items():
        if i in coll and coll[i][0] != cs:
            conflicts.append('%d: MariaDB %s, MySQL %s' % (i, coll[i][0], cs))
    if conflicts:
        raise SystemExit('id conflicts (needs a flavour parameter):\n' +
                         '\n'.join(conflicts))

    names = sorted(maxlen)
    index = {cs: k for k, cs in enumerate(names)}

    # The UCA 14.0.0 family: 2048 + 256 * block + 8 * tailoring + flags.
    blocks = {}
    for i, (cs, _) in coll.items():
        if i >= 2048:
            blk = (i - 2048) >> 8
            if blocks.setdefault(blk, cs) != cs:
                raise SystemExit('uca1400 block %d mixes charsets' % blk)
    if sorted(blocks) != list(range(5)):
        raise SystemExit('uca1400 blocks: %r' % sorted(blocks))
    map_size = max(i for i in list(coll) + list(mysql) if i < 2048) + 1

    parts = []
    cs_entries = []
    mb_slot = 0
    summary = []
    for cs in names:
        kind = UNICODE_KINDS.get(cs)
        high = low = mb = 'NULL'
        slot = 0
        if kind is None and cs == 'gb18030':
            kind = 'BINLOG_CS_MBCS'
            k = ['BINLOG_MB_ASCII'] * 128 + ['BINLOG_MB_LEAD_GB'] * 128
            k[0x80] = k[0xff] = 'BINLOG_MB_INVALID'
            seta = set(range(0x40, 0x7f)) | set(range(0x80, 0xff))
            parts.append(mbcs_c(cs, 'GB18030', k, [seta, set()], []))
            mb = '&mb_%s' % cs
            slot = mb_slot
            mb_slot += 1
            summary.append('gb18030: glibc GB18030 as is (not on MariaDB, '
                           'not compared)')
        elif kind is None and cs in MBCS:
            kind = 'BINLOG_CS_MBCS'
            iname, leads3 = MBCS[cs]
            probe = mb_probe(srv, cs, leads3)
            bk, sets = mb_shape(cs, probe, leads3)
            cd = ic.open(iname)
            ovr = []
            nunits = 0
            for seq in mb_units(bk, sets, leads3):
                nunits += 1
                text = probe[seq]
                server = None if text == '?' else ord(text)
                if ic.one(cd, seq) != server:
                    if server == 0:
                        raise SystemExit('%s: %s maps to NUL' % (cs, seq))
                    ovr.append((seq_key(seq), server or 0, seq))
            ic.libc.iconv_close(cd)
            parts.append(mbcs_c(cs, iname, bk, sets, ovr))
            mb = '&mb_%s' % cs
            slot = mb_slot
            mb_slot += 1
            summary.append('%s: glibc %s, %d characters compared, %d '
                           'overrides' % (cs, iname, nunits, len(ovr)))
        elif kind is None:
            if maxlen[cs] != 1:
                raise SystemExit('unknown multi-byte charset ' + cs)
            m = single_byte_map(srv, cs)
            lowv = [m[b] or 0 for b in range(128)]
            highv = [m[b] or 0 for b in range(128, 256)]
            kind = 'BINLOG_CS_SBCS'
            if cs == 'ascii':
                if any(highv):
                    raise SystemExit('ascii maps a byte >= 0x80')
                kind = 'BINLOG_CS_ASCII'
            parts.append(c_u16_table('%s_high' % cs, highv, 0x80))
            high = '%s_high' % cs
            if lowv != list(range(128)):
                if m[0] != 0:
                    raise SystemExit('%s: byte 00 is not NUL' % cs)
                parts.append(c_u16_table('%s_low' % cs, lowv, 0))
                low = '%s_low' % cs
                summary.append('%s: low half differs from ASCII at %s' % (
                    cs, ranges(b for b in range(128) if lowv[b] != b)))
            unm = [b for b in range(1, 256) if m[b] is None]
            if unm:
                summary.append('%s: unmapped %s' % (cs, ranges(unm)))
            else:
                summary.append('%s: every byte mapped' % cs)
        cs_entries.append('\t{"%s", %s, %d, %d, %s, %s, %s},' % (
            cs, kind, maxlen[cs], slot, high, low, mb))

    o = []
    o.append(HEADER.format(version=version, glibc=ic.version(),
                           summary='\n'.join(wrap(s) for s in summary)))
    o.append('\n\n'.join(parts))
    o.append('')
    o.append('#undef A\n#undef S\n#undef L2A\n#undef L2B\n#undef L3\n'
             '#undef LGB\n#undef X\n')
    o.append('const binlog_charset_t binlog_charsets[] = {')
    o.append('\t/* name, kind, mbmaxlen, mb_slot, high, low, mb */')
    o.extend(cs_entries)
    o.append('};')
    o.append('const size_t binlog_charsets_count = %d;' % len(names))
    o.append('const size_t binlog_charset_utf8mb4_index = %d;'
             % index['utf8mb4'])
    o.append('const size_t binlog_mbcs_count = %d;' % mb_slot)
    o.append('')

    # Collations, sorted by id.
    allids = sorted(set(coll) | set(mysql))
    o.append(COLL_COMMENT)
    o.append('const binlog_collation_t binlog_collations[] = {')
    for i in allids:
        origin = []
        if i in coll:
            origin.append('BINLOG_COLL_MARIADB')
        if i in mysql:
            origin.append('BINLOG_COLL_MYSQL')
        cs, name = coll[i] if i in coll else mysql[i]
        o.append('\t{%d, %d, %s, "%s"},' % (i, index[cs], '|'.join(origin),
                                           name))
    o.append('};')
    o.append('const size_t binlog_collations_count = %d;' % len(allids))
    o.append('')
    cmap = [0] * map_size
    for i in allids:
        if i < 2048:
            cs = coll[i][0] if i in coll else mysql[i][0]
            cmap[i] = index[cs] + 1
    o.append('const uint8_t binlog_collation_map[%d] = {' % map_size)
    for i in range(0, map_size, 16):
        o.append('\t' + ' '.join('%d,' % v for v in cmap[i:i + 16]) +
                 ' /* %d */' % i)
    o.append('};')
    o.append('const size_t binlog_collation_map_size = %d;' % map_size)
    o.append('')
    o.append('const uint8_t binlog_uca1400_block[BINLOG_UCA1400_BLOCKS] = {')
    for k in range(5):
        o.append('\t%d, /* %d..%d: %s */' % (index[blocks[k]] + 1,
                                             2048 + 256 * k, 2303 + 256 * k,
                                             blocks[k]))
    o.append('};')
    return '\n'.join(o) + '\n'


def mbcs_c(cs, iname, kind, sets, ovr):
    p = []
    p.append('static const uint8_t mb_%s_kind[256] = {' % cs)
    short = {'BINLOG_MB_ASCII': 'A', 'BINLOG_MB_SINGLE': 'S',
             'BINLOG_MB_LEAD2A': 'L2A', 'BINLOG_MB_LEAD2B': 'L2B',
             'BINLOG_MB_LEAD3': 'L3', 'BINLOG_MB_LEAD_GB': 'LGB',
             'BINLOG_MB_INVALID': 'X'}
    for i in range(0, 256, 16):
        p.append('\t' + ' '.join(short[k] + ',' for k in kind[i:i + 16]) +
                 ' /* %02x */' % i)
    p.append('};')
    setb = sets[1] if len(sets) > 1 else set()
    p.append('/* trail set A: %s; set B: %s */' % (ranges(sets[0]),
                                                  ranges(setb) or 'none'))
    p.append(c_u8_bytes('mb_%s_trail' % cs, bitmap(sets[0]) + bitmap(setb)))
    first = set(seq[0] for _, _, seq in ovr)
    p.append('/* first bytes of overrides: %s */' % (ranges(first) or 'none'))
    p.append(c_u8_bytes('mb_%s_ovr_first' % cs, bitmap(first)))
    if ovr:
        p.append('static const binlog_mbcs_override_t mb_%s_ovr[%d] = {'
                 % (cs, len(ovr)))
        for key, cp, seq in sorted(ovr):
            p.append('\t{0x%08x, 0x%04x}, /* %s */' % (
                key, cp, seq.hex(' ') + ('' if cp else ': none')))
        p.append('};')
        ref = 'mb_%s_ovr' % cs
    else:
        ref = 'NULL'
    p.append('static const binlog_mbcs_t mb_%s = {\n\t"%s", mb_%s_kind, '
             'mb_%s_trail, mb_%s_ovr_first,\n\t%s, %d};'
             % (cs, iname, cs, cs, cs, ref, len(ovr)))
    return '\n'.join(p)


HEADER = '''/* clang-format off */
/*
 * binlog_charset_tables.c: GENERATED by tests/tools/gen_charset_tables.py;
 * do not edit. Data for binlog_charset.c: the charsets, their byte tables,
 * and every collation id of MariaDB and MySQL.
 *
 * Generated from MariaDB {version} (collation ids from
 * information_schema.COLLATIONS and COLLATION_CHARACTER_SET_APPLICABILITY;
 * each single-byte table from HEX(CONVERT(CAST(X'nn' AS CHAR CHARACTER SET
 * cs) USING utf8mb4)) of every byte, '?' meaning unmapped = 0) and glibc
 * {glibc} (the multi-byte sets: every character the server defines was
 * converted by both; the overrides are where they differ). MySQL's own ids
 * are a list in the generator, checked against the server where both have
 * the id.
 *
 * Per charset:
{summary}
 */
#include "binlog_charset.h"

#define A BINLOG_MB_ASCII
#define S BINLOG_MB_SINGLE
#define L2A BINLOG_MB_LEAD2A
#define L2B BINLOG_MB_LEAD2B
#define L3 BINLOG_MB_LEAD3
#define LGB BINLOG_MB_LEAD_GB
#define X BINLOG_MB_INVALID
'''

COLL_COMMENT = '''/*
 * Collation ids. MariaDB and MySQL share the numbering below 248 (MySQL's
 * utf8mb3_tolower_ci 76 is MySQL-only); 248..250 (gb18030) and 255..323
 * (utf8mb4_*_0900_*) are MySQL's, and MariaDB 11.4.5+ reuses 255..309 for
 * its utf8mb4_0900 aliases, also utf8mb4; 576..1270 (extra UCA and NOPAD
 * collations) and 2048+ (UCA 14.0.0) are MariaDB's. Where both define an
 * id they name the same charset (the generator checks it), so an id means
 * the same in either flavour's TABLE_MAP. Names are MariaDB's where it has
 * the id (MySQL says utf8mb3_croatian_ci for 213, MariaDB
 * utf8mb3_croatian_mysql561_ci).
 * Uncertain: 254 utf8mb3_general_cs exists only in MySQL builds with
 * HAVE_UTF8_GENERAL_CS; MySQL 8.4 and 9.x are believed to add no ids after
 * 8.0.30's 310..323.
 */'''


if __name__ == '__main__':
    main()
