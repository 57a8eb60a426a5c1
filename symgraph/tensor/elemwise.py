"""Elemwise (a scalar op lifted over arrays with broadcasting) and DimShuffle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symgraph.graph.node import Apply
from symgraph.graph.op import Op
from symgraph.scalar.op import ScalarOp
from symgraph.tensor.type import TensorType
from symgraph.tensor.variable import TensorVariable, as_tensor_variable


def broadcast_static_shapes(shapes: Sequence[tuple[int | None, ...]], what: str) -> tuple[int | None, ...]:
    """The static output shape of broadcasting same-ndim ``shapes``; raise if they conflict.

    A length of 1 broadcasts; ``None`` (unknown) must equal the other lengths at run time.
    """
    out: list[int | None] = []
    for axis, lengths in enumerate(zip(*shapes)):
        non_one = [n for n in lengths if n != 1]
        if not non_one:
            out.append(1)
            continue
        known = {n for n in non_one if n is not None}
        if len(known) > 1:
            shown = " and ".join(str(tuple("?" if n is None else n for n in s)) for s in shapes)
            raise ValueError(
                f"{what}: shapes {shown} cannot be broadcast together "
                f"(axis {axis} has lengths {sorted(known)})"
            )
        out.append(known.pop() if known else None)
    return tuple(out)


@dataclass(frozen=True)
class Elemwise(Op):
    """Apply ``scalar_op`` to every element of its inputs, broadcasting NumPy-style.

    Inputs of lower rank are padded on the left with broadcastable axes (a DimShuffle),
    so every input of an Elemwise node has the output's ndim.
    """

    scalar_op: ScalarOp

    def make_node(self, *inputs: Any) -> Apply:
        sop = self.scalar_op
        if sop.nin != -1 and len(inputs) != sop.nin:
            raise TypeError(f"{sop.name} takes {sop.nin} inputs, got {len(inputs)}")
        if not inputs:
            raise TypeError(f"{sop.name} needs at least one input")
        args = [as_tensor_variable(i) for i in inputs]
        dtypes = [a.dtype for a in args]
        sop.check_dtypes(*dtypes)
        ndim = max(a.ndim for a in args)
        args = [pad_left(a, ndim) for a in args]
        shape = broadcast_static_shapes([a.type.shape for a in args], sop.name)
        out_type = TensorType(sop.output_dtype(*dtypes), shape)
        return Apply(self, args, [out_type.make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        out_shape = []
        for axis, static in enumerate(node.outputs[0].type.shape):
            if static is not None:
                out_shape.append(static)
                continue
            # any input whose length here is not statically 1 gives the answer
            for inp, shp in zip(node.inputs, input_shapes):
                if inp.type.shape[axis] != 1:
                    out_shape.append(shp[axis])
                    break
            else:
                out_shape.append(1)  # every input has length 1 here
        return [tuple(out_shape)]

    def __str__(self) -> str:
        return f"Elemwise{{{self.scalar_op.name}}}"


@dataclass(frozen=True)
class DimShuffle(Op):
    """Reorder axes, insert broadcastable axes ('x') and drop length-1 axes.

    ``new_order`` lists, for each output axis, an input axis or 'x'. Input axes not
    listed are dropped; they must have static length 1.
    """

    input_ndim: int
    new_order: tuple[int | str, ...]

    def __post_init__(self) -> None:
        seen = set()
        for entry in self.new_order:
            if entry == "x":
                continue
            if not isinstance(entry, int) or not 0 <= entry < self.input_ndim:
                raise ValueError(
                    f"dimshuffle pattern {self.new_order}: entry {entry!r} is not 'x' or an axis "
                    f"of a {self.input_ndim}-d input"
                )
            if entry in seen:
                raise ValueError(f"dimshuffle pattern {self.new_order} repeats axis {entry}")
            seen.add(entry)

    @property
    def dropped(self) -> tuple[int, ...]:
        return tuple(i for i in range(self.input_ndim) if i not in self.new_order)

    @property
    def is_transpose_only(self) -> bool:
        return "x" not in self.new_order and len(self.new_order) == self.input_ndim

    def make_node(self, x: Any) -> Apply:
        x = as_tensor_variable(x)
        if x.ndim != self.input_ndim:
            raise TypeError(f"DimShuffle{self.new_order} expects a {self.input_ndim}-d input, got {x.ndim}-d {x!r}")
        for axis in self.dropped:
            if x.type.shape[axis] != 1:
                length = x.type.shape[axis]
                raise ValueError(
                    f"dimshuffle{self.new_order} drops axis {axis} of {x!r}, whose length is "
                    f"{'unknown' if length is None else length}; only axes of static length 1 can be "
                    "dropped (use T.specify_shape or reshape to state the length)"
                )
        shape = tuple(1 if o == "x" else x.type.shape[o] for o in self.new_order)  # type: ignore[index]
        return Apply(self, [x], [TensorType(x.dtype, shape).make_variable()])

    def infer_shape(self, node: Apply, input_shapes: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        (ishape,) = input_shapes
        return [tuple(1 if o == "x" else ishape[o] for o in self.new_order)]  # type: ignore[index]

    def __str__(self) -> str:
        return "DimShuffle{" + ",".join(str(o) for o in self.new_order) + "}"


def dimshuffle(x: Any, pattern: Sequence[int | str]) -> TensorVariable:
    """``x.dimshuffle('x', 0)``: reorder axes, add broadcastable ones, drop length-1 ones."""
    x = as_tensor_variable(x)
    order = tuple("x" if p == "x" else int(p) for p in pattern)
    if order == tuple(range(x.ndim)):
        return x
    return DimShuffle(x.ndim, order)(x)


def pad_left(x: TensorVariable, ndim: int) -> TensorVariable:
    """Add broadcastable axes on the left until ``x`` has ``ndim`` axes."""
    if x.ndim >= ndim:
        return x
    return dimshuffle(x, ("x",) * (ndim - x.ndim) + tuple(range(x.ndim)))
