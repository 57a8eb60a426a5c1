"""Every op has a NumPy implementation and a pullback (or an explicit non-differentiable mark);
every scalar op has an implementation and a gradient rule (or an explicit mark)."""

import importlib
import pkgutil

import symgraph
from symgraph.backends.py.dispatch import has_impl
from symgraph.backends.py.impls.scalar import SCALAR_IMPLS
from symgraph.backends.py.runner import _load_impls
from symgraph.gradient.rules import _load_rules, has_pullback
from symgraph.gradient.rules.elemwise import NON_DIFFERENTIABLE_SCALARS, SCALAR_PULLBACKS
from symgraph.graph.op import Op
from symgraph.scalar.op import BinaryFloatOp, PredicateOp, ScalarOp, UnaryFloatOp


def _all_subclasses(cls):
    out = set()
    for sub in cls.__subclasses__():
        out.add(sub)
        out |= _all_subclasses(sub)
    return out


def _import_everything():
    for info in pkgutil.walk_packages(symgraph.__path__, "symgraph."):
        if info.name.startswith(("symgraph.demo", "symgraph.compat")):
            continue
        importlib.import_module(info.name)
    _load_impls()
    _load_rules()


def _concrete_ops():
    _import_everything()
    ops = {c for c in _all_subclasses(Op) if c.__module__.startswith("symgraph.")}
    abstract = {c for c in ops if c.__dict__.get("abstract", False) or getattr(c, "__abstract_op__", False)}
    return sorted(ops - abstract, key=lambda c: c.__qualname__)


def test_every_op_has_a_py_implementation():
    missing = [c.__qualname__ for c in _concrete_ops() if not has_impl(c) and not _is_base(c)]
    assert not missing, f"ops without a py implementation: {missing}"


def test_every_op_has_a_pullback_or_is_marked_non_differentiable():
    missing = [c.__qualname__ for c in _concrete_ops() if not has_pullback(c) and not _is_base(c)]
    assert not missing, f"ops without a pullback or non-differentiable mark: {missing}"


def _is_base(cls):
    # a base class is one whose subclasses are the real ops (e.g. Reduce -> Sum, Max, ...)
    return bool(cls.__subclasses__()) and not has_impl(cls)


def test_every_scalar_op_has_an_implementation_and_a_gradient_rule():
    _import_everything()
    bases = {ScalarOp, UnaryFloatOp, BinaryFloatOp, PredicateOp}
    scalar_ops = {c for c in _all_subclasses(ScalarOp) if c not in bases and not c.__name__.startswith("_")}
    from symgraph import scalar as ps

    # Cast and Composite are handled by compute_scalar itself (they carry parameters)
    missing_impl = [c.__name__ for c in scalar_ops if c not in SCALAR_IMPLS and c not in (ps.Cast, ps.Composite)]
    missing_grad = [c.__name__ for c in scalar_ops if c not in SCALAR_PULLBACKS and c not in NON_DIFFERENTIABLE_SCALARS]
    assert not missing_impl, f"scalar ops without a NumPy implementation: {missing_impl}"
    assert not missing_grad, f"scalar ops without a gradient rule or mark: {missing_grad}"


def test_every_elementwise_function_in_the_api_has_a_differential_case():
    from tests.differential.op_cases import ALL_CASES

    names = {c.name.split("_")[0] for c in ALL_CASES} | {c.name for c in ALL_CASES}
    api = ("exp log log1p expm1 log2 log10 sqrt sqr sin cos tan tanh arcsin arccos arctan arctan2 sinh "
           "cosh arcsinh arccosh arctanh erf erfc erfinv gamma gammaln sigmoid softplus relu abs sign "
           "floor ceil round_half_to_even maximum minimum clip switch where isnan isinf").split()
    missing = [n for n in api if n not in names]
    assert not missing, f"API functions without a differential case: {missing}"
