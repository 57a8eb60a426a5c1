"""dtype -> C type names and literals."""

from __future__ import annotations

import math

import numpy as np

C_TYPES = {
    "bool": "uint8_t",
    "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
    "float32": "float", "float64": "double",
}


class Unsupported(Exception):
    """This node cannot be emitted as C; it runs in Python between C segments."""


def ctype(dtype: str) -> str:
    try:
        return C_TYPES[dtype]
    except KeyError:
        raise Unsupported(f"dtype {dtype} has no C representation yet") from None


def literal(value: object, dtype: str) -> str:
    """A C literal of ``value`` in ``dtype``."""
    if dtype == "bool":
        return "1" if bool(value) else "0"
    if dtype.startswith(("int", "uint")):
        v = int(value)  # type: ignore[call-overload]
        if dtype == "int64" and v == -(2**63):
            return "INT64_MIN"
        suffix = "ULL" if dtype.startswith("uint") else "LL"
        return f"(({ctype(dtype)}){v}{suffix})"
    v = float(value)  # type: ignore[arg-type]
    if math.isnan(v):
        return "((" + ctype(dtype) + ")NAN)"
    if math.isinf(v):
        return f"(({ctype(dtype)}){'-' if v < 0 else ''}INFINITY)"
    text = repr(float(np.float64(v)))
    if "e" not in text and "." not in text:
        text += ".0"
    return f"{text}f" if dtype == "float32" else text


def suffix(dtype: str) -> str:
    """libm suffix for a float dtype: 'f' for float32, '' for float64."""
    return "f" if dtype == "float32" else ""


def helper_suffix(dtype: str) -> str:
    return "f32" if dtype == "float32" else "f64"
