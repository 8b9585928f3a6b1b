"""multigrad: eager, define-by-run automatic differentiation with PyTorch's autograd semantics.

Ops come from the declarative registry ``ops.yaml`` through a code generator;
kernels come from backend plugins (NumPy by default).
"""

from . import _bind  # noqa: F401  (attaches op methods to Tensor)
from . import _indexing  # noqa: F401  (attaches __getitem__ and __setitem__)
from ._creation import (
    arange, as_tensor, default_generator, empty, empty_like, eye, from_numpy, full, full_like,
    get_default_device, initial_seed, linspace, manual_seed, ones, ones_like, rand, rand_like, randint,
    randn, randn_like, randperm, seed, set_default_device, tensor, zeros, zeros_like,
)
from ._dtype import (
    bool_ as bool, dtype, float16, float32, float64, get_default_dtype, int8, int16, int32, int64,
    promote_types, set_default_dtype, uint8,
)
from ._dtype import float16 as half, float32 as float, float64 as double, int32 as int, int64 as long  # noqa: E501
from ._generated._bindings import FUNCTIONS as _FUNCTIONS
from ._generated import _ops
from ._grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from ._tensor import Size, Tensor, device
from . import autograd
from ._serialization import load, save

for _name in _FUNCTIONS:
    globals()[_name] = getattr(_ops, _name)
del _name

__version__ = "0.1.0"


def is_tensor(obj):
    """Return whether ``obj`` is a multigrad Tensor."""
    return isinstance(obj, Tensor)


# Imported on first use, so that `import multigrad` stays fast.
_LAZY_SUBMODULES = ("nn", "optim", "utils", "datasets", "viz")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'multigrad' has no attribute {name!r}")
