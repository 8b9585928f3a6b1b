"""The Tensor: a backend array plus its autograd state.

Op methods (``exp``, ``add_``, ``__mul__`` ...) are generated from ``ops.yaml``
and attached by ``multigrad._generated``. This module has the state and the
hand-written parts: properties, conversions, ``backward`` and hooks.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable

import numpy as np

from . import _dtype


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``multigrad.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"multigrad.Size({list(self)})"

    def numel(self) -> int:
        """Return the number of elements a tensor of this shape holds."""
        n = 1
        for s in self:
            n *= s
        return n


class device:
    """A device: a backend type name and an index, such as ``opencl:0``.

    ``device("numpy")``, ``device("opencl:1")`` and ``device("opencl", 1)``
    are accepted, and ``"cpu"`` names the NumPy device. The NumPy backend has
    one device, so its index is omitted when printed.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec: "str | device", index: int | None = None) -> None:
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device() expects a string such as 'numpy' or 'opencl:0', got {type(spec).__name__}")
        type_name, _, index_text = spec.partition(":")
        if index_text:
            if index is not None:
                raise ValueError(f"device {spec!r} already has an index; do not pass index={index} too")
            if not index_text.isdigit():
                raise ValueError(f"invalid device string {spec!r}: the index after ':' must be a non-negative integer")
            index = int(index_text)
        if not type_name:
            raise ValueError(f"invalid device string {spec!r}: expected a device type such as 'numpy' or 'opencl:0'")
        if type_name == "cpu":
            # PyTorch's name for host memory: the NumPy backend is multigrad's CPU device.
            type_name = "numpy"
        self.type = type_name
        self.index = index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))


def _nonleaf_grad_warning() -> None:
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
        UserWarning,
        stacklevel=3,
    )


class Tensor:
    """An n-dimensional array on one device that can record its autograd history.

    Create tensors with :func:`multigrad.tensor` and the other factories,
    not with this class directly.
    """

    __slots__ = (
        "_data",             # the backend array
        "_backend",          # the Backend instance of this tensor's device
        "_requires_grad",
        "_grad_fn",          # the Node that produced this tensor, None for leaves
        "_output_nr",        # which output of _grad_fn this tensor is
        "_grad",
        "_version_counter",  # [version, site of the last in-place change], shared with views and detach()
        "_base",             # the tensor this one is a view of, or None
        "_view_replay",      # for a view: the (op, args) chain that rebuilds it from _base
        "_view_version",     # for a view: the version at which its grad_fn was made
        "_hooks",            # list of grad hooks of a leaf, or None
        "_post_accumulate_hooks",
        "_retains_grad",
        "_grad_accumulator",  # weakref to this leaf's AccumulateGrad node, or None
        "__weakref__",
    )

    __array_priority__ = 1000  # make NumPy defer to Tensor's reflected operators

    def __init__(self, *args, **kwargs) -> None:
        raise TypeError("create tensors with multigrad.tensor(data), multigrad.zeros(shape) or another factory function")

    # -- metadata --------------------------------------------------------

    @property
    def shape(self) -> Size:
        """The size of each dimension."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """Return the shape, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtype.dtype:
        """The element type."""
        return _dtype.FROM_NUMPY[self._data.dtype]

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return len(self._data.shape)

    def dim(self) -> int:
        """Return the number of dimensions."""
        return len(self._data.shape)

    def numel(self) -> int:
        """Return the number of elements."""
        n = 1
        for s in self._data.shape:
            n *= s
        return n

    def element_size(self) -> int:
        """Return the size of one element in bytes."""
        return self._data.dtype.itemsize

    def is_floating_point(self) -> bool:
        """Return whether the dtype is a floating-point type."""
        return self._data.dtype.kind == "f"

    @property
    def device(self) -> device:
        """The device where the data lives."""
        backend = self._backend
        if backend.device_count() == 1 and backend.index == 0 and backend.type_name == "numpy":
            return device(backend.type_name)
        return device(backend.type_name, backend.index)

    @property
    def is_cuda(self) -> bool:
        return False

    def __len__(self) -> int:
        if not self._data.shape:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # -- autograd state --------------------------------------------------

    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place on a leaf and return ``self``."""
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be a bool, got {type(requires_grad).__name__}")
        if self._grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype!r}; "
                f"convert first, for example with .float()"
            )
        self._requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """Whether this tensor has no ``grad_fn``: created by the user, or not requiring grad."""
        return self._grad_fn is None

    @property
    def grad_fn(self):
        """The Node that produced this tensor, or None for a leaf."""
        if self._base is not None and self._view_version != self._version_counter[0]:
            from ._views import refresh_view

            refresh_view(self)
        return self._grad_fn

    @property
    def grad(self) -> "Tensor | None":
        """The accumulated gradient of a leaf, or of a non-leaf after :meth:`retain_grad`."""
        if self._grad_fn is not None and self._grad is None and not self.retains_grad:
            _nonleaf_grad_warning()
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._backend is not self._backend:
                raise RuntimeError(f"assigned grad has data located on {value.device}, different from the tensor's device {self.device}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: {value.dtype!r}, expected {self.dtype!r}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: {list(value._data.shape)}, expected {list(self._data.shape)}"
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        """Whether this non-leaf keeps its ``.grad`` during backward."""
        return getattr(self, "_retains_grad", False)

    @property
    def _version(self) -> int:
        return self._version_counter[0]

    # -- data and detach -------------------------------------------------

    @property
    def data(self) -> "Tensor":
        """A tensor sharing this one's memory, outside autograd and with its own version counter."""
        return _wrap(self._data, self._backend)

    @data.setter
    def data(self, value: "Tensor") -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        if self._requires_grad and value._data.dtype.kind != "f":
            raise RuntimeError(f"data set to a tensor of dtype {value.dtype!r}, but this tensor requires grad and must stay floating point")
        self._data = value._data
        self._backend = value._backend
        # The tensor now owns other memory: it is no longer a view, and its versions count anew.
        self._base = None
        self._version_counter = [0, None]

    def detach(self) -> "Tensor":
        """Return a tensor sharing this one's memory and version counter, without history."""
        out = _wrap(self._data, self._backend)
        out._version_counter = self._version_counter
        return out

    def detach_(self) -> "Tensor":
        """Detach this tensor from its history in place and return it."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    # -- conversions -----------------------------------------------------

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """Return the data as a NumPy array (a copy for devices other than NumPy).

        On the NumPy device the array shares memory with the tensor, as
        ``torch.Tensor.numpy`` does on the CPU.
        """
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._backend.to_numpy(self._data)

    def tolist(self):
        """Return the data as (nested lists of) Python numbers."""
        return self._backend.to_numpy(self._data).tolist()

    def item(self):
        """Return the value of a one-element tensor as a Python number."""
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._backend.to_numpy(self._data).reshape(()).item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"Boolean value of Tensor with {n} elements is ambiguous")
        return bool(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        array = self._backend.to_numpy(self._data)
        return array if dtype is None else array.astype(dtype)

    def __hash__(self) -> int:
        return id(self)

    def __iter__(self):
        if not self._data.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __repr__(self) -> str:
        from ._repr import tensor_repr

        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        raise TypeError("multigrad tensors are not pickled; save them with multigrad.save(obj, path)")

    def __deepcopy__(self, memo: dict) -> "Tensor":
        """Return a copy with its own memory; only leaves can be copied, as in PyTorch."""
        if id(self) in memo:
            return memo[id(self)]
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol; "
                "copy a computed tensor with .detach().clone()"
            )
        copy = _wrap(self._backend.clone(self._data), self._backend)
        copy._requires_grad = self._requires_grad
        if self._grad is not None:
            copy._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = copy
        return copy

    # -- backward and hooks ----------------------------------------------

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the leaves' ``.grad``.

        Args:
            gradient: the gradient with respect to this tensor; may be omitted
                for a one-element tensor, where it is 1.
            retain_graph: keep the saved tensors so that backward can run
                through this graph again; defaults to ``create_graph``.
            create_graph: record the backward computation, for higher-order
                gradients.
            inputs: accumulate only into these tensors' ``.grad``.
        """
        from . import _engine

        _engine.backward([self], None if gradient is None else [gradient], retain_graph, create_graph, inputs)

    def register_hook(self, hook: Callable[["Tensor"], "Tensor | None"]):
        """Register ``hook(grad)`` to run when the gradient of this tensor is computed.

        A tensor returned by the hook replaces the gradient. Returns a handle
        whose ``remove()`` unregisters the hook.
        """
        from ._node import RemovableHandle

        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        if self._grad_fn is None:
            hooks = getattr(self, "_hooks", None)
            if hooks is None:
                hooks = self._hooks = {}
        else:
            hooks = self._grad_fn._tensor_pre_hooks_for(self._output_nr)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[["Tensor"], None]):
        """Register ``hook(tensor)`` to run on a leaf after its ``.grad`` has been accumulated."""
        from ._node import RemovableHandle

        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = getattr(self, "_post_accumulate_hooks", None)
        if hooks is None:
            hooks = self._post_accumulate_hooks = {}
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Make this non-leaf keep its gradient in ``.grad`` during backward (no-op on leaves)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self.retains_grad:
            return
        self._retains_grad = True
        self._grad_fn._add_retain_grad(self._output_nr, weakref.ref(self))

    # -- device and dtype moves ------------------------------------------

    # to, type_as and the casts (float, double, long, ...) are ops of ops.yaml.

    @property
    def T(self) -> "Tensor":
        """The tensor with its dimensions reversed (a view)."""
        return self.permute(tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self) -> "Tensor":
        """The tensor with its last two dimensions swapped (a view); needs at least two dimensions."""
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    def is_contiguous(self) -> bool:
        """Return whether the elements lie in memory in row-major order without gaps."""
        return bool(self._backend.is_contiguous(self._data))

    def stride(self, dim: int | None = None):
        """Return the step in elements between neighbours along each dimension, or along ``dim``.

        An expanded dimension has stride 0, and a transposed view has its
        base's strides swapped, as in PyTorch.
        """
        strides = tuple(int(s) for s in self._backend.element_strides(self._data))
        if dim is None:
            return strides
        if not strides:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return strides[_wrap_dim(dim, len(strides))]

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Return zeros of ``size`` with this tensor's dtype and device unless given."""
        from ._creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Return ones of ``size`` with this tensor's dtype and device unless given."""
        from ._creation import ones

        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Return a tensor of ``size`` filled with ``fill_value``, with this tensor's dtype and device unless given."""
        from ._creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Return a tensor of ``size`` (filled with zeros) with this tensor's dtype and device unless given."""
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Return a copy of ``data`` as a tensor with this tensor's dtype and device unless given."""
        from ._creation import tensor

        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def cpu(self) -> "Tensor":
        """Return this tensor on the NumPy device."""
        return self.to("numpy")


def _wrap_dim(dim: int, ndim: int) -> int:
    """Return ``dim`` as a non-negative index, or raise PyTorch's out-of-range error."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})")
    return dim + rank if dim < 0 else dim


_new_tensor = object.__new__


def _wrap(data: Any, backend) -> Tensor:
    """Return a new leaf tensor that owns ``data``, outside autograd."""
    t = _new_tensor(Tensor)
    t._data = data
    t._backend = backend
    t._requires_grad = False
    t._grad_fn = None
    t._output_nr = 0
    t._grad = None
    t._version_counter = [0, None]
    t._base = None
    return t

