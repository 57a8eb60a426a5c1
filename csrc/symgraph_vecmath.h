/* Branch-free vector math for generated C loops.
 *
 * Every function here is a `static inline` straight-line function (no branches, no
 * tables, no calls): a loop such as
 *
 *     #pragma omp parallel for simd
 *     for (i = 0; i < n; ++i) out[i] = sg_vexp_f64(x[i]) * sg_vsin_f64(y[i]);
 *
 * is vectorized by gcc (AVX2: 4 doubles or 8 floats per instruction) with the whole
 * computation inlined into the loop body.  Selects are bitwise (sg_vm_sel_*), which gcc
 * turns into blends without ever creating branches; bit manipulations go through unions,
 * which become vector reinterpretations.  Only operations AVX2 has for every lane are
 * used: 64-bit integer add/sub/and/or/shifts (logical right shifts only) and float<->int
 * conversions done with the "add 1.5 * 2^52" trick (AVX2 cannot convert double <-> int64).
 *
 * Method: Cody-Waite argument reduction with the constant split into pieces applied with
 * FMA, a polynomial fitted (Chebyshev, near minimax) on the reduced range, reconstruction
 * by exponent arithmetic; tanh, sinh and sigmoid carry the rounding errors of their
 * intermediate sums to stay below 1.5 ulp.  In fused loops (W1 in docs/vecmath.rst) the
 * latency of long dependency chains and compare-and-select pairs cost the most: the long
 * polynomials use Estrin's scheme, and tanh and log1p avoid selects where arithmetic can.
 *
 * Accuracy against a long-double reference (docs/vecmath.rst has the measured table;
 * tests/backends/c/test_vecmath.py checks it): at most 2 ulp for every function and both
 * dtypes, but for sin and cos in float64: 2.007 ulp, the worst of 164 million arguments,
 * near |r| = pi/2 where the result is near 1.  Special values (nan, +-inf, +-0, overflow and
 * underflow thresholds, subnormal results and arguments) are those of C99 Annex F / glibc.
 *
 * Argument range: sg_vsin/sg_vcos are accurate for |x| <= SG_VTRIG_MAX_F64 (2^40) and
 * SG_VTRIG_MAX_F32 (2^17); past it they return +-0 (finite, but not sin(x)); inf and nan
 * give nan.  `sg_vtrig_ok_f64(x)` / `sg_vtrig_ok_f32(x)` tell whether x is inside: a caller
 * that must match libm everywhere can OR the negation into a flag in its vector loop and
 * redo the flagged elements with libm after the loop (generated elementwise loops do:
 * symgraph/backends/c/emit/elemwise.py).
 *
 * With -DSG_SCALAR_MATH (config flag vecmath=False) every sg_v* name is a plain libm call.
 * Requires FMA hardware for speed (-march=native on x86-64); correct without it.
 */
#ifndef SYMGRAPH_VECMATH_H
#define SYMGRAPH_VECMATH_H

#include <math.h>
#include <stdint.h>

#define SG_VINLINE static inline __attribute__((always_inline))

/* ---- bit casts ------------------------------------------------------------------------ */
SG_VINLINE uint64_t sg_vm_u64(double x) { union { double d; uint64_t u; } v; v.d = x; return v.u; }
SG_VINLINE double sg_vm_f64(uint64_t u) { union { double d; uint64_t u; } v; v.u = u; return v.d; }
SG_VINLINE uint32_t sg_vm_u32(float x) { union { float f; uint32_t u; } v; v.f = x; return v.u; }
SG_VINLINE float sg_vm_f32(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }

/* Adding SHIFT rounds to an integer n that then sits in the low mantissa bits. */
#define SG_VM_SHIFT_F64 0x1.8p52
#define SG_VM_SHIFT_F32 0x1.8p23f

/* c ? a : b as a bitwise select.  A ternary on doubles would do, except that gcc may
 * turn it into a branch and then refuses to if-convert the (possibly trapping) floating-
 * point work under it unless -fno-trapping-math; masks keep the code straight-line. */
SG_VINLINE double sg_vm_sel_f64(int c, double a, double b) {
    uint64_t m = 0 - (uint64_t)c;
    return sg_vm_f64((sg_vm_u64(a) & m) | (sg_vm_u64(b) & ~m));
}
SG_VINLINE float sg_vm_sel_f32(int c, float a, float b) {
    uint32_t m = 0u - (uint32_t)c;
    return sg_vm_f32((sg_vm_u32(a) & m) | (sg_vm_u32(b) & ~m));
}

#ifndef SG_SCALAR_MATH

/* ==== float64 ============================================================================ */

/* expm1(r + rlo) - r for |r| <= ln2/2 and tiny rlo: r^2/2 + r^3 P(r) + rlo, P fitted to
 * degree 8 (error below 2^-55 relative).  Callers add r in the same rounding as their
 * scaling.  P is evaluated by Estrin's scheme (pairs, then pairs of pairs with r^2, r^4):
 * a dependency chain of 4 FMAs instead of Horner's 8.  The fused loops are bound by
 * latency (the out-of-order window holds only a few iterations of a long chain), so
 * this made W1 = exp(x)*sin(y)+log1p(z*z)-tanh(x*y) about 4% faster. */
SG_VINLINE double sg_vm_expm1_w_f64(double r, double rlo) {
    double r2 = r * r;
    double r4 = r2 * r2;
    double p01 = fma(0x1.5555555554cb7p-5, r, 0x1.5555555555555p-3);
    double p23 = fma(0x1.6c16c1738ff55p-10, r, 0x1.1111111110e6ap-7);
    double p45 = fma(0x1.a019c9a5652d3p-16, r, 0x1.a01a01a4b322fp-13);
    double p67 = fma(0x1.2880411bad1aap-22, r, 0x1.71de17e40edfep-19);
    double p03 = fma(p23, r2, p01);
    double p47 = fma(p67, r2, p45);
    double p48 = fma(0x1.af236aac51d05p-26, r4, p47);
    double p = fma(p48, r4, p03);
    double h = fma(p, r, 0.5);
    return fma(r2, h, rlo);
}

/* As sg_vm_expm1_w_f64 with P of degree 9 (error below 2^-60): for expm1 and sinh, whose
 * results near 0.4 have no rounding of a 1 + q to hide the polynomial's error in. */
SG_VINLINE double sg_vm_expm1_w9_f64(double r, double rlo) {
    double r2 = r * r;
    double pe = fma(0x1.af38a9b0ec855p-26, r2, 0x1.71de0dae63bb3p-19);
    pe = fma(pe, r2, 0x1.a01a01a7c41d5p-13);
    pe = fma(pe, r2, 0x1.11111111109b3p-7);
    pe = fma(pe, r2, 0x1.5555555555556p-3);
    double po = fma(0x1.1f66df7fca49fp-29, r2, 0x1.27e4e1f48534fp-22);
    po = fma(po, r2, 0x1.a01a01a47b054p-16);
    po = fma(po, r2, 0x1.6c16c16c167e1p-10);
    po = fma(po, r2, 0x1.5555555555555p-5);
    double p = fma(po, r, pe);
    double h = fma(p, r, 0.5);
    return fma(r2, h, rlo);
}

/* x = n ln2 + r + rlo: returns r, sets *rlo and *z, the shifted value whose low bits hold n.
 * The first step is exact (FMA); rlo is the rounding error of the second. */
SG_VINLINE double sg_vm_exp_reduce_f64(double x, double *z, double *rlo) {
    double zz = fma(x, 0x1.71547652b82fep+0, SG_VM_SHIFT_F64);
    double n = zz - SG_VM_SHIFT_F64;
    double t = fma(-n, 0x1.62e42fefa39efp-1, x);
    double r = fma(-n, 0x1.abc9e3b39803fp-56, t);
    *rlo = fma(-n, 0x1.abc9e3b39803fp-56, t - r);
    *z = zz;
    return r;
}

/* (1 + q) 2^n for n in [-1077, 1025], as (1 + q) 2^a 2^b with a = floor(n/2), b = n - a:
 * each factor is a normal number, so subnormal results are rounded once, in the final
 * multiply, and results past the overflow threshold become inf. */
SG_VINLINE double sg_vm_scale_f64(double q, double z, int64_t extra) {
    uint64_t m = sg_vm_u64(z) - (sg_vm_u64(SG_VM_SHIFT_F64) - 2048) + (uint64_t)extra; /* n+2048 */
    uint64_t h = m >> 1;
    double s1 = sg_vm_f64((h - 1) << 52);
    double s2 = sg_vm_f64((m - h - 1) << 52);
    return fma(q, s1, s1) * s2;
}

SG_VINLINE double sg_vexp_f64(double x) {
    /* exp(x) is inf past 709.78 and 0 below -745.13; clamping keeps n in range. Below -746
     * the lanes compute exp(0) times a zero scale instead: an underflowing multiply costs a
     * microcode assist, which made loops over max-shifted exponentials (softmax, logsumexp
     * of widely spread data, mostly far below -746) twice as slow */
    const int tiny = x < -746.0;  /* nan is not */
    double xc = sg_vm_sel_f64(x > 710.0, 710.0, x);
    xc = sg_vm_sel_f64(tiny, 0.0, xc);
    double z = fma(xc, 0x1.71547652b82fep+0, SG_VM_SHIFT_F64);
    double n = z - SG_VM_SHIFT_F64;
    double r = fma(-n, 0x1.62e42fefa39efp-1, xc);
    r = fma(-n, 0x1.abc9e3b39803fp-56, r);
    double q = r + sg_vm_expm1_w_f64(r, 0.0);  /* gcc keeps the + 0.0: signed zeros */
    /* (1 + q) 2^n with n in [-1077, 1025]: scale by 2^(n -+ 60), a normal number for either
     * sign of n, then by 2^(+-60); a subnormal result is rounded once, in that multiply */
    uint64_t neg = 0 - (uint64_t)(xc < 0.0);
    double s = sg_vm_f64((sg_vm_u64(z) + (963 + (neg & 120))) << 52);
    double c = sg_vm_sel_f64(xc < 0.0, 0x1p-60, 0x1p60);
    c = sg_vm_sel_f64(tiny, 0.0, c);  /* (1 + q) 2^0 * 0 = +0 */
    return fma(q, s, s) * c;
}

SG_VINLINE double sg_vexp2_f64(double x) {
    double xc = sg_vm_sel_f64(x > 1025.0, 1025.0, x);
    xc = sg_vm_sel_f64(xc < -1077.0, -1077.0, xc);
    double z = xc + SG_VM_SHIFT_F64;
    double r = xc - (z - SG_VM_SHIFT_F64);  /* exact, |r| <= 1/2 */
    /* 2^r - 1 = r ln2 + r^2 P(r), P of degree 10 */
    double p = 0x1.c48f8c2305624p-36;
    p = fma(p, r, 0x1.e9d419696e0e9p-32);
    p = fma(p, r, 0x1.e4cf1cc5c8b02p-28);
    p = fma(p, r, 0x1.b524fad88ed30p-24);
    p = fma(p, r, 0x1.62c022401d5c2p-20);
    p = fma(p, r, 0x1.ffcbfc6712438p-17);
    p = fma(p, r, 0x1.430912f86bf4ep-13);
    p = fma(p, r, 0x1.5d87fe78a526dp-10);
    p = fma(p, r, 0x1.3b2ab6fba4e78p-7);
    p = fma(p, r, 0x1.c6b08d704a0c2p-5);
    p = fma(p, r, 0x1.ebfbdff82c58fp-3);
    double q = fma(r * r, p, r * 0x1.62e42fefa39efp-1);
    return sg_vm_scale_f64(q, z, 0);
}

SG_VINLINE double sg_vexpm1_f64(double x) {
    /* expm1 = -1 (rounded) below -45, inf past 709.78 */
    double xc = sg_vm_sel_f64(x > 710.0, 710.0, x);
    xc = sg_vm_sel_f64(xc < -45.0, -45.0, xc);
    double z, rlo;
    double r = sg_vm_exp_reduce_f64(xc, &z, &rlo);
    double w = sg_vm_expm1_w9_f64(r, rlo);
    /* 2^n (1 + r + w) - 1 = (2^n r + (2^n - 1)) + 2^n w: the inner sum is exact for the n
     * where it matters (|n| <= 1), so the result is rounded once */
    double s = sg_vm_f64((sg_vm_u64(z) + 1023) << 52);
    double small = fma(s, w, fma(s, r, s - 1.0));
    double big = sg_vm_scale_f64(r + w, z, 0);  /* the -1 is below rounding past x = 40 */
    double res = sg_vm_sel_f64(xc > 40.0, big, small);
    return sg_vm_sel_f64(x == 0.0, x, res);  /* keeps -0 */
}

/* expm1(x) = e + *elo for 0 <= x <= 44, elo the rounding error of e (the last FMA's
 * addends are exact and within a factor 2 of e, so u - e is exact).  Past 709 the results
 * are inf or nan, for callers that select another value there. */
SG_VINLINE double sg_vm_expm1_dd_f64(double x, double *elo) {
    double z, rlo;
    double r = sg_vm_exp_reduce_f64(x, &z, &rlo);
    double w = sg_vm_expm1_w_f64(r, rlo);
    double s = sg_vm_f64((sg_vm_u64(z) + 1023) << 52);
    double u = fma(s, r, s - 1.0);
    double ulo = s * r - (u - (s - 1.0));  /* Fast2Sum: |s - 1| >= |s r| */
    double e = fma(s, w, u);
    *elo = fma(s, w, u - e) + ulo;
    return e;
}

/* E/(E + c) for E = e + elo >= 0 and c > 0: returns t = e/(e + c) rounded and sets *corr so
 * that t + corr is the ratio to ~2^-100.  1/(E + c) = (1 - t)/c needs no second division. */
SG_VINLINE double sg_vm_ratio_f64(double e, double elo, double c, double invc, double *corr) {
    double d = e + c;
    double cv = d - e;                           /* TwoSum: no compare-and-select, */
    double dl = ((e - (d - cv)) + (c - cv)) + elo;  /* which was slower on AVX2 */
    double t = e / d;
    double rem = fma(-t, d, e);                                     /* exact */
    *corr = fma(-t, dl, rem + elo) * ((1.0 - t) * invc);
    return t;
}

SG_VINLINE double sg_vtanh_f64(double x) {
    double a = fabs(x);
    /* tanh(a) = E/(E + 2), E = expm1(2a), carried with its rounding error */
    double elo, corr;
    double e = sg_vm_expm1_dd_f64(a + a, &elo);
    double t = sg_vm_ratio_f64(e, elo, 2.0, 0.5, &corr);
    double res = t + corr;
    /* 1 past a = 19.1 (where tanh rounds to 1; E overflows past 354, inf and nan in lanes
     * that are not selected), and where t + corr > 1 (t = 1 - 2^-53, then (1 - t)/2 is no
     * approximation of 1/(E + 2)): one select for both */
    res = sg_vm_sel_f64((a > 19.1) | (res > 1.0), 1.0, res);
    return sg_vm_f64(sg_vm_u64(res) ^ (sg_vm_u64(x) & 0x8000000000000000ULL));  /* res >= 0 */
}

SG_VINLINE double sg_vsigmoid_f64(double x) {
    /* exp(-|x|) never overflows: 1/(1+e) for x >= 0, e/(1+e) below */
    double e = sg_vexp_f64(-fabs(x));
    double num = sg_vm_sel_f64(x >= 0.0, 1.0, e);  /* nan: e is nan */
    double d = 1.0 + e;
    double dl = e - (d - 1.0);                       /* 1 + e = d + dl exactly */
    double q = num / d;
    /* num / (d + dl) = q (1 - dl/d); 1/d ~ 1.5 - d/2 on [1, 2] is plenty for that term */
    return fma(-q * dl, fma(-0.5, d, 1.5), q);
}

SG_VINLINE double sg_vsinh_f64(double x) {
    double a = fabs(x);
    double ac = sg_vm_sel_f64(a > 711.0, 711.0, a);
    double z, rlo;
    double r = sg_vm_exp_reduce_f64(ac, &z, &rlo);
    double w = sg_vm_expm1_w9_f64(r, rlo);
    double s = sg_vm_f64((sg_vm_u64(z) + 1023) << 52);
    /* small: (E - 1/E)/2 = (e + e/(e + 1))/2 with E = 1 + e, e = expm1(a) + elo */
    double u = fma(s, r, s - 1.0);
    double ulo = s * r - (u - (s - 1.0));
    double e = fma(s, w, u);
    double elo = fma(s, w, u - e) + ulo;
    double corr;
    double q = sg_vm_ratio_f64(e, elo, 1.0, 1.0, &corr);
    double small = 0.5 * ((e + q) + (elo + corr));
    double big = sg_vm_scale_f64(r + w, z, -1);  /* exp(a)/2; 1/E is below rounding */
    double res = sg_vm_sel_f64(ac > 22.0, big, small);
    res = sg_vm_sel_f64(a == 0.0, a, res);
    return copysign(res, x);
}

SG_VINLINE double sg_vcosh_f64(double x) {
    double a = fabs(x);
    double ac = sg_vm_sel_f64(a > 711.0, 711.0, a);
    double z, rlo;
    double r = sg_vm_exp_reduce_f64(ac, &z, &rlo);
    double q = r + sg_vm_expm1_w_f64(r, rlo);
    double half = sg_vm_scale_f64(q, z, -1);     /* exp(a)/2 */
    double res = half + 0.25 / half;             /* (E + 1/E)/2 */
    return sg_vm_sel_f64(ac > 22.0, half, res);
}

/* ---- logarithms ---------------------------------------------------------------------- */

/* For positive normal y: y = 2^k m with m in [sqrt(2)/2, sqrt(2)); returns f = m - 1 and
 * sets *k (as a double) and *kbits (k + 1023, the biased exponent, as an integer). */
SG_VINLINE double sg_vm_log_split_f64(double y, double *k, uint64_t *kbits) {
    uint64_t iy = sg_vm_u64(y) + (0x3ff0000000000000ULL - 0x3fe6a09e667f3bcdULL);
    uint64_t e = iy >> 52;
    *kbits = e;
    *k = sg_vm_f64(0x4330000000000000ULL | e) - (0x1p52 + 1023.0);
    double m = sg_vm_f64((iy & 0x000fffffffffffffULL) + 0x3fe6a09e667f3bcdULL);
    return m - 1.0;
}

/* log1p(f) for f in [sqrt(2)/2 - 1, sqrt(2) - 1] as (hi, lo) with log1p(f) = f - (hfsq -
 * lo): hfsq = f^2/2 and lo = s (hfsq + R), s = f/(2+f), R ~ 2 atanh(s)/s - 2 (fdlibm's
 * form; R fitted to degree 6 in s^2). Returns lo; *hfsq receives hfsq. */
SG_VINLINE double sg_vm_log_kernel_f64(double f, double *hfsq) {
    double s = f / (2.0 + f);
    double z = s * s;
    double t = 0x1.2b5f68a50d903p-3;
    t = fma(t, z, 0x1.39fdcceb4bb45p-3);
    t = fma(t, z, 0x1.7462b91b8df65p-3);
    t = fma(t, z, 0x1.c71c62d5e53e0p-3);
    t = fma(t, z, 0x1.2492492dfd86cp-2);
    t = fma(t, z, 0x1.9999999995273p-2);
    t = fma(t, z, 0x1.5555555555558p-1);
    double R = z * t;
    double h = 0.5 * f * f;
    *hfsq = h;
    return s * (h + R);
}

#define SG_VM_LN2HI_F64 0x1.62e42feep-1          /* 32 significant bits: k * LN2HI is exact */
#define SG_VM_LN2LO_F64 0x1.a39ef35793c76p-33

/* Special values of log-like functions at y = 1 + x or y = x: nan for y < 0, -inf at 0. */
SG_VINLINE double sg_vm_log_special_f64(double y, double res) {
    res = sg_vm_sel_f64(y == INFINITY, y, res);
    return sg_vm_sel_f64(!(y > 0.0), sg_vm_sel_f64(y == 0.0, -INFINITY, NAN), res);
}

/* Subnormal arguments are scaled by 2^52 first. */
#define SG_VM_LOG_PREP_F64(x, y, kadj) \
    double y = sg_vm_sel_f64((x) < 0x1p-1022, (x) * 0x1p52, (x)); \
    double kadj = sg_vm_sel_f64((x) < 0x1p-1022, -52.0, 0.0);

SG_VINLINE double sg_vlog_f64(double x) {
    SG_VM_LOG_PREP_F64(x, y, kadj)
    double k;
    uint64_t kb;
    double f = sg_vm_log_split_f64(y, &k, &kb);
    k += kadj;
    double hfsq;
    double lo = sg_vm_log_kernel_f64(f, &hfsq);
    double res = fma(k, SG_VM_LN2HI_F64, -((hfsq - fma(k, SG_VM_LN2LO_F64, lo)) - f));  /* as log1p */
    return sg_vm_log_special_f64(x, res);
}

SG_VINLINE double sg_vlog1p_f64(double x) {
    double u = 1.0 + x;
    /* the rounding error of 1 + x: u - 1 is exact for x >= -1 up to 2^53 (past it c is
     * wrong but far below the result's rounding) */
    double c = x - (u - 1.0);
    double k;
    uint64_t kb;
    double f = sg_vm_log_split_f64(u, &k, &kb);
    /* log(u + c) = log(u) + c/u; c/u = c 2^-k / (1 + f), 1/(1+f) ~ 1 - f + f^2 to 8% is
     * plenty because |c 2^-k| <= 2^-53 and |log1p(x)| >= |f|/2 */
    /* as 2^(1-k) (exponent field 2047 - kb) times 1/2: no compare and select, which cost 4%
     * of the W1 loop.  The field is 0 (scale +0) for u in [1.4 2^1023, inf), where c = 0;
     * all ones (inf) only for u = 0, which log_special replaces */
    double cs = c * sg_vm_f64((2047 - kb) << 52);
    double corr = cs * fma(f, fma(f, 0.5, -0.5), 0.5);
    double hfsq;
    double lo = sg_vm_log_kernel_f64(f, &hfsq);
    /* k LN2HI is exact, so the first FMA rounds as the product and difference did; the two
     * FMAs in place of products shortened the W1 loop by 2-3% (its dependency chains) */
    double res = fma(k, SG_VM_LN2HI_F64, -((hfsq - (lo + fma(k, SG_VM_LN2LO_F64, corr))) - f));
    res = sg_vm_sel_f64(x == 0.0, x, res);  /* keeps -0 */
    return sg_vm_log_special_f64(u, res);
}

SG_VINLINE double sg_vsoftplus_f64(double x) {
    /* log(1 + e^x) = max(x, 0) + log1p(e^-|x|); nan propagates through exp */
    double e = sg_vexp_f64(-fabs(x));
    double base = sg_vm_sel_f64(x > 0.0, x, 0.0);
    return base + sg_vlog1p_f64(e);
}

/* log2 and log10: log1p(f) as hi + lo with hi = f - hfsq rounded to 32 bits, so that the
 * products with the split constants carry few rounding errors (fdlibm's e_log2.c). */
SG_VINLINE double sg_vm_logb_f64(double x, double chi, double clo, double khi, double klo) {
    SG_VM_LOG_PREP_F64(x, y, kadj)
    double k;
    uint64_t kb;
    double f = sg_vm_log_split_f64(y, &k, &kb);
    k += kadj;
    double hfsq;
    double lo = sg_vm_log_kernel_f64(f, &hfsq);
    double hi = f - hfsq;
    hi = sg_vm_f64(sg_vm_u64(hi) & 0xffffffff00000000ULL);
    lo = (f - hi) - hfsq + lo;
    double val_hi = hi * chi;
    double y2 = k * khi;
    double val_lo = k * klo + (lo + hi) * clo + lo * chi;
    double w = y2 + val_hi;
    val_lo += (y2 - w) + val_hi;
    return sg_vm_log_special_f64(x, val_lo + w);
}

SG_VINLINE double sg_vlog2_f64(double x) {
    /* 1/ln2 split with 32 significant bits in the high part; k * 1 is exact */
    return sg_vm_logb_f64(x, 0x1.7154765200000p+0, 0x1.705fc2eefa200p-33, 1.0, 0.0);
}

SG_VINLINE double sg_vlog10_f64(double x) {
    return sg_vm_logb_f64(x, 0x1.bcb7b15200000p-2, 0x1.b9438ca9aadd5p-36,
                          0x1.34413509f6000p-2, 0x1.9fef311f12b36p-42);
}

/* ---- sine and cosine --------------------------------------------------------------------- */

#define SG_VTRIG_MAX_F64 0x1p40

/* sin(r) for |r| <= pi/2 (+0.1%): r + r^3 P(r^2), P of degree 7. */
SG_VINLINE double sg_vm_sin_poly_f64(double r) {
    double z = r * r;
    double p = 0x1.899eb3575b7f2p-49;
    p = fma(p, z, -0x1.ae5109fea6b7ap-41);
    p = fma(p, z, 0x1.612400c8c470dp-33);
    p = fma(p, z, -0x1.ae6455a012592p-26);
    p = fma(p, z, 0x1.71de3a5453a9cp-19);
    p = fma(p, z, -0x1.a01a01a018a6bp-13);
    p = fma(p, z, 0x1.1111111111107p-7);
    p = fma(p, z, -0x1.5555555555555p-3);
    return fma(r * z, p, r);
}

/* r = x - n pi with pi in three pieces: the first product is exact (FMA), the others carry
 * the rest of pi to 2^-161, enough for |n| < 2^40. */
SG_VINLINE double sg_vm_pi_reduce_f64(double x, double n) {
    double r = fma(-n, 0x1.921fb54442d18p+1, x);
    r = fma(-n, 0x1.1a62633145c07p-53, r);
    return fma(-n, -0x1.f1976b7ed8fbcp-109, r);
}

SG_VINLINE int sg_vtrig_ok_f64(double x) { return !(fabs(x) > SG_VTRIG_MAX_F64) | (fabs(x) == INFINITY); }

/* Past SG_VTRIG_MAX the reduced argument is meaningless (possibly huge): it is replaced by
 * 0, so results stay finite (+-0) instead of sin(x); inf and nan give nan (r is nan). */
SG_VINLINE double sg_vm_trig_guard_f64(double r) { return sg_vm_sel_f64(fabs(r) > 2.0, 0.0, r); }

SG_VINLINE double sg_vsin_f64(double x) {
    double z = fma(x, 0x1.45f306dc9c883p-2, SG_VM_SHIFT_F64);
    double n = z - SG_VM_SHIFT_F64;
    double r = sg_vm_trig_guard_f64(sg_vm_pi_reduce_f64(x, n));
    double s = sg_vm_sin_poly_f64(r);
    /* sin(r + n pi) = (-1)^n sin(r) */
    double res = sg_vm_f64(sg_vm_u64(s) ^ (sg_vm_u64(z) << 63));
    return sg_vm_sel_f64(x == 0.0, x, res);
}

SG_VINLINE double sg_vcos_f64(double x) {
    double a = fabs(x);
    /* N = round(a/pi + 1/2), r = a - (N - 1/2) pi in [-pi/2, pi/2], cos(a) = (-1)^N sin(r) */
    double z = fma(a, 0x1.45f306dc9c883p-2, 0.5) + SG_VM_SHIFT_F64;
    double n = (z - SG_VM_SHIFT_F64) - 0.5;
    double r = sg_vm_trig_guard_f64(sg_vm_pi_reduce_f64(a, n));
    double s = sg_vm_sin_poly_f64(r);
    return sg_vm_f64(sg_vm_u64(s) ^ (sg_vm_u64(z) << 63));
}

/* ==== float32 ============================================================================ */

/* expm1(r + rlo) - r for |r| <= ln2/2: r^2/2 + r^3 P(r) + rlo, P of degree 4. */
SG_VINLINE float sg_vm_expm1_w_f32(float r, float rlo) {
    float r2 = r * r;
    float p = 0x1.a0f86cp-13f;
    p = fmaf(p, r, 0x1.6d110ap-10f);
    p = fmaf(p, r, 0x1.1110f6p-7f);
    p = fmaf(p, r, 0x1.55551ap-5f);
    p = fmaf(p, r, 0x1.555556p-3f);
    float h = fmaf(p, r, 0.5f);
    return fmaf(r2, h, rlo);
}

SG_VINLINE float sg_vm_exp_reduce_f32(float x, float *z, float *rlo) {
    float zz = fmaf(x, 0x1.715476p+0f, SG_VM_SHIFT_F32);
    float n = zz - SG_VM_SHIFT_F32;
    float t = fmaf(-n, 0x1.62e430p-1f, x);
    float r = fmaf(-n, -0x1.05c610p-29f, t);
    *rlo = fmaf(-n, -0x1.05c610p-29f, t - r);
    *z = zz;
    return r;
}

/* (1 + q) 2^n for n in [-151, 129] as two normal factors (see sg_vm_scale_f64). */
SG_VINLINE float sg_vm_scale_f32(float q, float z, int32_t extra) {
    uint32_t m = sg_vm_u32(z) - (sg_vm_u32(SG_VM_SHIFT_F32) - 256u) + (uint32_t)extra;
    uint32_t h = m >> 1;
    float s1 = sg_vm_f32((h - 1u) << 23);
    float s2 = sg_vm_f32((m - h - 1u) << 23);
    return fmaf(q, s1, s1) * s2;
}

SG_VINLINE float sg_vexp_f32(float x) {
    /* as sg_vexp_f64: below -104 (exp underflows to 0 below -103.98) +0 is selected at the
     * end, so that no lane's multiply underflows */
    const int tiny = x < -104.0f;
    float xc = sg_vm_sel_f32(x > 89.0f, 89.0f, x);
    xc = sg_vm_sel_f32(tiny, 0.0f, xc);
    float z, rlo;
    float r = sg_vm_exp_reduce_f32(xc, &z, &rlo);
    return sg_vm_sel_f32(tiny, 0.0f, sg_vm_scale_f32(r + sg_vm_expm1_w_f32(r, rlo), z, 0));
}

SG_VINLINE float sg_vexp2_f32(float x) {
    float xc = sg_vm_sel_f32(x > 129.0f, 129.0f, x);
    xc = sg_vm_sel_f32(xc < -151.0f, -151.0f, xc);
    float z = xc + SG_VM_SHIFT_F32;
    float r = xc - (z - SG_VM_SHIFT_F32);
    float p = 0x1.008a30p-16f;
    p = fmaf(p, r, 0x1.4413a4p-13f);
    p = fmaf(p, r, 0x1.5d87c0p-10f);
    p = fmaf(p, r, 0x1.3b2a52p-7f);
    p = fmaf(p, r, 0x1.c6b08ep-5f);
    p = fmaf(p, r, 0x1.ebfbe0p-3f);
    float q = fmaf(r * r, p, r * 0x1.62e430p-1f);
    return sg_vm_scale_f32(q, z, 0);
}

SG_VINLINE float sg_vm_expm1_dd_f32(float x, float *elo) {
    float z, rlo;
    float r = sg_vm_exp_reduce_f32(x, &z, &rlo);
    float w = sg_vm_expm1_w_f32(r, rlo);
    float s = sg_vm_f32((sg_vm_u32(z) + 127u) << 23);
    float u = fmaf(s, r, s - 1.0f);
    float ulo = s * r - (u - (s - 1.0f));
    float e = fmaf(s, w, u);
    *elo = fmaf(s, w, u - e) + ulo;
    return e;
}

SG_VINLINE float sg_vm_ratio_f32(float e, float elo, float c, float invc, float *corr) {
    float d = e + c;
    float cv = d - e;  /* TwoSum, as sg_vm_ratio_f64 */
    float dl = ((e - (d - cv)) + (c - cv)) + elo;
    float t = e / d;
    float rem = fmaf(-t, d, e);
    *corr = fmaf(-t, dl, rem + elo) * ((1.0f - t) * invc);
    return t;
}

SG_VINLINE float sg_vexpm1_f32(float x) {
    float xc = sg_vm_sel_f32(x > 89.0f, 89.0f, x);
    xc = sg_vm_sel_f32(xc < -18.0f, -18.0f, xc);  /* expm1 rounds to -1 below -17.33 */
    float z, rlo;
    float r = sg_vm_exp_reduce_f32(xc, &z, &rlo);
    float w = sg_vm_expm1_w_f32(r, rlo);
    float s = sg_vm_f32((sg_vm_u32(z) + 127u) << 23);
    float small = fmaf(s, w, fmaf(s, r, s - 1.0f));
    float big = sg_vm_scale_f32(r + w, z, 0);
    float res = sg_vm_sel_f32(xc > 20.0f, big, small);
    return sg_vm_sel_f32(x == 0.0f, x, res);
}

SG_VINLINE float sg_vtanh_f32(float x) {
    float a = fabsf(x);
    float elo, corr;
    float e = sg_vm_expm1_dd_f32(a + a, &elo);
    float t = sg_vm_ratio_f32(e, elo, 2.0f, 0.5f, &corr);
    float res = t + corr;
    /* as sg_vtanh_f64: tanhf rounds to 1 past 9.02, expm1f(2a) overflows past 44.4 */
    res = sg_vm_sel_f32((a > 9.1f) | (res > 1.0f), 1.0f, res);
    return sg_vm_f32(sg_vm_u32(res) ^ (sg_vm_u32(x) & 0x80000000u));
}

SG_VINLINE float sg_vsigmoid_f32(float x) {
    float e = sg_vexp_f32(-fabsf(x));
    float num = sg_vm_sel_f32(x >= 0.0f, 1.0f, e);
    float d = 1.0f + e;
    float dl = e - (d - 1.0f);
    float q = num / d;
    return fmaf(-q * dl, fmaf(-0.5f, d, 1.5f), q);
}

SG_VINLINE float sg_vsinh_f32(float x) {
    float a = fabsf(x);
    float ac = sg_vm_sel_f32(a > 90.0f, 90.0f, a);
    float z, rlo;
    float r = sg_vm_exp_reduce_f32(ac, &z, &rlo);
    float w = sg_vm_expm1_w_f32(r, rlo);
    float s = sg_vm_f32((sg_vm_u32(z) + 127u) << 23);
    float u = fmaf(s, r, s - 1.0f);
    float ulo = s * r - (u - (s - 1.0f));
    float e = fmaf(s, w, u);
    float elo = fmaf(s, w, u - e) + ulo;
    float corr;
    float q = sg_vm_ratio_f32(e, elo, 1.0f, 1.0f, &corr);
    float small = 0.5f * ((e + q) + (elo + corr));
    float big = sg_vm_scale_f32(r + w, z, -1);
    float res = sg_vm_sel_f32(ac > 10.0f, big, small);
    res = sg_vm_sel_f32(a == 0.0f, a, res);
    return copysignf(res, x);
}

SG_VINLINE float sg_vcosh_f32(float x) {
    float a = fabsf(x);
    float ac = sg_vm_sel_f32(a > 90.0f, 90.0f, a);
    float z, rlo;
    float r = sg_vm_exp_reduce_f32(ac, &z, &rlo);
    float q = r + sg_vm_expm1_w_f32(r, rlo);
    float half = sg_vm_scale_f32(q, z, -1);
    float res = half + 0.25f / half;
    return sg_vm_sel_f32(ac > 10.0f, half, res);
}

SG_VINLINE float sg_vm_log_split_f32(float y, float *k, uint32_t *kbits) {
    uint32_t iy = sg_vm_u32(y) + (0x3f800000u - 0x3f3504f3u);
    uint32_t e = iy >> 23;
    *kbits = e;
    *k = sg_vm_f32(0x4b000000u | e) - (0x1p23f + 127.0f);
    float m = sg_vm_f32((iy & 0x007fffffu) + 0x3f3504f3u);
    return m - 1.0f;
}

SG_VINLINE float sg_vm_log_kernel_f32(float f, float *hfsq) {
    float s = f / (2.0f + f);
    float z = s * s;
    float t = 0x1.2ee8c8p-2f;
    t = fmaf(t, z, 0x1.997c22p-2f);
    t = fmaf(t, z, 0x1.55555cp-1f);
    float R = z * t;
    float h = 0.5f * f * f;
    *hfsq = h;
    return s * (h + R);
}

#define SG_VM_LN2HI_F32 0x1.62e400p-1f   /* 16 significant bits: k * LN2HI is exact */
#define SG_VM_LN2LO_F32 0x1.7f7d1cp-20f

SG_VINLINE float sg_vm_log_special_f32(float y, float res) {
    res = sg_vm_sel_f32(y == INFINITY, y, res);
    return sg_vm_sel_f32(!(y > 0.0f), sg_vm_sel_f32(y == 0.0f, -INFINITY, NAN), res);
}

#define SG_VM_LOG_PREP_F32(x, y, kadj) \
    float y = sg_vm_sel_f32((x) < 0x1p-126f, (x) * 0x1p23f, (x)); \
    float kadj = sg_vm_sel_f32((x) < 0x1p-126f, -23.0f, 0.0f);

SG_VINLINE float sg_vlog_f32(float x) {
    SG_VM_LOG_PREP_F32(x, y, kadj)
    float k;
    uint32_t kb;
    float f = sg_vm_log_split_f32(y, &k, &kb);
    k += kadj;
    float hfsq;
    float lo = sg_vm_log_kernel_f32(f, &hfsq);
    float res = k * SG_VM_LN2HI_F32 - ((hfsq - (lo + k * SG_VM_LN2LO_F32)) - f);
    return sg_vm_log_special_f32(x, res);
}

SG_VINLINE float sg_vlog1p_f32(float x) {
    float u = 1.0f + x;
    float c = x - (u - 1.0f);
    float k;
    uint32_t kb;
    float f = sg_vm_log_split_f32(u, &k, &kb);
    float cs = c * sg_vm_f32((255u - kb) << 23);  /* as sg_vlog1p_f64 */
    float corr = cs * fmaf(f, fmaf(f, 0.5f, -0.5f), 0.5f);
    float hfsq;
    float lo = sg_vm_log_kernel_f32(f, &hfsq);
    float res = k * SG_VM_LN2HI_F32 - ((hfsq - (lo + (k * SG_VM_LN2LO_F32 + corr))) - f);
    res = sg_vm_sel_f32(x == 0.0f, x, res);
    return sg_vm_log_special_f32(u, res);
}

SG_VINLINE float sg_vsoftplus_f32(float x) {
    float e = sg_vexp_f32(-fabsf(x));
    float base = sg_vm_sel_f32(x > 0.0f, x, 0.0f);
    return base + sg_vlog1p_f32(e);
}

SG_VINLINE float sg_vm_logb_f32(float x, double c, double kc) {
    SG_VM_LOG_PREP_F32(x, y, kadj)
    float k;
    uint32_t kb;
    float f = sg_vm_log_split_f32(y, &k, &kb);
    k += kadj;
    float hfsq;
    float lo = sg_vm_log_kernel_f32(f, &hfsq);
    /* in double: k c + log1p(f) c carries no extra rounding worth counting */
    double l1p = (double)f - ((double)hfsq - (double)lo);
    double res = (double)k * kc + l1p * c;
    return sg_vm_log_special_f32(x, (float)res);
}

SG_VINLINE float sg_vlog2_f32(float x) { return sg_vm_logb_f32(x, 0x1.71547652b82fep+0, 1.0); }
SG_VINLINE float sg_vlog10_f32(float x) {
    return sg_vm_logb_f32(x, 0x1.bcb7b1526e50ep-2, 0x1.34413509f79ffp-2);
}

/* 2^17: past it the rounding of x/pi (a float with a few fraction bits left) can choose n one
 * off, and r = x - n pi leaves the polynomial's fitted range: 2.1-2.3 ulp on [2^17, 2^20],
 * 1.995 at most below (every float of [2^-40, 2^17], both functions; docs/vecmath.rst) */
#define SG_VTRIG_MAX_F32 0x1p17f

SG_VINLINE float sg_vm_sin_poly_f32(float r) {
    float z = r * r;
    float p = -0x1.9da968p-26f;
    p = fmaf(p, z, 0x1.719648p-19f);
    p = fmaf(p, z, -0x1.a01904p-13f);
    p = fmaf(p, z, 0x1.111110p-7f);
    p = fmaf(p, z, -0x1.555556p-3f);
    return fmaf(r * z, p, r);
}

SG_VINLINE float sg_vm_pi_reduce_f32(float x, float n) {
    float r = fmaf(-n, 0x1.921fb6p+1f, x);
    r = fmaf(-n, -0x1.777a5cp-24f, r);
    r = fmaf(-n, -0x1.ee59dap-49f, r);
    return fmaf(-n, 0x1.98a2e0p-76f, r);
}

SG_VINLINE int sg_vtrig_ok_f32(float x) { return !(fabsf(x) > SG_VTRIG_MAX_F32) | (fabsf(x) == INFINITY); }

SG_VINLINE float sg_vm_trig_guard_f32(float r) { return sg_vm_sel_f32(fabsf(r) > 2.0f, 0.0f, r); }

SG_VINLINE float sg_vsin_f32(float x) {
    float z = fmaf(x, 0x1.45f306p-2f, SG_VM_SHIFT_F32);
    float n = z - SG_VM_SHIFT_F32;
    float r = sg_vm_trig_guard_f32(sg_vm_pi_reduce_f32(x, n));
    float s = sg_vm_sin_poly_f32(r);
    float res = sg_vm_f32(sg_vm_u32(s) ^ (sg_vm_u32(z) << 31));
    return sg_vm_sel_f32(x == 0.0f, x, res);
}

SG_VINLINE float sg_vcos_f32(float x) {
    float a = fabsf(x);
    float z = fmaf(a, 0x1.45f306p-2f, 0.5f) + SG_VM_SHIFT_F32;
    float n = (z - SG_VM_SHIFT_F32) - 0.5f;
    float r = sg_vm_trig_guard_f32(sg_vm_pi_reduce_f32(a, n));
    float s = sg_vm_sin_poly_f32(r);
    float res = sg_vm_f32(sg_vm_u32(s) ^ (sg_vm_u32(z) << 31));
    return sg_vm_sel_f32(a < 0x1p-12f, 1.0f, res);  /* cos rounds to 1 there; sin(-pi/2) does not */
}


#else /* SG_SCALAR_MATH: the same names as plain libm calls (config flag vecmath=False) */

#define SG_VM_LIBM(stem, fn)                                                    \
    SG_VINLINE double sg_v##stem##_f64(double x) { return fn(x); }              \
    SG_VINLINE float sg_v##stem##_f32(float x) { return fn##f(x); }
SG_VM_LIBM(exp, exp) SG_VM_LIBM(exp2, exp2) SG_VM_LIBM(expm1, expm1)
SG_VM_LIBM(log, log) SG_VM_LIBM(log2, log2) SG_VM_LIBM(log10, log10) SG_VM_LIBM(log1p, log1p)
SG_VM_LIBM(sin, sin) SG_VM_LIBM(cos, cos)
SG_VM_LIBM(tanh, tanh) SG_VM_LIBM(sinh, sinh) SG_VM_LIBM(cosh, cosh)
#undef SG_VM_LIBM
SG_VINLINE double sg_vsigmoid_f64(double x) {
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}
SG_VINLINE float sg_vsigmoid_f32(float x) {
    if (x >= 0) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
SG_VINLINE double sg_vsoftplus_f64(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
SG_VINLINE float sg_vsoftplus_f32(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }
#define SG_VTRIG_MAX_F64 INFINITY
#define SG_VTRIG_MAX_F32 INFINITY
SG_VINLINE int sg_vtrig_ok_f64(double x) { (void)x; return 1; }
SG_VINLINE int sg_vtrig_ok_f32(float x) { (void)x; return 1; }

#endif /* SG_SCALAR_MATH */

#endif
