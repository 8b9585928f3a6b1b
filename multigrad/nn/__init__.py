"""Neural-network building blocks: layers (``Module`` subclasses), ``Parameter``, ``init`` and losses."""

from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils", *_modules_all]
