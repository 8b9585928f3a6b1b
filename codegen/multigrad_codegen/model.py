"""Typed records of the op registry."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Argument types of the signature language, and what each accepts at run time.
ARG_TYPES = {
    "Tensor": "a Tensor",
    "Tensor?": "a Tensor or None",
    "Tensor|Scalar": "a Tensor or a Python number",
    "Tensor[]": "a sequence of Tensors",
    "Any...": "any values as separate arguments (python forwards only)",
    "Tensor...": "Tensors as separate arguments or one sequence (python forwards only)",
    "Scalar": "a Python number",
    "Scalar?": "a Python number or None",
    "int": "an int",
    "int?": "an int or None",
    "int[]": "an int or a sequence of ints",
    "int[]?": "an int, a sequence of ints, or None",
    "int...": "ints as separate arguments or one sequence",
    "float": "a float",
    "float?": "a float or None",
    "bool": "a bool",
    "bool?": "a bool or None",
    "str": "a string",
    "str?": "a string or None",
    "dtype?": "a multigrad dtype or None",
    "Device?": "a device or None",
    "Index": "an index: int, slice, None, Ellipsis, Tensor, or a tuple of them",
    "Any": "any value",
}

TENSOR_TYPES = {"Tensor", "Tensor?", "Tensor|Scalar"}


@dataclass
class Arg:
    """One argument of an op's signature."""

    name: str
    type: str
    default: str | None = None  # Python source of the default value, None when required
    keyword_only: bool = False

    @property
    def is_tensor(self) -> bool:
        return self.type in TENSOR_TYPES

    @property
    def may_be_scalar(self) -> bool:
        return self.type == "Tensor|Scalar"


@dataclass
class Op:
    """One entry of ``ops.yaml``, validated."""

    name: str
    line: int
    args: list[Arg]
    returns: list[str]
    doc: str
    variants: list[str]                      # function, method, inplace
    operator: str | None                     # Python operator family: 'mul' gives __mul__, __rmul__, __imul__
    dtype_rule: str                          # promote, float, bool, keep, none
    kernel: str | None                       # backend kernel of a primitive
    composite: str | None                    # formula of a composite forward
    python: str | None                       # hand-written forward in multigrad._composites
    derivatives: dict[str, str]              # input name -> formula
    samples: list[dict]
    broadcast: bool = False
    view: bool = False
    node_name: str = ""
    saved: dict = field(default_factory=dict)     # filled by formula analysis
    rewritten: dict = field(default_factory=dict)  # input name -> formula source after rewriting
    nondifferentiable: bool = False
    bool_error: str | None = None            # message raised when a tensor argument is bool

    @property
    def tensor_args(self) -> list[Arg]:
        return [a for a in self.args if a.is_tensor]

    @property
    def is_primitive(self) -> bool:
        return self.kernel is not None

    @property
    def fits_gradients(self) -> bool:
        """Whether input gradients are fitted to their input's shape and dtype in backward.

        Broadcasting changes shapes, and a ``dtype`` argument (``sum(x, dtype=...)``)
        changes the dtype, so the gradient is summed back and cast back, as
        PyTorch does on every edge.
        """
        return self.broadcast or any(a.type == "dtype?" for a in self.args)


@dataclass
class Registry:
    """Every op of ``ops.yaml``, in file order."""

    ops: list[Op]
    path: str

    def by_name(self) -> dict[str, Op]:
        return {op.name: op for op in self.ops}
