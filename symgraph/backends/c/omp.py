"""Keep small loops out of the OpenMP runtime.

Emitters write parallel loops as ``#pragma omp parallel ... if(parallel: COND)``: split
across threads when the work is large, serial otherwise. But a false ``if`` clause still
enters the OpenMP runtime (``GOMP_parallel`` with one thread), which on this project's
machines costs about a microsecond per loop in futex system calls - more than the whole
arithmetic of a small call (issue 6, W3). :func:`serial_branches` rewrites each such loop
into ``if (COND) { the parallel loop } else { the same loop, serial }``; the serial copy
keeps ``omp simd`` (and its reductions), so it is still vectorized, and never calls into
libgomp. The cost is that gcc compiles each such loop twice; the emitters whose loops
matter most for compile time (elementwise kernels, fused row sums) avoid that by putting
the loop in a function that the threads of a plain parallel region and the serial path
both call, and write no ``if(parallel:`` clause.
"""

from __future__ import annotations

import re

_IF = re.compile(r"\s*if\(parallel:\s*(?P<cond>.*?)\)(?=\s|$)")
_NUM_THREADS = re.compile(r"\s*num_threads\([^()]*\)")
_SCHEDULE = re.compile(r"\s*schedule\([^()]*\)")
_REDUCTION = re.compile(r"reduction\([^()]*\)")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' r"|'(?:[^'\\]|\\.)*'")


def _cond_of(pragma: str) -> str | None:
    """COND of the ``if(parallel: COND)`` clause, with balanced parentheses."""
    start = pragma.find("if(parallel:")
    if start < 0:
        return None
    depth = 0
    for j in range(start + 2, len(pragma)):
        ch = pragma[j]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pragma[start + len("if(parallel:"):j].strip()
    return None


def _statement_end(lines: list[str], first: int) -> int | None:
    """Index one past the last line of the C statement starting at ``lines[first]``."""
    depth = 0
    for j in range(first, len(lines)):
        code = _STRING.sub('""', lines[j].split("//")[0])
        stripped = code.strip()
        if stripped.startswith("#"):
            if depth == 0:
                return None  # a directive where a statement should be
            continue
        depth += code.count("{") - code.count("}")
        if depth < 0:
            return None
        if depth == 0 and stripped.endswith((";", "}")):
            return j + 1
    return None


def _serial_pragma(pragma: str) -> str | None:
    """The serial loop's pragma: ``omp simd`` with the reductions of a ``for simd``."""
    body = pragma.strip()[len("#pragma omp parallel"):]
    if not body.lstrip().startswith("for simd"):
        return None
    reductions = " ".join(_REDUCTION.findall(body))
    return "#pragma omp simd" + (f" {reductions}" if reductions else "")


def serial_branches(source: str) -> str:
    """Rewrite every ``#pragma omp parallel ... if(parallel: COND)`` loop or block into an
    explicit branch whose else-part runs without OpenMP threads (module docstring)."""
    if "if(parallel:" not in source:
        return source
    lines = source.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        cond = _cond_of(stripped) if stripped.startswith("#pragma omp parallel") else None
        end = _statement_end(lines, i + 1) if cond is not None else None
        if cond is None or end is None:
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        statement = lines[i + 1:end]
        parallel = _IF.sub("", stripped)
        serial = _serial_pragma(_NUM_THREADS.sub("", _SCHEDULE.sub("", parallel)))
        out.append(f"{indent}if ({cond}) {{")
        out.append(f"{indent}{parallel}")
        out.extend(statement)
        out.append(f"{indent}}} else {{")
        if serial:
            out.append(f"{indent}{serial}")
        out.extend(statement)
        out.append(f"{indent}}}")
        i = end
    return "\n".join(out)
