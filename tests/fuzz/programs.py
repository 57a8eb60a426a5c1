"""Fuzz programs: a random symgraph graph written as Python source, with its input values.

A ``Program`` is a list of source lines (``v2 = T.exp(x0) + x1``) over named inputs. Keeping
the graph as source makes every failure a runnable reproducer (``Program.source()``), lets the
gradient fuzzer replay the same graph on ``verify_grad``'s own input variables, and keeps
the generator honest: each line is executed when it is drawn, so only well-typed graphs
survive (a line that symgraph rejects with a TypeError/ValueError is dropped and redrawn).

Input values are stored as *logical* arrays plus a memory layout (contiguous, Fortran,
transposed, strided, reversed, or a stride-0 broadcast view), so the same logical values can
be re-materialised with the same layout for the second call and for perturbed copies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import symgraph.tensor as T

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass
class InputSpec:
    """One input of a program: its type, its logical values and how they lie in memory.

    ``layout`` is ``"contiguous"``, ``"fortran"``, ``"transposed"``, ``"strided:K"`` (every
    other element of a twice-as-long buffer along axis K), ``"reversed:K"`` (a negative stride
    along axis K) or ``"broadcast:K"`` (a read-only stride-0 view along axis K; ``source`` then
    holds the length-1 slice and the values are constant along K).
    """

    name: str
    dtype: str
    static_shape: tuple[int | None, ...]
    shape: tuple[int, ...]
    source: np.ndarray
    layout: str = "contiguous"

    def variable(self) -> Any:
        return T.tensor(self.dtype, shape=self.static_shape, name=self.name)

    def argument(self, transform: Transform | None = None) -> np.ndarray:
        """The array passed to the compiled function, laid out as ``layout`` says.

        ``transform`` maps the logical source to another array of the same shape and dtype
        (a rolled copy for the second call, a perturbed copy for the conditioning estimate).
        """
        src = (
            np.array(self.source)
            if transform is None
            else np.asarray(transform(np.array(self.source)))
        )
        assert src.shape == self.source.shape and src.dtype == self.source.dtype
        kind, _, axis_text = self.layout.partition(":")
        axis = int(axis_text) if axis_text else 0
        if kind == "contiguous":
            return np.array(src, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        if kind == "fortran":
            return np.asfortranarray(src)
        if kind == "transposed":
            return np.ascontiguousarray(src.T).T
        if kind == "strided":
            doubled = list(src.shape)
            doubled[axis] *= 2
            base = np.zeros(doubled, dtype=src.dtype)
            every_other = tuple(
                slice(None, None, 2) if k == axis else slice(None) for k in range(src.ndim)
            )
            base[every_other] = src
            return base[every_other]
        if kind == "reversed":
            return np.flip(np.flip(src, axis).copy(), axis)
        if kind == "broadcast":
            return np.broadcast_to(src, self.shape)
        raise ValueError(f"unknown layout {self.layout!r}")

    def values(self) -> np.ndarray:
        """The logical values of the first call, C-contiguous."""
        return np.array(np.broadcast_to(self.source, self.shape), order="C")


@dataclass
class Program:
    """A random graph: inputs, source lines and the names of the outputs."""

    inputs: list[InputSpec]
    lines: list[str]
    outputs: list[str]
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # tracked runtime shapes

    def build(self, variables: Sequence[Any] | None = None) -> tuple[list[Any], list[Any]]:
        """Run the source on fresh input variables (or the given ones); return (inputs, outputs)."""
        inputs, outputs, _ = self.build_all(variables)
        return inputs, outputs

    def build_all(
        self, variables: Sequence[Any] | None = None
    ) -> tuple[list[Any], list[Any], dict[str, Any]]:
        """Like ``build``, plus every value the lines define, by name, in program order."""
        if variables is None:
            variables = [spec.variable() for spec in self.inputs]
        namespace: dict[str, Any] = {"T": T, "np": np}
        namespace.update({spec.name: var for spec, var in zip(self.inputs, variables)})
        for line in self.lines:
            exec(line, namespace)  # noqa: S102 - the program is our own generated source
        defined = {
            line.split(" = ", 1)[0]: namespace[line.split(" = ", 1)[0]] for line in self.lines
        }
        return list(variables), [namespace[name] for name in self.outputs], defined

    def arguments(self, transform: Transform | None = None) -> list[np.ndarray]:
        return [spec.argument(transform) for spec in self.inputs]

    def source(self) -> str:
        """A runnable reproducer: inputs, graph, compile in both modes and call."""
        out = [
            "import numpy as np",
            "from numpy import inf, nan",
            "import symgraph as sg",
            "import symgraph.tensor as T",
            "",
        ]
        for spec in self.inputs:
            out.append(
                f"{spec.name} = T.tensor({spec.dtype!r}, shape={spec.static_shape!r}, "
                f"name={spec.name!r})"
            )
        out += self.lines
        args = []
        for spec in self.inputs:
            values = (
                f"np.array({spec.source.tolist()!r}, dtype={spec.dtype!r})"
                if spec.source.size
                else f"np.zeros({spec.source.shape!r}, dtype={spec.dtype!r})"
            )
            if spec.layout.startswith("broadcast"):
                values = f"np.broadcast_to({values}, {spec.shape!r})"
            args.append(f"    {values},  # {spec.name}: shape {spec.shape}, layout {spec.layout}")
        names = ", ".join(spec.name for spec in self.inputs)
        outputs = ", ".join(self.outputs)
        out += ["args = ["] + args + ["]"]
        out += [
            (
                f"ref = sg.compile_function([{names}], [{outputs}], mode='py', optimizer='none', "
                "on_unused_input='ignore')(*args)"
            ),
            (
                f"got = sg.compile_function([{names}], [{outputs}], mode='c', "
                "on_unused_input='ignore')(*args)"
            ),
        ]
        return "\n".join(out)

    def __repr__(self) -> str:
        return "Program(\n" + self.source() + "\n)"
