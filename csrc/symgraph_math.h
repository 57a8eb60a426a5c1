/* Scalar math helpers for generated C: NumPy semantics where C differs, and stable forms.
 *
 * Each helper exists in a float (f32) and double (f64) version; integer helpers in i64
 * (narrower integer types are computed through them and cast back).
 */
#ifndef SYMGRAPH_MATH_H
#define SYMGRAPH_MATH_H

#include <math.h>
#include <stdint.h>

/* ---- SIMD math from glibc's libmvec ---------------------------------------------------
 * Declaring the libm functions with the OpenMP "simd" attribute tells gcc that vector
 * versions exist (_ZGVdN4v_exp and friends in libmvec, linked through libm), so loops that
 * call them are vectorized: 4 doubles or 8 floats per call with AVX2. glibc documents these
 * at most 4 ulp from the correctly rounded result (libm's scalar versions are < 1 ulp), with
 * the same special values (nan, inf, signed zero). Compile with -DSG_SCALAR_MATH (config
 * flag vecmath=False) to keep scalar libm calls. */
#if defined(__x86_64__) && defined(__GLIBC__) && !defined(SG_SCALAR_MATH)
#define SG_SIMD_DECL __attribute__((simd("notinbranch")))
#if __GLIBC_PREREQ(2, 22)
SG_SIMD_DECL double exp(double); SG_SIMD_DECL float expf(float);
SG_SIMD_DECL double log(double); SG_SIMD_DECL float logf(float);
SG_SIMD_DECL double sin(double); SG_SIMD_DECL float sinf(float);
SG_SIMD_DECL double cos(double); SG_SIMD_DECL float cosf(float);
SG_SIMD_DECL double pow(double, double); SG_SIMD_DECL float powf(float, float);
#endif
#if __GLIBC_PREREQ(2, 35)
SG_SIMD_DECL double exp2(double); SG_SIMD_DECL float exp2f(float);
SG_SIMD_DECL double expm1(double); SG_SIMD_DECL float expm1f(float);
SG_SIMD_DECL double log2(double); SG_SIMD_DECL float log2f(float);
SG_SIMD_DECL double log10(double); SG_SIMD_DECL float log10f(float);
SG_SIMD_DECL double log1p(double); SG_SIMD_DECL float log1pf(float);
SG_SIMD_DECL double tan(double); SG_SIMD_DECL float tanf(float);
SG_SIMD_DECL double asin(double); SG_SIMD_DECL float asinf(float);
SG_SIMD_DECL double acos(double); SG_SIMD_DECL float acosf(float);
SG_SIMD_DECL double atan(double); SG_SIMD_DECL float atanf(float);
SG_SIMD_DECL double atan2(double, double); SG_SIMD_DECL float atan2f(float, float);
SG_SIMD_DECL double sinh(double); SG_SIMD_DECL float sinhf(float);
SG_SIMD_DECL double cosh(double); SG_SIMD_DECL float coshf(float);
SG_SIMD_DECL double tanh(double); SG_SIMD_DECL float tanhf(float);
SG_SIMD_DECL double asinh(double); SG_SIMD_DECL float asinhf(float);
SG_SIMD_DECL double acosh(double); SG_SIMD_DECL float acoshf(float);
SG_SIMD_DECL double atanh(double); SG_SIMD_DECL float atanhf(float);
SG_SIMD_DECL double erf(double); SG_SIMD_DECL float erff(float);
SG_SIMD_DECL double erfc(double); SG_SIMD_DECL float erfcf(float);
#endif
#endif

/* ---- floor division and remainder with Python/NumPy signs -------------------------- */
static inline int64_t sg_floordiv_i64(int64_t a, int64_t b) {
    if (b == 0) return 0;                 /* NumPy: 0 (with a warning) */
    if (b == -1) return (int64_t)(0 - (uint64_t)a);   /* avoids INT64_MIN / -1 trap */
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
    return q;
}
static inline uint64_t sg_floordiv_u64(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline int64_t sg_mod_i64(int64_t a, int64_t b) {
    if (b == 0 || b == -1) return 0;
    int64_t r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
}
static inline uint64_t sg_mod_u64(uint64_t a, uint64_t b) { return b ? a % b : 0; }
static inline double sg_floordiv_f64(double a, double b) {
    if (b == 0) return a / b;             /* inf or nan, as NumPy */
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
    if (div == 0) return copysign(0.0, a / b);
    double fl = floor(div);
    if (div - fl > 0.5) fl += 1.0;
    return fl;
}
static inline float sg_floordiv_f32(float a, float b) { return (float)sg_floordiv_f64(a, b); }
static inline double sg_mod_f64(double a, double b) {
    if (b == 0) return fmod(a, b);
    double mod = fmod(a, b);
    if (mod != 0) {
        if ((b < 0) != (mod < 0)) mod += b;
    } else {
        mod = copysign(0.0, b);
    }
    return mod;
}
static inline float sg_mod_f32(float a, float b) { return (float)sg_mod_f64(a, b); }

/* ---- integer power by repeated squaring; negative exponents flag an error ------------ */
static inline int64_t sg_pow_i64(int64_t base, int64_t exp, int *bad) {
    if (exp < 0) { *bad = 1; return 0; }
    int64_t result = 1;
    while (exp) {
        if (exp & 1) result = (int64_t)((uint64_t)result * (uint64_t)base);
        base = (int64_t)((uint64_t)base * (uint64_t)base);
        exp >>= 1;
    }
    return result;
}

/* ---- sign, rounding ------------------------------------------------------------------- */
static inline double sg_sign_f64(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : (x == 0 ? 0.0 : x)); }
static inline float sg_sign_f32(float x) { return x > 0 ? 1.0f : (x < 0 ? -1.0f : (x == 0 ? 0.0f : x)); }
static inline double sg_round_half_away_f64(double x) { return x >= 0 ? floor(x + 0.5) : ceil(x - 0.5); }
static inline float sg_round_half_away_f32(float x) { return x >= 0 ? floorf(x + 0.5f) : ceilf(x - 0.5f); }
/* rint rounds half to even in the default rounding mode */

/* ---- max/min that propagate NaN (NumPy's maximum/minimum) ------------------------------ */
static inline double sg_max_f64(double a, double b) { return (a != a || a >= b) ? a : b; }
static inline double sg_min_f64(double a, double b) { return (a != a || a <= b) ? a : b; }
static inline float sg_max_f32(float a, float b) { return (a != a || a >= b) ? a : b; }
static inline float sg_min_f32(float a, float b) { return (a != a || a <= b) ? a : b; }

/* ---- logistic family, computed without overflow --------------------------------------- */
static inline double sg_sigmoid_f64(double x) {
    /* exp(-|x|) never overflows; written without branches so loops vectorize */
    double e = exp(-fabs(x));
    double r = 1.0 / (1.0 + e);
    return x >= 0 ? r : e * r;
}
static inline float sg_sigmoid_f32(float x) {
    float e = expf(-fabsf(x));
    float r = 1.0f / (1.0f + e);
    return x >= 0 ? r : e * r;
}
/* log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)) */
static inline double sg_softplus_f64(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }
static inline float sg_softplus_f32(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

/* ---- inverse error functions (Giles' approximation refined by Newton steps) ------------ */
static inline double sg_erfinv_f64(double y) {
    if (y <= -1.0) return y == -1.0 ? -INFINITY : NAN;
    if (y >= 1.0) return y == 1.0 ? INFINITY : NAN;
    if (y != y) return y;
    double w = -log((1.0 - y) * (1.0 + y)), x;
    if (w < 6.25) {
        w -= 3.125;
        x = -3.6444120640178196996e-21; x = -1.685059138182016589e-19 + x * w;
        x = 1.2858480715256400167e-18 + x * w; x = 1.115787767802518096e-17 + x * w;
        x = -1.333171662854620906e-16 + x * w; x = 2.0972767875968561637e-17 + x * w;
        x = 6.6376381343583238325e-15 + x * w; x = -4.0545662729752068639e-14 + x * w;
        x = -8.1519341976054721522e-14 + x * w; x = 2.6335093153082322977e-12 + x * w;
        x = -1.2975133253453532498e-11 + x * w; x = -5.4154120542946279317e-11 + x * w;
        x = 1.051212273321532285e-09 + x * w; x = -4.1126339803469836976e-09 + x * w;
        x = -2.9070369957882005086e-08 + x * w; x = 4.2347877827932403518e-07 + x * w;
        x = -1.3654692000834678645e-06 + x * w; x = -1.3882523362786468719e-05 + x * w;
        x = 0.0001867342080340571352 + x * w; x = -0.00074070253416626697512 + x * w;
        x = -0.0060336708714301490533 + x * w; x = 0.24015818242558961693 + x * w;
        x = 1.6536545626831027356 + x * w;
    } else if (w < 16.0) {
        w = sqrt(w) - 3.25;
        x = 2.2137376921775787049e-09; x = 9.0756561938885390979e-08 + x * w;
        x = -2.7517406297064545428e-07 + x * w; x = 1.8239629214389227755e-08 + x * w;
        x = 1.5027403968909827627e-06 + x * w; x = -4.013867526981545969e-06 + x * w;
        x = 2.9234449089955446044e-06 + x * w; x = 1.2475304481671778723e-05 + x * w;
        x = -4.7318229009055733981e-05 + x * w; x = 6.8284851459573175448e-05 + x * w;
        x = 2.4031110387097893999e-05 + x * w; x = -0.0003550375203628474796 + x * w;
        x = 0.00095328937973738049703 + x * w; x = -0.0016882755560235047313 + x * w;
        x = 0.0024914420961078508066 + x * w; x = -0.0037512085075692412107 + x * w;
        x = 0.005370914553590063617 + x * w; x = 1.0052589676941592334 + x * w;
        x = 3.0838856104922207635 + x * w;
    } else {
        w = sqrt(w) - 5.0;
        x = -2.7109920616438573243e-11; x = -2.5556418169965252055e-10 + x * w;
        x = 1.5076572693500548083e-09 + x * w; x = -3.7894654401267369937e-09 + x * w;
        x = 7.6157012080783393804e-09 + x * w; x = -1.4960026627149240478e-08 + x * w;
        x = 2.9147953450901080826e-08 + x * w; x = -6.7711997758452339498e-08 + x * w;
        x = 2.2900482228026654717e-07 + x * w; x = -9.9298272942317002539e-07 + x * w;
        x = 4.5260625972231537039e-06 + x * w; x = -1.9681778105531670567e-05 + x * w;
        x = 7.5995277030017761139e-05 + x * w; x = -0.00021503011930044477347 + x * w;
        x = -0.00013871931833623122026 + x * w; x = 1.0103004648645343977 + x * w;
        x = 4.8499064014085844221 + x * w;
    }
    x *= y;
    /* two Newton steps on erf(x) - y make it accurate to rounding */
    for (int k = 0; k < 2; ++k) {
        double err = erf(x) - y;
        x -= err / (1.1283791670955126 * exp(-x * x));
    }
    return x;
}
static inline float sg_erfinv_f32(float y) { return (float)sg_erfinv_f64(y); }
static inline double sg_erfcinv_f64(double y) {
    if (y <= 0.0) return y == 0.0 ? INFINITY : NAN;
    if (y >= 2.0) return y == 2.0 ? -INFINITY : NAN;
    if (y < 1e-3 || y > 2.0 - 1e-3) {
        /* erfinv(1 - y) loses y's digits near 0: Newton on erfc directly */
        double x = sg_erfinv_f64(1.0 - y);
        if (y < 1.0 && !isfinite(x)) x = sqrt(-log(y));
        for (int k = 0; k < 40; ++k) {
            double err = erfc(x) - y;
            double step = err / (-1.1283791670955126 * exp(-x * x));
            x -= step;
            if (fabs(step) <= 1e-16 * fabs(x)) break;
        }
        return x;
    }
    return sg_erfinv_f64(1.0 - y);
}
static inline float sg_erfcinv_f32(float y) { return (float)sg_erfcinv_f64(y); }

/* ---- digamma and trigamma (recurrence to x >= 6, then asymptotic series) --------------- */
static inline double sg_psi_f64(double x) {
    if (x != x || x == -INFINITY) return NAN;
    if (x <= 0 && floor(x) == x) return x == 0 ? copysign(INFINITY, -x) : NAN;
    double result = 0.0;
    if (x < 0) {   /* reflection: psi(1 - x) - psi(x) = pi / tan(pi x) */
        result = -M_PI / tan(M_PI * x);
        x = 1.0 - x;
    }
    while (x < 10.0) { result -= 1.0 / x; x += 1.0; }
    double f = 1.0 / (x * x);
    double t = f * (-1.0 / 12 + f * (1.0 / 120 + f * (-1.0 / 252 + f * (1.0 / 240 + f * (-1.0 / 132
               + f * (691.0 / 32760 + f * (-1.0 / 12)))))));
    return result + log(x) - 0.5 / x + t;
}
static inline float sg_psi_f32(float x) { return (float)sg_psi_f64(x); }
static inline double sg_trigamma_f64(double x) {
    if (x != x) return NAN;
    if (x <= 0 && floor(x) == x) return INFINITY;
    double result = 0.0;
    if (x < 0) {   /* reflection: trigamma(1 - x) + trigamma(x) = pi^2 / sin^2(pi x) */
        double s = sin(M_PI * x);
        return -sg_trigamma_f64(1.0 - x) + M_PI * M_PI / (s * s);
    }
    while (x < 10.0) { result += 1.0 / (x * x); x += 1.0; }
    double f = 1.0 / (x * x);
    double t = 1.0 / x + f / 2 + f / x * (1.0 / 6 + f * (-1.0 / 30 + f * (1.0 / 42 + f * (-1.0 / 30
               + f * (5.0 / 66 + f * (-691.0 / 2730 + f * (7.0 / 6)))))));
    return result + t;
}
static inline float sg_trigamma_f32(float x) { return (float)sg_trigamma_f64(x); }

/* gammaln as scipy: log|gamma(x)|, except that scipy gives -inf at -inf (lgamma: +inf) */
static inline double sg_gammaln_f64(double x) { return x == -INFINITY ? -INFINITY : lgamma(x); }
static inline float sg_gammaln_f32(float x) { return x == -INFINITY ? -INFINITY : lgammaf(x); }

/* Float to integer conversions as NumPy does them on x86-64. A plain C cast of NaN, an
 * infinity or an out-of-range value is undefined behaviour (gcc may drop or reorder it);
 * these give what the hardware conversion NumPy uses gives: the "integer indefinite" value
 * (INT_MIN) for signed targets, narrow types through int32, and for unsigned targets the
 * value modulo 2^n in range, 0 above it and 2^(n-1) for NaN and far negatives. */
static inline int32_t sg_f2i32(double x) {
  return (x > -2147483649.0 && x < 2147483648.0) ? (int32_t)x : INT32_MIN;
}
static inline int64_t sg_f2i64(double x) {
  return (x >= -9223372036854775808.0 && x < 9223372036854775808.0) ? (int64_t)x : INT64_MIN;
}
static inline uint32_t sg_f2u32(double x) {
  if (x >= 0.0 && x < 4294967296.0) return (uint32_t)x;
  if (x < 0.0 && x > -2147483649.0) return (uint32_t)(int32_t)x;
  return x >= 4294967296.0 ? 0u : 0x80000000u;
}
static inline uint64_t sg_f2u64(double x) {
  if (x >= 0.0 && x < 18446744073709551616.0) return (uint64_t)x;
  if (x < 0.0 && x >= -9223372036854775808.0) return (uint64_t)(int64_t)x;
  return x >= 18446744073709551616.0 ? 0u : 0x8000000000000000u;
}

#endif
