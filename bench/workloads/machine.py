"""The machine's limits, measured in the same run as the workloads.

- Memory bandwidth: STREAM-style kernels (copy, triad, a 3-input triad, a read-only sum) in
  ``stream.c``, compiled with ``gcc -O3 -march=native -fopenmp`` and called through cffi, on
  arrays far larger than the last-level cache (``n_dram`` doubles per array). Bytes are
  counted as STREAM counts them (read + written, no write-allocate), and the workloads count
  their own traffic the same way. The same kernels also run at a workload's own size, so a
  bound for an array that fits in cache is the cache's bound, not DRAM's.
- BLAS peak: the best of a large square sgemm/dgemm through scipy-openblas32 (the BLAS that
  symgraph's C backend links) and through NumPy's own OpenBLAS.

Limits use the best sample (what the machine can do, as STREAM reports); medians are kept
in the JSON file too.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: bytes each kernel moves per element (read + written)
KERNEL_BYTES = {"copy": 16, "triad": 24, "triad3": 32, "read": 8}

_CDEF = """
int bench_threads(void);
void bench_fill(double *a, long n, double value);
void bench_copy(double *c, const double *a, long n);
void bench_triad(double *a, const double *b, const double *c, double s, long n);
void bench_triad3(double *out, const double *x, const double *y, const double *z, long n);
double bench_read(const double *a, long n);
"""

_BLAS_CDEF = """
void scipy_cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha,
                       const float *a, int lda, const float *b, int ldb, float beta,
                       float *c, int ldc);
void scipy_cblas_dgemm(int order, int ta, int tb, int m, int n, int k, double alpha,
                       const double *a, int lda, const double *b, int ldb, double beta,
                       double *c, int ldc);
"""
_ROW_MAJOR, _NO_TRANS = 101, 111
_PROBE_WINDOW_S = 0.5
_PROBE_MAX_SAMPLES = 500


class StreamProbe:
    """The compiled bandwidth kernels; ``seconds(kernel, n)`` times one at ``n`` elements."""

    def __init__(self, build_dir: Path, repeat: int) -> None:
        import cffi

        cc = shutil.which("gcc") or shutil.which("cc")
        if cc is None:
            raise RuntimeError("no C compiler found for the bandwidth probe (install gcc)")
        source = Path(__file__).with_name("stream.c")
        library = build_dir / "stream_probe.so"
        cmd = [cc, "-O3", "-march=native", "-fopenmp", "-fPIC", "-shared", "-std=gnu11",
               str(source), "-o", str(library)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"gcc failed on {source}: {' '.join(cmd)}\n{proc.stderr[:2000]}")
        self.ffi = cffi.FFI()
        self.ffi.cdef(_CDEF)
        self.lib = self.ffi.dlopen(str(library))
        self.repeat = max(2 * repeat, 15)
        self.threads = int(self.lib.bench_threads())
        self._cache: dict[tuple[str, int], tuple[float, float]] = {}

    def _ptr(self, array: np.ndarray) -> Any:
        return self.ffi.cast("double *", array.ctypes.data)

    def seconds(self, kernel: str, n: int) -> tuple[float, float]:
        """(best, median) seconds of one pass of ``kernel`` over arrays of ``n`` doubles."""
        key = (kernel, n)
        if key in self._cache:
            return self._cache[key]
        arrays = [np.empty(n) for _ in range(4)]
        for k, a in enumerate(arrays):
            self.lib.bench_fill(self._ptr(a), n, 1.0 + k)
        p = [self._ptr(a) for a in arrays]
        lib = self.lib
        calls = {
            "copy": lambda: lib.bench_copy(p[0], p[1], n),
            "triad": lambda: lib.bench_triad(p[0], p[1], p[2], 3.0, n),
            "triad3": lambda: lib.bench_triad3(p[0], p[1], p[2], p[3], n),
            "read": lambda: lib.bench_read(p[1], n),
        }
        call = calls[kernel]
        # small arrays are timed in batches so the call overhead stays negligible
        number = max(1, int(2e6 // n))
        call()
        # the best of many samples spread over at least half a second: on a shared machine a
        # short burst of samples can all land while another process holds the cores
        samples: list[float] = []
        begin = time.perf_counter()
        while len(samples) < self.repeat or (time.perf_counter() - begin < _PROBE_WINDOW_S
                                             and len(samples) < _PROBE_MAX_SAMPLES):
            start = time.perf_counter()
            for _ in range(number):
                call()
            samples.append((time.perf_counter() - start) / number)
        result = (min(samples), float(np.median(samples)))
        self._cache[key] = result
        return result

    def gbps(self, kernel: str, n: int) -> tuple[float, float]:
        """(best, median) GB/s of ``kernel`` at ``n`` elements."""
        best, median = self.seconds(kernel, n)
        nbytes = KERNEL_BYTES[kernel] * n
        return nbytes / best / 1e9, nbytes / median / 1e9


def _gemm_gflops(dtype: str, n: int, repeat: int) -> dict[str, float]:
    """Best GFLOP/s of an n x n x n GEMM through scipy-openblas32 and through NumPy."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.empty((n, n), dtype)
    flops = 2.0 * n ** 3
    out: dict[str, float] = {}

    def best_of(call: Any) -> float:
        call()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        return flops / min(samples) / 1e9

    out["numpy"] = best_of(lambda: np.matmul(a, b, out=c))
    try:
        import cffi
        import scipy_openblas32 as sob

        ffi = cffi.FFI()
        ffi.cdef(_BLAS_CDEF)
        lib = ffi.dlopen(os.path.join(sob.get_lib_dir(), f"lib{sob.get_library()}.so"))
        ctype = "float *" if dtype == "float32" else "double *"
        gemm = lib.scipy_cblas_sgemm if dtype == "float32" else lib.scipy_cblas_dgemm
        pa, pb, pc = (ffi.cast(ctype, x.ctypes.data) for x in (a, b, c))
        out["openblas32"] = best_of(
            lambda: gemm(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, n, n, n, 1.0, pa, n, pb, n, 0.0, pc, n))
    except (ImportError, OSError, AttributeError):
        pass  # scipy-openblas32 missing or built differently: NumPy's figure stands alone
    return out


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@dataclass
class Machine:
    """Measured limits. ``bandwidth`` holds best GB/s per kernel at ``n_dram`` elements."""

    cpu: str
    cores: int
    threads: int
    n_dram: int
    bandwidth: dict[str, float]
    bandwidth_median: dict[str, float]
    sgemm: dict[str, float]
    dgemm: dict[str, float]
    probe: StreamProbe | None = field(default=None, repr=False)

    @property
    def sgemm_peak(self) -> float:
        """Best sgemm GFLOP/s over the BLAS libraries tried."""
        return max(self.sgemm.values())

    @property
    def dgemm_peak(self) -> float:
        return max(self.dgemm.values())

    def kernel_seconds(self, kernel: str, n: int) -> float:
        """Best seconds of one pass of a bandwidth kernel at the workload's own size."""
        assert self.probe is not None
        return self.probe.seconds(kernel, n)[0]

    def summary(self) -> str:
        bw = ", ".join(f"{k} {v:.1f}" for k, v in self.bandwidth.items())
        sg = ", ".join(f"{k} {v:.0f}" for k, v in self.sgemm.items())
        dg = ", ".join(f"{k} {v:.0f}" for k, v in self.dgemm.items())
        return (f"{self.cpu}, {self.cores} cores, {self.threads} OpenMP threads. "
                f"Bandwidth (best GB/s, {self.n_dram:.2e} doubles per array): {bw}. "
                f"sgemm peak {self.sgemm_peak:.0f} GFLOP/s ({sg}); "
                f"dgemm peak {self.dgemm_peak:.0f} GFLOP/s ({dg}).")

    def as_dict(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "cores": self.cores, "threads": self.threads,
                "n_dram": self.n_dram, "bandwidth_GBps_best": self.bandwidth,
                "bandwidth_GBps_median": self.bandwidth_median,
                "sgemm_GFLOPs": self.sgemm, "dgemm_GFLOPs": self.dgemm,
                "sgemm_peak_GFLOPs": self.sgemm_peak, "dgemm_peak_GFLOPs": self.dgemm_peak}


def probe_machine(ctx: Any) -> Machine:
    """Measure bandwidth at DRAM size and the GEMM peaks; keep the probe for later sizes."""
    probe = StreamProbe(ctx.scratch, ctx.repeat)
    n_dram = 2 ** 24 if ctx.quick else 2 ** 25  # 128/256 MB per array, >= 4x a 32 MB L3
    best, median = {}, {}
    for kernel in ("copy", "triad", "triad3", "read"):
        best[kernel], median[kernel] = probe.gbps(kernel, n_dram)
    gemm_n = 2048
    gemm_repeat = 3 if ctx.quick else 5
    machine = Machine(
        cpu=cpu_name(), cores=os.cpu_count() or 1, threads=probe.threads, n_dram=n_dram,
        bandwidth=best, bandwidth_median=median,
        sgemm=_gemm_gflops("float32", gemm_n, gemm_repeat),
        dgemm=_gemm_gflops("float64", gemm_n, gemm_repeat), probe=probe)
    ctx.log("machine: " + machine.summary())
    return machine
