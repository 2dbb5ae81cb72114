#!/usr/bin/env python3
"""
gen_pow10.py: generates the power-of-ten table of binlog/binlog_dtoa.c and
proves, for every binary exponent a double or a float can have, that the
128-bit arithmetic of that file decides every comparison exactly.

    tests/tools/gen_pow10.py                  print the table
    tests/tools/gen_pow10.py --update FILE    rewrite the table in FILE
    tests/tools/gen_pow10.py --check FILE     exit 1 unless FILE's table
                                              is exactly what we generate

Every mode first runs the proof and exits 1 if any step fails, so a table
that is printed is a table that has been shown to be good enough.

The table. Entry e (E_MIN <= e <= E_MAX) holds
    g(e) = ceil(10^e * 2^(127 - b)),  b = floor(log2(10^e)),
so 2^127 <= g(e) < 2^128 and 10^e = g(e) * 2^(b - 127) up to a relative
error below 2^-127. Everything is computed with Python integers and
fractions, never with floating point.

The proof. binlog_dtoa.c multiplies an integer x (4c - 2, 4c - 1, 4c or
4c + 2 for the significand c) shifted left by sh = q + b + 1 bits by
g(-k), keeps the top 64 bits of the 192-bit product as floor(X) and reads
the low 128 bits (the fraction) only to tell whether X = x * 2^q / 10^k
is an integer: it calls X an integer when the fraction is below 2^-67.
That is exact when:
  - the computed value exceeds X by less than 2^-67 (so an integer X is
    not mistaken for a fraction), and
  - every X that is not an integer lies at least 2^-67 away from the
    nearest integer, for every x the format can produce (so the excess
    neither carries into the integer part nor hides the fraction).
The second condition is a statement about min ||x * alpha|| over
1 <= x <= X_max, alpha = 2^q / 10^k, which by the best-approximation
property of continued fractions is attained at a convergent denominator
of alpha; we compute it exactly for every exponent.
"""
import sys
from fractions import Fraction

E_MIN = -292  # 10^-k for the largest k a double needs (k = 292)
E_MAX = 324   # 10^-k for the smallest (k = -324)

# The integer approximations binlog_dtoa.c uses; checked below for every
# exponent they are applied to.
LOG10_2_MUL, LOG10_2_SHIFT = 315653, 20
LOG10_34_SUB = 131237
LOG2_10_MUL, LOG2_10_SHIFT = 1741647, 19
# A computed fraction below 2^-THRESH_BITS counts as zero.
THRESH_BITS = 67

FORMATS = {
    # name: (significand bits with the hidden one, q_min, q_max)
    "double": (53, -1074, 971),
    "float": (24, -149, 104),
}


def floor_log2(x):
    """floor(log2(x)) for a positive Fraction or int, exactly."""
    x = Fraction(x)
    n, d = x.numerator, x.denominator
    e = n.bit_length() - d.bit_length()
    ok = n >= (d << e) if e >= 0 else (n << -e) >= d
    return e if ok else e - 1


def floor_log10(x):
    """floor(log10(x)) for a positive Fraction, exactly."""
    x = Fraction(x)
    # log10(x) ~ log2(x) * 0.30103; start there and correct exactly.
    k = (floor_log2(x) * 30103) // 100000
    while Fraction(10) ** k > x:
        k -= 1
    while Fraction(10) ** (k + 1) <= x:
        k += 1
    return k


def ceil_div(a, b):
    return -((-a) // b)


def g_exact(e):
    """(g, delta): g(e) and g(e) - 10^e * 2^(127 - b) as a Fraction."""
    p = Fraction(10) ** e
    b = floor_log2(p)
    t = p * Fraction(2) ** (127 - b)
    g = ceil_div(t.numerator, t.denominator)
    assert (1 << 127) <= g < (1 << 128), e
    return g, g - t, b


def dist_to_int(y):
    """||y||: distance from the Fraction y to the nearest integer."""
    f = y - (y.numerator // y.denominator)
    return min(f, 1 - f)


def min_dist(alpha, xmax):
    """
    min ||x * alpha|| over 1 <= x <= xmax with x * alpha not an integer
    (None when every x * alpha is an integer).
    """
    n, d = alpha.numerator, alpha.denominator
    if d == 1:
        return None
    if d <= xmax:
        # The fractional parts are multiples of 1/d and x = n^-1 mod d
        # (< d <= xmax) reaches 1/d.
        return Fraction(1, d)
    # d > xmax: no x * alpha is an integer. The minimum sits at the
    # largest convergent denominator <= xmax; take the minimum over all
    # of them, which is the same thing and needs no edge-case care.
    best = None
    q_prev, q_cur = 0, 1
    a_n, a_d = n, d
    while True:
        a = a_n // a_d
        if q_cur > xmax:
            break
        dd = dist_to_int(q_cur * alpha)
        if best is None or dd < best:
            best = dd
        if a_n % a_d == 0:
            break
        a_n, a_d = a_d, a_n - a * a_d
        a = a_n // a_d
        q_prev, q_cur = q_cur, a * q_cur + q_prev
    return best


def min_dist_brute(alpha, xmax):
    best = None
    for x in range(1, xmax + 1):
        y = x * alpha
        if y.denominator == 1:
            continue
        dd = dist_to_int(y)
        if best is None or dd < best:
            best = dd
    return best


def selftest_min_dist():
    import random
    rng = random.Random(1)
    for _ in range(3000):
        alpha = Fraction(rng.randrange(1, 5000), rng.randrange(1, 5000))
        xmax = rng.randrange(1, 300)
        assert min_dist(alpha, xmax) == min_dist_brute(alpha, xmax), \
            (alpha, xmax)


def asr(v, n):
    """C's >> on a negative int as gcc and clang do it (arithmetic)."""
    return v >> n


def prove():
    selftest_min_dist()
    worst = None
    worst_excess = Fraction(0)
    for name, (bits, qmin, qmax) in FORMATS.items():
        cmax = (1 << bits) - 1
        for q in range(qmin, qmax + 1):
            cases = [("sym", Fraction(2) ** q, 4 * cmax + 2)]
            if q > qmin:
                # Lowest significand of a binade above the subnormals: the
                # gap below is half the gap above.
                chid = 1 << (bits - 1)
                cases.append(("asym", Fraction(3, 4) * Fraction(2) ** q,
                              4 * chid + 2))
            for kind, width, xmax in cases:
                k = floor_log10(width)
                if kind == "sym":
                    kc = asr(q * LOG10_2_MUL, LOG10_2_SHIFT)
                else:
                    kc = asr(q * LOG10_2_MUL - LOG10_34_SUB, LOG10_2_SHIFT)
                if kc != k:
                    sys.exit(f"k approximation wrong: {name} q={q} {kind}")
                e = -k
                if not E_MIN <= e <= E_MAX:
                    sys.exit(f"table too small: {name} q={q} e={e}")
                g, delta, b = g_exact(e)
                if asr(e * LOG2_10_MUL, LOG2_10_SHIFT) != b:
                    sys.exit(f"log2(10^e) approximation wrong: e={e}")
                sh = q + b + 1
                if not 1 <= sh <= 4 or (xmax << sh) >= (1 << 64):
                    sys.exit(f"shift out of range: {name} q={q} sh={sh}")
                # Excess of the computed value over X, in units of 1.
                excess = Fraction(xmax << sh) * delta / Fraction(2) ** 128
                if excess >= Fraction(1, 1 << THRESH_BITS):
                    sys.exit(f"error too large: {name} q={q} {kind}")
                worst_excess = max(worst_excess, excess)
                alpha = Fraction(2) ** q / Fraction(10) ** k
                mu = min_dist(alpha, xmax)
                if mu is not None:
                    if mu < Fraction(1, 1 << THRESH_BITS):
                        sys.exit(f"too close to an integer: {name} q={q} "
                                 f"{kind} mu=2^{floor_log2(mu)}")
                    if worst is None or mu < worst[0]:
                        worst = (mu, name, q, kind)
    mu, name, q, kind = worst
    sys.stderr.write(
        "proof ok: every exponent of double and float decided exactly; "
        f"no non-integer within 2^{floor_log2(mu)} of an integer "
        f"(closest: {name} q={q} {kind}), threshold 2^-{THRESH_BITS}, "
        f"excess below 2^{floor_log2(worst_excess) + 1}\n")


BEGIN = "/* BEGIN GENERATED by tests/tools/gen_pow10.py; do not edit */\n"
END = "/* END GENERATED */\n"


def table_text():
    lines = [BEGIN,
             f"#define POW10_E_MIN ({E_MIN})\n",
             f"#define POW10_E_MAX {E_MAX}\n",
             "static const uint64_t pow10_g[][2] = {\n"]
    for e in range(E_MIN, E_MAX + 1):
        g, _, _ = g_exact(e)
        lines.append(f"\t{{0x{g >> 64:016x}, 0x{g & ((1 << 64) - 1):016x}}},"
                     f" /* 1e{e} */\n")
    lines.append("};\n")
    lines.append(END)
    return "".join(lines)


def split(path):
    with open(path) as f:
        text = f.read()
    i = text.find(BEGIN)
    j = text.find(END)
    if i < 0 or j < i:
        sys.exit(f"{path}: no generated-table markers")
    return text[:i], text[i:j + len(END)], text[j + len(END):]


def main(argv):
    prove()
    tab = table_text()
    if len(argv) == 1:
        sys.stdout.write(tab)
    elif len(argv) == 3 and argv[1] == "--update":
        head, _, tail = split(argv[2])
        with open(argv[2], "w") as f:
            f.write(head + tab + tail)
    elif len(argv) == 3 and argv[1] == "--check":
        _, cur, _ = split(argv[2])
        if cur != tab:
            sys.exit(f"{argv[2]}: table differs from the generated one")
        sys.stderr.write(f"{argv[2]}: table matches\n")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
