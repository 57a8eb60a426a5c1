"""dtype names, categories and promotion rules (NumPy's, with Theano's float upgrade)."""

from __future__ import annotations

import numpy as np

BOOL_DTYPES = ("bool",)
INT_DTYPES = ("int8", "int16", "int32", "int64")
UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
FLOAT_DTYPES = ("float16", "float32", "float64")
COMPLEX_DTYPES = ("complex64", "complex128")
DISCRETE_DTYPES = BOOL_DTYPES + INT_DTYPES + UINT_DTYPES
ALL_DTYPES = DISCRETE_DTYPES + FLOAT_DTYPES + COMPLEX_DTYPES


def normalize_dtype(dtype: object) -> str:
    """A canonical dtype name ('float64', 'int32', ...) from anything NumPy accepts."""
    if dtype == "floatX":
        from symgraph.config import config

        return config.floatX
    try:
        name = np.dtype(dtype).name  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(f"{dtype!r} is not a dtype") from exc
    if name not in ALL_DTYPES:
        raise TypeError(f"dtype {name} is not supported; use one of {', '.join(ALL_DTYPES)}")
    return name


def is_bool(dtype: str) -> bool:
    return dtype == "bool"


def is_int(dtype: str) -> bool:
    """Signed or unsigned integer (not bool)."""
    return dtype in INT_DTYPES or dtype in UINT_DTYPES


def is_discrete(dtype: str) -> bool:
    return dtype in DISCRETE_DTYPES


def is_float(dtype: str) -> bool:
    return dtype in FLOAT_DTYPES


def is_complex(dtype: str) -> bool:
    return dtype in COMPLEX_DTYPES


def is_inexact(dtype: str) -> bool:
    return dtype in FLOAT_DTYPES or dtype in COMPLEX_DTYPES


def upcast(*dtypes: str) -> str:
    """NumPy's promotion of array dtypes: int32 + float32 -> float64, int8 + uint8 -> int16."""
    return np.result_type(*[np.dtype(d) for d in dtypes]).name


def upgrade_to_float(*dtypes: str) -> str:
    """The dtype of a floating-point function of these inputs.

    Floats and complex promote as usual. Discrete inputs become floats as Theano did:
    bool, int8, uint8, int16 and uint16 fit exactly in float32; wider integers need
    float64 (NumPy would pick float16 for int8, which loses too much).
    """
    widened = []
    for d in dtypes:
        if d in ("bool", "int8", "uint8", "int16", "uint16"):
            widened.append("float32")
        elif is_discrete(d):
            widened.append("float64")
        else:
            widened.append(d)
    return upcast(*widened)


def python_scalar_dtype(value: object, partner: str | None = None) -> str:
    """dtype for a Python number used in an expression.

    Python numbers are "weak" (NEP 50): they take the dtype of the array they meet
    when that kind can hold them (``x_float32 * 2.0`` stays float32, ``x_int8 + 1``
    stays int8); alone, floats take ``config.floatX`` and ints int64.
    """
    from symgraph.config import config

    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        if partner is not None and (is_int(partner) or is_inexact(partner)):
            info = None if is_inexact(partner) else np.iinfo(partner)
            if info is None or info.min <= int(value) <= info.max:
                return partner
        return "int64"
    if isinstance(value, (float, np.floating)):
        if partner is not None and is_inexact(partner):
            return partner
        return config.floatX
    if isinstance(value, (complex, np.complexfloating)):
        if partner is not None and is_complex(partner):
            return partner
        return "complex128"
    raise TypeError(f"{value!r} is not a number")
