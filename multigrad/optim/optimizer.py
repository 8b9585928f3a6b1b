"""``Optimizer``: the base class that stores parameter groups and per-parameter state."""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any, Callable, Iterable

from .._grad_mode import enable_grad, no_grad
from .._tensor import Tensor


class _Required:
    """The marker for a hyperparameter that has no default and every group must set."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """The base class of optimizers.

    ``params`` is an iterable of tensors, or of dicts that each hold a
    ``"params"`` entry plus hyperparameters overriding ``defaults`` for
    that group. ``state[p]`` stores per-parameter buffers (momentum, moving
    averages, step count). Subclasses implement :meth:`step`, updating leaves
    in place under ``no_grad`` so their ``_version`` counters advance.
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + _tensor_type_name(params)
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with hyperparameters that default to the optimizer's ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors "
                "in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)

        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if existing & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter: to None by default, else to zeros in place."""
        for group in self.param_groups:
            for param in group["params"]:
                grad = param._grad
                if grad is None:
                    continue
                if set_to_none:
                    param._grad = None
                    continue
                if grad._grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                with no_grad():
                    grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient once; ``closure``, when given, recomputes and returns the loss first.

        Subclasses define ``_update(param, group)``, which runs under no_grad,
        or override ``step`` itself.
        """
        loss = self._evaluate(closure)
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param._grad is not None:
                        self._update(param, group)
        return loss

    def _update(self, param, group) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update(param, group) or override step()")

    def _evaluate(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- state dict ------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Return the optimizer state: per-parameter ``state`` and ``param_groups``, with parameters as indices.

        Parameters are numbered in the order of the groups and of the
        parameters inside them, so the dict can be loaded into an optimizer
        built the same way over another model's parameters.
        """
        index_of: dict[int, int] = {}
        groups = []
        next_index = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            indices = []
            for param in group["params"]:
                if id(param) not in index_of:
                    index_of[id(param)] = next_index
                    next_index += 1
                indices.append(index_of[id(param)])
            packed["params"] = indices
            groups.append(packed)
        state = {index_of[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict from :meth:`state_dict`; state tensors move to their parameter's device and dtype."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("optimizer state dict must be a dict with 'state' and 'param_groups' entries")
        state_dict = _copy_state(state_dict)
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for own, saved in zip(self.param_groups, saved_groups):
            if len(own["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group")

        param_of = {}
        for own, saved in zip(self.param_groups, saved_groups):
            for index, param in zip(saved["params"], own["params"]):
                param_of[index] = param

        new_state: defaultdict = defaultdict(dict)
        for index, values in state_dict["state"].items():
            index = int(index)
            if index not in param_of:
                continue
            param = param_of[index]
            new_state[param] = {key: _cast_state(param, key, value) for key, value in values.items()}

        new_groups = []
        for own, saved in zip(self.param_groups, saved_groups):
            group = dict(saved)
            group["params"] = own["params"]
            new_groups.append(group)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}"
            for key in sorted(group):
                if key != "params":
                    text += f"\n    {key}: {group[key]}"
        return text + "\n)"


def _tensor_type_name(t: Tensor) -> str:
    from .._dtype import TYPE_NAMES

    return f"multigrad.{TYPE_NAMES[t.dtype]}"


def _copy_state(value):
    """Copy the containers of a state dict; tensors are cloned so the loaded optimizer owns its buffers."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _copy_state(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_state(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy_state(v) for v in value)
    return copy.copy(value)


def _cast_state(param: Tensor, key: str, value):
    if not isinstance(value, Tensor):
        return value
    if key == "step":
        return value
    dtype = param.dtype if value.is_floating_point() else value.dtype
    return value.to(param.device, dtype)
