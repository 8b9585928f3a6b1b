"""Checks that every registry op and sample run alike in a library under test and in a reference.

:func:`collect_cases` lists one :class:`Case` per op and sample, and a case
without a sample for an op that declares none, which fails. For a case,
:func:`check_against_reference` compares forward values and the gradient of
every float tensor input, and :func:`check_gradcheck` runs gradcheck (or
gradgradcheck) in float64 on the library under test.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass

import numpy as np

from .libraries import Library, MultigradLibrary
from .samples import DtypeInput, IndexInput, SampleInputs, TensorInput, _without_line_numbers, make_inputs
from .special import GRADCHECK_SKIPS, SPECIAL_OPS, Equivalent, Skip, Through
from .tolerances import GRADCHECK, tolerance

__all__ = [
    "Case", "CheckFailure", "MissingSamples", "SkipCase", "collect_cases", "default_registry_path",
    "load_cases", "check_against_reference", "check_gradcheck",
]


class CheckFailure(AssertionError):
    """Raised when an op disagrees with the reference or fails gradcheck; the message names the op, sample and difference."""


class MissingSamples(CheckFailure):
    """Raised for an op that declares no samples, so the suite cannot check it."""


class SkipCase(Exception):
    """Raised when a case cannot run (an op in the skip table, a dtype the device lacks)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Case:
    """One sample of one op; ``sample`` is None for an op that declares no samples."""

    op: object  # multigrad_codegen.model.Op
    sample_index: int | None
    sample: dict | None
    registry_path: str

    @property
    def id(self) -> str:
        return self.op.name if self.sample is None else f"{self.op.name}-{self.sample_index}"

    @property
    def where(self) -> str:
        sample = "no sample" if self.sample is None else f"sample {self.sample_index} {_without_line_numbers(self.sample)}"
        return f"op '{self.op.name}' ({os.path.basename(self.registry_path)}:{self.op.line}), {sample}"


def default_registry_path() -> str:
    """Return ``$MULTIGRAD_REGISTRY`` if set, else the ``ops.yaml`` of the checkout that multigrad is imported from."""
    import multigrad

    if os.environ.get("MULTIGRAD_REGISTRY"):
        return os.environ["MULTIGRAD_REGISTRY"]
    # NOTE: ops.yaml sits in the source checkout; a wheel install does not ship it.
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(multigrad.__file__))), "ops.yaml")


def collect_cases(registry) -> list[Case]:
    """Return one case per sample of every op in ``registry``, in file order."""
    cases = []
    for op in registry.ops:
        if not op.samples:
            cases.append(Case(op, None, None, registry.path))
            continue
        for index, sample in enumerate(op.samples):
            cases.append(Case(op, index, sample, registry.path))
    return cases


def load_cases(path: str | None = None) -> list[Case]:
    """Load the registry at ``path`` (default: the checkout's ops.yaml) and return its cases."""
    from multigrad_codegen import load_registry

    return collect_cases(load_registry(path or default_registry_path()))


# -- calling an op ----------------------------------------------------------------


def _require_samples(case: Case) -> SampleInputs:
    if case.sample is None:
        raise MissingSamples(
            f"{case.where}: the op declares no samples, so the test suite cannot check it. Add at least one "
            f"under 'samples:' in ops.yaml: 'args' gives a shape per Tensor argument and a value otherwise "
            f"(see the header of ops.yaml)."
        )
    try:
        return make_inputs(case.op, case.sample, case.sample_index)
    except ValueError as error:
        raise CheckFailure(f"{case.where}: invalid sample: {error}") from None


def resolve_call(op, library: Library):
    """Return ``call(*args, **kwargs)`` that runs ``op`` in ``library``, and the special-table entry or None."""
    special = SPECIAL_OPS.get(op.name)
    if isinstance(special, Skip):
        raise SkipCase(f"op '{op.name}' is skipped: {special.reason}")
    if isinstance(special, Through):
        return (lambda *args, **kwargs: special.call(library.module, *args, **kwargs)), special
    if isinstance(special, Equivalent):
        if isinstance(library, MultigradLibrary):
            return _private_function(op.name), special
        return (lambda *args, **kwargs: special.call(library.module, *args, **kwargs)), special
    if op.name.startswith("_"):
        raise CheckFailure(
            f"private op '{op.name}' has no entry in SPECIAL_OPS (multigrad/testing/special.py); add a "
            f"Through expression over public API that reaches it, or a Skip with the reason"
        )

    if "function" in op.variants or not op.variants:
        # Ops without variants are public only in nn.functional, so they are looked up there first.
        function = library.function(op.name, functional_first=not op.variants)
        if function is None:
            raise CheckFailure(
                f"{library.name} has no function '{op.name}' to run op '{op.name}'; add an entry to SPECIAL_OPS "
                f"(multigrad/testing/special.py)"
            )
        return function, None
    if "method" in op.variants:
        return _method_call(op.name), None
    return _method_call(op.name + "_"), None


def _private_function(name: str):
    from multigrad._generated import _ops

    return getattr(_ops, name)


def _method_call(name: str):
    # In-place methods run on a clone, because in-place ops on leaves that require grad raise.
    def call(self, *args, **kwargs):
        target = self.clone() if name.endswith("_") else self
        return getattr(target, name)(*args, **kwargs)

    return call


def _materialize(inputs: SampleInputs, library: Library, dtype_name: str):
    """Turn sample inputs into ``library`` values; return ``(args, kwargs, leaves)``.

    Float tensors take ``dtype_name``; those that require grad (all but the sample's
    ``no_grad_args``) are the leaves.
    """
    leaves = []

    def convert(value):
        if isinstance(value, TensorInput):
            if value.floating:
                t = library.tensor(value.array, dtype_name, requires_grad=value.requires_grad)
                if value.requires_grad:
                    leaves.append(t)
                return t
            return library.tensor(value.array, str(value.array.dtype), requires_grad=False)
        if isinstance(value, list) and value and all(isinstance(v, TensorInput) for v in value):
            return [convert(v) for v in value]
        if isinstance(value, IndexInput):
            return _index_value(value.index, library)
        if isinstance(value, DtypeInput):
            return library.dtype(value.name)
        return value

    args = [convert(v) for v in inputs.args]
    kwargs = {k: convert(v) for k, v in inputs.kwargs.items()}
    return args, kwargs, leaves


def _index_value(index, library: Library):
    if isinstance(index, tuple):
        return tuple(_index_value(item, library) for item in index)
    if isinstance(index, list):
        return library.index_tensor(index)
    return index


def _outputs(result, library: Library) -> list:
    if library.is_tensor(result):
        return [result]
    if isinstance(result, (tuple, list)):
        return list(result)
    return [result]


def _run(case: Case, library: Library, call, args, kwargs):
    try:
        return _outputs(call(*args, **kwargs), library)
    except SkipCase:
        raise
    except Exception as error:  # the op's own error is the finding
        # A device that lacks a dtype the op produces (float16 on OpenCL) must name it in its error, which counts as a pass.
        if isinstance(error, TypeError) and "is not supported on device" in str(error):
            raise SkipCase(f"{case.where}: {library.name} rejects the dtype as documented: {error}") from error
        raise CheckFailure(f"{case.where}: {library.name} raised {type(error).__name__}: {error}") from error


# -- comparing with a reference ------------------------------------------------------


def check_against_reference(case: Case, dtype_name: str, library: Library, reference: Library) -> None:
    """Run ``case`` in ``library`` and ``reference`` with float tensors of ``dtype_name``; compare everything.

    Compared: the number of outputs; each output's shape, dtype, values,
    ``requires_grad`` and whether it is a view; and the gradient of every float
    tensor input for random ``grad_outputs``.

    Raises:
        CheckFailure: on the first difference, naming the op, sample, dtype and what differs.
        MissingSamples: when the op declares no samples.
        SkipCase: when the op is in the skip table or the device lacks the dtype.
    """
    inputs = _require_samples(case)
    _require_dtype(library, dtype_name)
    where = f"{case.where}, {dtype_name}"
    call, special = resolve_call(case.op, library)
    reference_call, _ = resolve_call(case.op, reference)

    args, kwargs, leaves = _materialize(inputs, library, dtype_name)
    ref_args, ref_kwargs, ref_leaves = _materialize(inputs, reference, dtype_name)
    try:
        expected = _outputs(reference_call(*ref_args, **ref_kwargs), reference)
    except Exception as error:
        raise CheckFailure(f"{where}: the reference {reference.name} rejects the sample ({type(error).__name__}: {error}); fix the sample") from error
    actual = _run(case, library, call, args, kwargs)

    _compare_outputs(where, actual, expected, args, ref_args, library, reference)
    if special is not None and special.check_node:
        _check_node(where, case.op, actual, library, special)
    _compare_gradients(where, case, actual, expected, leaves, ref_leaves, library, reference)


def _require_dtype(library: Library, dtype_name: str) -> None:
    supports = getattr(library, "supports", None)
    if supports is not None and not supports(dtype_name):
        raise SkipCase(f"{library.name} does not support {dtype_name}")


def _compare_outputs(where: str, actual: list, expected: list, args: list, ref_args: list, library: Library,
                     reference: Library) -> None:
    if len(actual) != len(expected):
        raise CheckFailure(f"{where}: {library.name} returns {len(actual)} outputs, {reference.name} {len(expected)}")
    for k, (a, e) in enumerate(zip(actual, expected)):
        what = f"output {k}"
        if not reference.is_tensor(e):
            if library.is_tensor(a) or a != e:
                raise CheckFailure(f"{where}: {what} is {a!r} in {library.name}, {e!r} in {reference.name}")
            continue
        if not library.is_tensor(a):
            raise CheckFailure(f"{where}: {what} is a {type(a).__name__} in {library.name}, a tensor in {reference.name}")
        _compare_tensors(where, what, a, e, library, reference)
        if bool(a.requires_grad) != bool(e.requires_grad):
            raise CheckFailure(f"{where}: {what} has requires_grad={a.requires_grad} in {library.name}, {e.requires_grad} in {reference.name}")
        # A view of an intermediate tensor is invisible to the caller, so only views of inputs count.
        a_view, e_view = library.is_view_of(a, args), reference.is_view_of(e, ref_args)
        if a_view != e_view:
            raise CheckFailure(
                f"{where}: {what} is {'a view' if a_view else 'not a view'} of an input in {library.name}, "
                f"{'a view' if e_view else 'not a view'} in {reference.name}"
            )


def _compare_tensors(where: str, what: str, a, e, library: Library, reference: Library) -> None:
    a_dtype, e_dtype = library.dtype_name(a), reference.dtype_name(e)
    if a_dtype != e_dtype:
        raise CheckFailure(f"{where}: {what} has dtype {a_dtype} in {library.name}, {e_dtype} in {reference.name}")
    a_values, e_values = library.to_numpy(a), reference.to_numpy(e)
    if a_values.shape != e_values.shape:
        raise CheckFailure(f"{where}: {what} has shape {list(a_values.shape)} in {library.name}, {list(e_values.shape)} in {reference.name}")
    problem = compare_arrays(a_values, e_values, tolerance(e_dtype))
    if problem:
        raise CheckFailure(f"{where}: {what} differs: {problem}\n{library.name}:\n{a_values}\n{reference.name}:\n{e_values}")


def compare_arrays(actual: np.ndarray, expected: np.ndarray, tol: dict) -> str | None:
    """Return a description of where ``actual`` and ``expected`` differ beyond ``tol``, or None."""
    if actual.dtype.kind in "fc" or expected.dtype.kind in "fc":
        a, e = actual.astype(np.float64), expected.astype(np.float64)
        same_nan = np.isnan(a) & np.isnan(e)
        bad = ~same_nan & ~(np.abs(a - e) <= tol["atol"] + tol["rtol"] * np.abs(e))
    else:
        a, e = actual, expected
        bad = a != e
    if not np.any(bad):
        return None
    flat = int(np.argmax(np.reshape(bad, -1)))
    element = tuple(int(i) for i in np.unravel_index(flat, bad.shape)) if bad.shape else ()
    return (
        f"{int(np.sum(bad))} of {bad.size} elements differ beyond rtol={tol['rtol']}, atol={tol['atol']}; "
        f"first at {element}: {a[element]!r} vs {e[element]!r}"
    )


def _check_node(where: str, op, actual: list, library: Library, special: Through) -> None:
    out = actual[0]
    if not library.is_tensor(out) or not out.requires_grad:
        return
    name = library.node_name(out)
    if name is not None and name != op.node_name:
        raise CheckFailure(
            f"{where}: {special.expression} did not reach the op: its result's grad_fn is {name}, "
            f"expected {op.node_name}; change the expression in SPECIAL_OPS or the sample"
        )


def _compare_gradients(where, case, actual, expected, leaves, ref_leaves, library, reference) -> None:
    differentiable = [
        k for k, e in enumerate(expected)
        if reference.is_tensor(e) and e.requires_grad and reference.dtype_name(e).startswith("float")
    ]
    if not differentiable or not ref_leaves:
        return
    for k in differentiable:
        if not actual[k].requires_grad:
            raise CheckFailure(f"{where}: output {k} requires grad in {reference.name} but not in {library.name}")

    rng = np.random.default_rng(zlib.crc32(f"grad:{case.id}".encode()))
    arrays = [rng.uniform(-1.0, 1.0, size=tuple(expected[k].shape)) for k in differentiable]
    grad_outputs = [library.tensor(g, library.dtype_name(actual[k]), False) for g, k in zip(arrays, differentiable)]
    ref_grad_outputs = [reference.tensor(g, reference.dtype_name(expected[k]), False) for g, k in zip(arrays, differentiable)]

    ref_grads = reference.grad([expected[k] for k in differentiable], ref_leaves, ref_grad_outputs)
    try:
        grads = library.grad([actual[k] for k in differentiable], leaves, grad_outputs)
    except Exception as error:  # the backward's own error is the finding
        raise CheckFailure(f"{where}: backward in {library.name} raised {type(error).__name__}: {error}") from error

    for i, (g, e) in enumerate(zip(grads, ref_grads)):
        what = f"gradient of float input {i}"
        if g is None and e is None:
            continue
        if g is None or e is None:
            raise CheckFailure(
                f"{where}: {what} is {'None' if g is None else 'a tensor'} in {library.name}, "
                f"{'None' if e is None else 'a tensor'} in {reference.name}"
            )
        _compare_tensors(where, what, g, e, library, reference)


# -- numerical checks ------------------------------------------------------------------


def check_gradcheck(case: Case, library: Library, second_order: bool = False) -> None:
    """Run gradcheck (or, with ``second_order``, gradgradcheck) on ``case`` in float64 in ``library``.

    Raises:
        CheckFailure: with gradcheck's message when the Jacobians disagree or backward raises.
        SkipCase: when the case has no float tensor input or no float output, or the device lacks float64.
    """
    from multigrad.autograd import GradcheckError, gradcheck, gradgradcheck

    inputs = _require_samples(case)
    _require_dtype(library, "float64")
    reason = GRADCHECK_SKIPS.get((case.op.name, case.sample_index))
    if reason:
        raise SkipCase(f"{case.where}: gradcheck is skipped: {reason}")
    where = f"{case.where}, float64"
    call, _ = resolve_call(case.op, library)
    args, kwargs, leaves = _materialize(inputs, library, "float64")
    if not leaves:
        raise SkipCase(f"{case.where}: no float tensor input to differentiate")
    outputs = _run(case, library, call, args, kwargs)
    if not any(library.is_tensor(o) and library.dtype_name(o).startswith("float") for o in outputs):
        raise SkipCase(f"{case.where}: no float output to differentiate")

    def func(*new_leaves):
        mapping = {id(old): new for old, new in zip(leaves, new_leaves)}
        return tuple(o for o in _outputs(call(*_swap(args, mapping), **_swap(kwargs, mapping)), library) if library.is_tensor(o))

    check = gradgradcheck if second_order else gradcheck
    try:
        check(func, tuple(leaves), **GRADCHECK)
    except GradcheckError as error:
        raise CheckFailure(f"{where}: {check.__name__} failed: {error}") from error
    except Exception as error:  # an error in backward or double backward is the finding
        raise CheckFailure(f"{where}: {check.__name__} raised {type(error).__name__}: {error}") from error


def _swap(value, mapping: dict):
    if isinstance(value, dict):
        return {k: _swap(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, mapping) for v in value]
    return mapping.get(id(value), value)
