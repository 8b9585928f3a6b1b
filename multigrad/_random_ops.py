"""In-place random fills of a tensor, drawn from the global generator (or the one given)."""

from __future__ import annotations

import numbers



def _fill_random(self, op: str, draw, generator):
    """Write ``draw(rng, shape)`` into ``self`` through copy_, so leaf and version rules apply."""
    from ._creation import default_generator
    from ._runtime import check_inplace
    from ._tensor import _wrap

    check_inplace(self, op, (self,))
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"{op}(): expected a floating point tensor, got {self.dtype!r}")
    rng = (generator or default_generator).rng
    values = draw(rng, self._data.shape).astype(self._data.dtype, copy=False)
    source = _wrap(self._backend.from_numpy(values), self._backend)
    # copy_ checks the leaf rule first, bumps the version and gives a non-leaf a history with zero gradient.
    return self.copy_(source)


def _check_number(value, op: str, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}(): argument '{name}' must be a number, not {type(value).__name__}")


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Fill ``self`` with values from N(mean, std**2)."""
    _check_number(mean, "normal_", "mean")
    _check_number(std, "normal_", "std")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_random(self, "normal_", lambda rng, shape: rng.normal(mean, std, shape), generator)


def uniform_(self, low=0.0, high=1.0, generator=None):
    """Fill ``self`` with values uniform in [low, high); PyTorch names these arguments from and to."""
    _check_number(low, "uniform_", "from")
    _check_number(high, "uniform_", "to")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
    return _fill_random(self, "uniform_", lambda rng, shape: rng.uniform(low, high, shape), generator)


__all__ = ["normal_", "uniform_"]
