"""The differential table covers every op: each concrete Op subclass and each scalar op of
symgraph appears in the graph of at least one OpCase, and every user function of the op
families has a case named after it."""

from __future__ import annotations

import importlib
import pkgutil

import symgraph
from symgraph.backends.py.dispatch import has_impl
from symgraph.backends.py.runner import _load_impls
from symgraph.graph.op import Op
from symgraph.graph.traversal import toposort
from symgraph.scalar.op import BinaryFloatOp, PredicateOp, ScalarOp, UnaryFloatOp
from symgraph.tensor.elemwise import Elemwise
from tests.differential.op_cases import ALL_CASES

#: modules whose ops are made only by rewrites, never by user code, so no case can build them
#: (the differential cases still run them: every case is compiled with the full pipeline)
REWRITE_ONLY_MODULES = {
    "symgraph.tensor.blas": "BLAS ops (Gemm, Gemv, ...) replace Dot only during rewriting",
    "symgraph.rewrite": "ops defined next to rewrite rules exist only in rewritten graphs",
}

#: scalar op classes made only by rewrites
REWRITE_ONLY_SCALAR_OPS = {
    "Composite": "built by the elementwise fusion rewrite from chains of Elemwise nodes",
}

#: bases that are not ops of their own (their subclasses are)
SCALAR_BASES = {ScalarOp, UnaryFloatOp, BinaryFloatOp, PredicateOp}

# by import_module: ``symgraph.tensor.shape`` is the function that the star import brings in
FAMILY_MODULES = [
    importlib.import_module(f"symgraph.tensor.{family}")
    for family in ("reduce", "shape", "subtensor", "linalg", "nlinalg", "nnet")
]


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


def _import_symgraph() -> None:
    # every module, so that every Op subclass is defined (the compat layer only aliases)
    for info in pkgutil.walk_packages(symgraph.__path__, "symgraph."):
        if info.name.startswith(("symgraph.demo", "symgraph.compat")):
            continue
        importlib.import_module(info.name)
    _load_impls()


def _rewrite_only(cls: type) -> bool:
    module = cls.__module__
    return any(module == m or module.startswith(m + ".") for m in REWRITE_ONLY_MODULES)


def _is_abstract_op(cls: type) -> bool:
    # a base such as Reduce or ArgReduce: the real ops are its subclasses, it has no py impl;
    # or a base that says so (the Theano-compat Op, whose subclasses are users' own ops)
    if cls.__dict__.get("__abstract_op__", False):
        return True
    return bool(cls.__subclasses__()) and not has_impl(cls)


def _concrete_ops() -> set[type]:
    _import_symgraph()
    ops = {c for c in _all_subclasses(Op) if c.__module__.startswith("symgraph.")}
    return {c for c in ops if not _is_abstract_op(c) and not _rewrite_only(c)}


def _concrete_scalar_ops() -> set[type]:
    _import_symgraph()
    ops = {c for c in _all_subclasses(ScalarOp) if c.__module__.startswith("symgraph.")}
    return {
        c for c in ops
        if c not in SCALAR_BASES
        and not c.__subclasses__()
        and c.__name__ not in REWRITE_ONLY_SCALAR_OPS
    }


def _ops_in_cases() -> tuple[set[type], set[type]]:
    """The op classes and scalar op classes in the graphs the cases build (as written)."""
    ops: set[type] = set()
    scalar_ops: set[type] = set()
    for case in ALL_CASES:
        out = case.build(*case.variables())
        outputs = list(out) if isinstance(out, (list, tuple)) else [out]
        for node in toposort(outputs):
            ops.add(type(node.op))
            if isinstance(node.op, Elemwise):
                scalar_ops.add(type(node.op.scalar_op))
    return ops, scalar_ops


def test_every_op_appears_in_a_differential_case():
    used, _ = _ops_in_cases()
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in _concrete_ops() - used)
    assert not missing, (
        f"ops that no OpCase in tests/differential/op_cases.py builds: {missing}; add a case "
        "(or, for an op that only rewrites create, an entry in REWRITE_ONLY_MODULES with the "
        "reason)"
    )


def test_every_scalar_op_appears_in_a_differential_case():
    _, used = _ops_in_cases()
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in _concrete_scalar_ops() - used)
    assert not missing, (
        f"scalar ops that no OpCase in tests/differential/op_cases.py applies: {missing}; "
        "add a case"
    )


def test_every_family_function_has_a_case_named_after_it():
    # cases are named '<function>' or '<function>_<variant>', e.g. 'sum_keepdims'
    names = [case.name for case in ALL_CASES]
    missing = []
    for module in FAMILY_MODULES:
        for function in module.__all__:
            if not any(n == function or n.startswith(function + "_") for n in names):
                missing.append(f"{module.__name__}.{function}")
    assert not missing, f"user functions without a differential case named after them: {missing}"


def test_case_names_are_unique():
    names = [case.name for case in ALL_CASES]
    repeated = sorted({n for n in names if names.count(n) > 1})
    assert not repeated, f"OpCase names must be unique (they are the test ids): {repeated}"
