"""``Module``: the base class of layers and models, with parameter and buffer registration."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

from ..._grad_mode import is_grad_enabled, no_grad
from ..._node import RemovableHandle
from ..._tensor import Tensor
from ...autograd.function import Function
from ..parameter import Parameter


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """The keys that ``load_state_dict(strict=False)`` found missing or unexpected."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def _addindent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _type_name(value: object) -> str:
    if isinstance(value, Tensor):
        from ..._dtype import TYPE_NAMES

        return f"multigrad.{TYPE_NAMES[value.dtype]}"
    return f"{type(value).__module__}.{type(value).__qualname__}"


class _BackwardHookCall:
    """The full backward hooks of one module call, run by identity Functions around its inputs and outputs.

    Backward reaches the outputs' Function first, which records grad_output
    and runs the pre-hooks, then the inputs' Function, which runs the hooks.
    """

    def __init__(self, module: "Module") -> None:
        self.module = module
        self.grad_output: tuple = ()
        self.input_count = 0
        self.inputs_need_grad = False

    def wrap_inputs(self, args: tuple) -> tuple:
        self.input_count = len(args)
        self.inputs_need_grad = any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if not self.inputs_need_grad:
            return args
        return _InputsHookFunction.apply(self, *args)

    def wrap_outputs(self, output: Any) -> Any:
        single = isinstance(output, Tensor)
        outputs = (output,) if single else output
        if not isinstance(outputs, tuple) or not any(isinstance(o, Tensor) and o.requires_grad for o in outputs):
            return output
        wrapped = _OutputsHookFunction.apply(self, *outputs)
        return wrapped[0] if single else wrapped

    def record_grad_output(self, grad_output: tuple) -> tuple:
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _as_gradient_tuple(result, len(grad_output), "full backward pre-hook")
        self.grad_output = grad_output
        if not self.inputs_need_grad:
            self.run_hooks((None,) * self.input_count)
        return grad_output

    def run_hooks(self, grad_input: tuple) -> tuple:
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _as_gradient_tuple(result, len(grad_input), "full backward hook")
        return grad_input


class _InputsHookFunction(Function):
    """Identity on a module's inputs whose backward runs the module's full backward hooks."""

    @staticmethod
    def forward(ctx, call, *inputs):
        ctx.call = call
        ctx.set_materialize_grads(False)
        # An input that needs no gradient stays without one, and its hook entry is zeros, as in PyTorch.
        ctx.constant_inputs = [(a.shape, a.dtype, a.device) if isinstance(a, Tensor) and not a.requires_grad else None
                               for a in inputs]
        ctx.mark_non_differentiable(*[a for a, constant in zip(inputs, ctx.constant_inputs) if constant])
        return inputs

    @staticmethod
    def backward(ctx, *grad_input):
        from ..._creation import zeros

        grad_input = tuple(g if constant is None else zeros(constant[0], dtype=constant[1], device=constant[2])
                           for g, constant in zip(grad_input, ctx.constant_inputs))
        return (None,) + ctx.call.run_hooks(grad_input)


class _OutputsHookFunction(Function):
    """Identity on a module's outputs whose backward records grad_output and runs the pre-hooks."""

    @staticmethod
    def forward(ctx, call, *outputs):
        ctx.call = call
        ctx.set_materialize_grads(False)
        return outputs

    @staticmethod
    def backward(ctx, *grad_output):
        return (None,) + ctx.call.record_grad_output(grad_output)


def _as_gradient_tuple(result: Any, count: int, kind: str) -> tuple:
    """Return a hook's replacement gradients as a tuple, after checking their number."""
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != count:
        raise RuntimeError(f"a {kind} returned {len(result)} gradients, expected {count} (one per tensor). "
                           "Return a tuple of that length, or None to keep the gradients")
    return result


class Module:
    """The base class of every layer and model.

    Assigning a :class:`Parameter`, a Module or (through :meth:`register_buffer`)
    a buffer tensor as an attribute registers it, so that :meth:`parameters`,
    :meth:`state_dict`, :meth:`to` and the printed tree see it. Subclasses call
    ``super().__init__()`` before assigning anything and define ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        backward_hooks = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            backward_hooks = _BackwardHookCall(self)
            args = backward_hooks.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hooks is not None:
            output = backward_hooks.wrap_outputs(output)
        return output

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(module, args)`` to run before ``forward``; a returned value replaces ``args``."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(module, args, output)`` to run after ``forward``; a returned value replaces the output."""
        return RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(module, grad_output)`` to run when the gradients of the module's outputs are known.

        ``grad_output`` has one entry per output tensor. A returned tuple replaces
        it for the rest of backward. The hook applies to calls made after it is
        registered, with grad mode on.
        """
        return RemovableHandle(self._backward_pre_hooks, hook)

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """Register ``hook(module, grad_input, grad_output)`` to run when the gradients of the module's inputs are known.

        ``grad_input`` has one entry per positional argument: None for an
        argument that is not a tensor, and zeros for a tensor that requires no
        grad. ``grad_output`` has one entry per output tensor. A returned tuple
        replaces ``grad_input``. When no input requires grad, the
        hook runs once ``grad_output`` is known, with ``grad_input`` all None.
        The hook applies to calls made after it is registered, with grad mode on.
        """
        return RemovableHandle(self._backward_hooks, hook)

    # -- registration ----------------------------------------------------

    def _check_new_name(self, name: str, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` (or None, for an absent optional weight) as parameter ``name``."""
        self._check_new_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                "(multigrad.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created explicitly. "
                f"To express '{name}' as a function of another Tensor, compute the value in the forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add ``tensor`` as buffer ``name``: state that is not trained, such as running statistics.

        A persistent buffer is part of :meth:`state_dict`; a non-persistent one is not.
        """
        self._check_new_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' (multigrad Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add ``module`` as child ``name``; it can then be reached as an attribute."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        self._check_new_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, self.__dict__, self._buffers, self._modules, self._non_persistent_buffers)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_type_name(value)}' as parameter '{name}' (multigrad.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
            return
        modules = self.__dict__.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, self.__dict__, self._parameters, self._buffers, self._non_persistent_buffers)
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_type_name(value)}' as child module '{name}' (multigrad.nn.Module or None expected)")
            modules[name] = value
            return
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' (multigrad.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name: str, *containers) -> None:
        for container in containers:
            if name in container:
                if isinstance(container, set):
                    container.discard(name)
                else:
                    del container[name]

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            values = d.get(registry)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def get_submodule(self, target: str) -> "Module":
        """Return the submodule at dotted path ``target`` (``""`` is this module)."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            child = module._modules.get(item) if isinstance(module, Module) else None
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = child
        return module

    def get_parameter(self, target: str) -> Parameter:
        """Return the parameter at dotted path ``target``, such as ``"0.weight"``."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return module._parameters[name]

    # -- iteration -------------------------------------------------------

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """Yield ``(dotted name, module)`` for this module and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """Yield this module and every descendant, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(name, module)`` for each direct child."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator["Module"]:
        """Yield each direct child module."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted name, parameter)``; a parameter shared by two modules comes once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield the parameters of this module (and of its descendants when ``recurse``)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """Yield ``(dotted name, buffer)``."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Yield the buffers of this module (and of its descendants when ``recurse``)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # -- modes and gradients ---------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=False``: evaluation mode) on this module and its descendants."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode: Dropout passes inputs through, BatchNorm uses running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None by default, else to zeros in place."""
        for param in self.parameters():
            grad = param._grad
            if grad is None:
                continue
            if set_to_none:
                param._grad = None
            else:
                if grad._grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                with no_grad():
                    grad.zero_()

    # -- apply, to -------------------------------------------------------

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every descendant, then on this module (as for initialisation); return self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply(self, fn: Callable[[Tensor], Tensor]) -> "Module":
        # Parameters keep their identity: their data (and grad) are replaced in place,
        # so optimizers built before `to()` still hold them.
        for module in self.modules():
            for name, param in module._parameters.items():
                if param is None:
                    continue
                with no_grad():
                    new = fn(param)
                if new is not param:
                    param._data, param._backend = new._data, new._backend
                    param._version_counter[0] += 1
                    grad = param._grad
                    if grad is not None:
                        with no_grad():
                            new_grad = fn(grad)
                        param._grad = new_grad.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    module._buffers[name] = fn(buffer)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Move parameters and buffers to a device and/or cast floating-point ones to a dtype, in place.

        Accepts ``to(device)``, ``to(dtype)``, ``to(device, dtype)``,
        ``to(tensor)`` and the keywords ``device`` and ``dtype``, as
        ``Tensor.to`` does. Integer buffers keep their dtype.
        """
        from ... import _dtype
        from ..._tensor import device as Device

        unknown = set(kwargs) - {"device", "dtype", "non_blocking"}
        if unknown:
            raise TypeError(f"to() got unexpected keyword argument(s) {', '.join(sorted(unknown))}")
        target_device = kwargs.get("device")
        target_dtype = kwargs.get("dtype")
        for arg in args:
            if isinstance(arg, Tensor):
                target_device, target_dtype = arg.device, arg.dtype
            elif isinstance(arg, (str, Device)):
                target_device = arg
            else:
                target_dtype = arg
        if target_dtype is not None:
            target_dtype = _dtype.to_dtype(target_dtype)
            if not target_dtype.is_floating_point:
                raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={target_dtype!r}")
        if target_device is not None:
            from ..._creation import get_backend

            target_device = Device(target_device)
            get_backend(target_device)  # raise now, with the backend's reason, if the device cannot run

        def convert(t: Tensor) -> Tensor:
            dtype = target_dtype if (target_dtype is not None and t.is_floating_point()) else t.dtype
            return t.to(target_device or t.device, dtype)

        return self._apply(convert)

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32."""
        from ..._dtype import float32

        return self.to(float32)

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64."""
        from ..._dtype import float64

        return self.to(float64)

    def half(self) -> "Module":
        """Cast floating-point parameters and buffers to float16."""
        from ..._dtype import float16

        return self.to(float16)

    def cpu(self) -> "Module":
        """Move parameters and buffers to the NumPy device."""
        return self.to("numpy")

    # -- state dict ------------------------------------------------------

    def state_dict(self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Return an ordered dict from dotted names to parameters and persistent buffers.

        Values are detached tensors that share memory with the module's,
        unless ``keep_vars`` returns the Parameters themselves.
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` into this module, in place.

        With ``strict`` (the default) any missing or unexpected key raises
        RuntimeError, and nothing is copied; shape mismatches always raise.
        Returns the missing and unexpected keys.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            source = state_dict[key]
            if not isinstance(source, Tensor):
                errors.append(
                    f'While copying the parameter named "{key}", expected multigrad.Tensor or Tensor-like object '
                    f"from checkpoint but received {type(source)}"
                )
            elif tuple(source.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {source.shape} from checkpoint, "
                    f"the shape in current model is {target.shape}."
                )
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(type(self).__name__, "\n\t".join(errors))
            )
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    source = state_dict[key]
                    if source.device != target.device:
                        source = source.to(target.device)
                    target.copy_(source)
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------

    def extra_repr(self) -> str:
        """Return the text shown inside this module's parentheses; subclasses override it."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for name, module in self._modules.items():
            child_lines.append(f"({name}): " + _addindent(repr(module), 2))
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

