"""Turn the ``samples`` of a registry op into concrete arguments, independent of any library.

A sample in ``ops.yaml`` gives one entry of ``args`` per positional argument
and optional ``kwargs``, read by the argument's declared type:

- ``Tensor`` (and ``Tensor?``, ``Tensor|Scalar``): a list of ints is a shape,
  filled with uniform random values in ``domain`` (default [-2, 2]).
  ``Tensor|Scalar`` also takes a number, passed as a Python scalar, and
  ``Tensor?`` takes null for None.
- ``Tensor[]`` and ``Tensor...``: a list of shapes (``Tensor...`` passes the tensors one by one).
- ``Index``: a string in Python's subscript syntax, such as ``"1:3, None, ::2"``.
- ``dtype?``: a dtype name such as ``float64``.
- anything else: the value itself.

Optional keys mark tensor arguments by position (or keyword name):
``bool_args: [0]`` fills them with random bools; ``int_args`` fills them with
random int64 values, drawn from ``domain`` for a list (``int_args: [1]``) or
from each argument's own ``[low, high)`` for a mapping (``int_args: {1: [0, 5]}``);
``tensor_args: [1, 2]`` makes shapes given to ``Any`` arguments random tensors;
``no_grad_args: [2]`` keeps float tensors from requiring grad (PyTorch rejects
``requires_grad`` on some, such as the class weights of nll_loss).
Float tensors take the dtype under test.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._index import parse_index

__all__ = ["TensorInput", "IndexInput", "DtypeInput", "SampleInputs", "make_inputs", "DEFAULT_DOMAIN"]

DEFAULT_DOMAIN = (-2.0, 2.0)


@dataclass
class TensorInput:
    """A tensor argument: its values, and whether it takes the float dtype under test."""

    array: np.ndarray  # float64 values for float tensors, bool or int64 otherwise
    floating: bool
    requires_grad: bool = True  # for float tensors; False for the sample's no_grad_args


@dataclass
class IndexInput:
    """An ``Index`` argument; lists inside become integer or bool index tensors."""

    index: Any
    text: str


@dataclass
class DtypeInput:
    """A ``dtype?`` argument, by name (``float64``)."""

    name: str


@dataclass
class SampleInputs:
    """The arguments of one sample, before any library turns them into tensors."""

    args: list
    kwargs: dict = field(default_factory=dict)


def seed_for(op_name: str, sample_index: int) -> int:
    """Return a seed that is stable across runs and machines for one sample of one op."""
    return zlib.crc32(f"{op_name}:{sample_index}".encode())


def make_inputs(op, sample: dict, sample_index: int) -> SampleInputs:
    """Build the arguments of ``sample`` for ``op`` (a registry Op record), with a seed of their own."""
    sample = _without_line_numbers(sample)
    rng = np.random.default_rng(seed_for(op.name, sample_index))
    low, high = sample.get("domain", DEFAULT_DOMAIN)
    bool_args = set(sample.get("bool_args", ()))
    int_args = sample.get("int_args", {})
    if not isinstance(int_args, dict):
        int_args = {key: (low, high) for key in int_args}
    tensor_args = set(sample.get("tensor_args", ()))
    no_grad_args = set(sample.get("no_grad_args", ()))
    positional = [a for a in op.args if not a.keyword_only]
    by_name = {a.name: a for a in op.args}

    raw_args = list(sample["args"])
    if len(raw_args) > len(op.args):
        raise ValueError(f"op '{op.name}': sample {sample_index} has {len(raw_args)} args, but the signature has {len(op.args)}")

    args = []
    for position, value in enumerate(raw_args):
        arg = positional[position] if position < len(positional) else op.args[position]
        kind = _tensor_kind(position, arg.name, bool_args, int_args, tensor_args)
        converted = _make_value(arg, value, kind, rng, low, high, op.name, sample_index)
        if position in no_grad_args or arg.name in no_grad_args:
            _without_grad(converted)
        if arg.type == "Tensor...":
            args.extend(converted)  # variadic tensors are passed one by one
        else:
            args.append(converted)
    kwargs = {}
    for name, value in (sample.get("kwargs") or {}).items():
        if name not in by_name:
            raise ValueError(f"op '{op.name}': sample {sample_index} passes unknown keyword '{name}'")
        kind = _tensor_kind(None, name, bool_args, int_args, tensor_args)
        kwargs[name] = _make_value(by_name[name], value, kind, rng, low, high, op.name, sample_index)
        if name in no_grad_args:
            _without_grad(kwargs[name])
    return SampleInputs(args, kwargs)


def _without_grad(value) -> None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, TensorInput):
            item.requires_grad = False


def _without_line_numbers(value):
    """Drop the ``__line__`` keys that the registry loader adds to every YAML mapping."""
    if isinstance(value, dict):
        return {k: _without_line_numbers(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_without_line_numbers(v) for v in value]
    return value


def _tensor_kind(position, name: str, bool_args: set, int_args: dict, tensor_args: set):
    """Return "bool", ("int", low, high), "float", or "forced float" for an ``Any`` argument in tensor_args."""
    if position in bool_args or name in bool_args:
        return "bool"
    for key in (position, name):
        if key in int_args:
            low, high = int_args[key]
            return ("int", low, high)
    if position in tensor_args or name in tensor_args:
        return "forced float"
    return "float"


def _make_value(arg, value, kind, rng, low: float, high: float, op_name: str, sample_index: int):
    where = f"op '{op_name}': sample {sample_index}, argument '{arg.name}'"
    if kind == "forced float" or (kind != "float" and not arg.is_tensor and arg.type not in ("Tensor[]", "Tensor...")):
        if not _is_shape(value):
            raise ValueError(f"{where} is marked as a tensor: give a shape (a list of ints), got {value!r}")
        return _random_tensor(value, "float" if kind == "forced float" else kind, rng, low, high)
    if arg.type in ("Tensor[]", "Tensor..."):
        if not isinstance(value, list) or not all(_is_shape(v) for v in value):
            raise ValueError(f"{where} is {arg.type}: give a list of shapes, got {value!r}")
        return [_random_tensor(shape, kind, rng, low, high) for shape in value]
    if arg.is_tensor:
        if value is None and arg.type == "Tensor?":
            return None
        if _is_shape(value):
            return _random_tensor(value, kind, rng, low, high)
        if arg.may_be_scalar and isinstance(value, (int, float)):
            return value
        raise ValueError(f"{where} is {arg.type}: give a shape (a list of ints) or, for Tensor|Scalar, a number; got {value!r}")
    if arg.type == "Index":
        return IndexInput(parse_index(value), value)
    if arg.type == "dtype?" and isinstance(value, str):
        return DtypeInput(value)
    return value


def _is_shape(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)


def _random_tensor(shape, kind, rng, low: float, high: float) -> TensorInput:
    shape = tuple(shape)
    if kind == "bool":
        return TensorInput(np.asarray(rng.random(shape) < 0.5), floating=False)
    if isinstance(kind, tuple):
        _, int_low, int_high = kind
        values = rng.integers(int(int_low), int(int_high), size=shape)
        return TensorInput(np.asarray(values, dtype=np.int64), floating=False)
    return TensorInput(np.asarray(rng.uniform(low, high, size=shape), dtype=np.float64), floating=True)
