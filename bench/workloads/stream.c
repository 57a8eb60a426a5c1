/* STREAM-style memory bandwidth kernels for bench/workloads/machine.py.
 *
 * Built with gcc -O3 -march=native -fopenmp and loaded by cffi (ABI mode). Every loop is
 * split statically over the OpenMP threads, and bench_fill touches the arrays with the same
 * split so that each page lives next to the thread that streams it (first touch).
 * Traffic is counted as STREAM counts it: bytes read plus bytes written, no write-allocate.
 */
#include <omp.h>

int bench_threads(void) { return omp_get_max_threads(); }

void bench_fill(double *restrict a, long n, double value) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) a[i] = value + 1e-9 * (double)(i & 1023);
}

/* c = a: 16 bytes per element */
void bench_copy(double *restrict c, const double *restrict a, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) c[i] = a[i];
}

/* a = b + s * c: 24 bytes per element */
void bench_triad(double *restrict a, const double *restrict b, const double *restrict c,
                 double s, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}

/* out = x + y * z: 32 bytes per element, the traffic of a fused 3-input elementwise loop */
void bench_triad3(double *restrict out, const double *restrict x, const double *restrict y,
                  const double *restrict z, long n) {
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) out[i] = x[i] + y[i] * z[i];
}

/* sum(a): 8 bytes per element, read only (a reduction's traffic) */
double bench_read(const double *restrict a, long n) {
    double total = 0.0;
    /* simd lets gcc keep several partial sums (a plain loop is bound by the add latency) */
#pragma omp parallel for simd schedule(static) reduction(+ : total)
    for (long i = 0; i < n; i++) total += a[i];
    return total;
}
