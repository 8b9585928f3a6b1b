"""``save`` and ``load``: tensors and nested containers in a NumPy ``.npz`` archive, without pickle.

Layout of a file written by :func:`save` (a standard zip archive that
``numpy.load(path, allow_pickle=False)`` opens):

- ``__multigrad__``: a uint8 array holding UTF-8 JSON, the manifest
  ``{"format": "multigrad", "version": 1, "root": NODE}``.
- ``t0``, ``t1``, ...: one array per distinct tensor, in NumPy's own
  ``.npy`` format, with the tensor's dtype and shape.

A NODE is a JSON object with a ``"type"`` key:

- ``none``, ``bool``, ``int``, ``str`` with ``"value"``;
- ``float`` with ``"value"`` given as ``repr`` text, so nan, inf and every
  bit of a float64 survive;
- ``list`` and ``tuple`` with ``"items"`` (a list of NODEs);
- ``dict`` with ``"items"`` (a list of ``[key NODE, value NODE]`` pairs, so
  keys that are not strings and the key order survive);
- ``tensor`` with ``"key"`` (the array entry), ``"dtype"``, ``"device"``,
  ``"requires_grad"`` and ``"parameter"`` (true for ``nn.Parameter``);
- ``dtype`` with ``"value"`` (a multigrad dtype name such as ``float32``);
- ``device`` with ``"value"`` (such as ``opencl:0``).

A tensor that appears several times in ``obj`` is stored once and loads as
one object, so shared parameters stay shared. Autograd history is not
saved: a loaded tensor is a leaf.
"""

from __future__ import annotations

import io
import json
import os
from typing import Any

import numpy as np

from . import _dtype
from ._tensor import Tensor, device as Device

FORMAT_NAME = "multigrad"
FORMAT_VERSION = 1
_MANIFEST = "__multigrad__"

MapLocation = "str | Device | dict[str, str] | Callable[[Tensor, str], Tensor] | None"


def save(obj: Any, f) -> None:
    """Write ``obj`` to ``f`` (a path or a binary file object) in multigrad's ``.npz`` layout.

    ``obj`` may be a Tensor or nested dicts, lists and tuples of tensors,
    numbers, strings, bools, None, dtypes and devices, such as a
    ``state_dict()`` of a module or an optimizer. Other objects raise
    TypeError, naming where in ``obj`` they sit. The file name is used as
    given; no ``.npz`` suffix is added.
    """
    arrays: dict[str, np.ndarray] = {}
    keys_by_id: dict[int, str] = {}
    root = _encode(obj, arrays, keys_by_id, "obj")
    manifest = json.dumps({"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root}, allow_nan=False)
    arrays[_MANIFEST] = np.frombuffer(manifest.encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            np.savez(file, **arrays)
    else:
        np.savez(f, **arrays)


def load(f, map_location: MapLocation = None) -> Any:
    """Read an object written by :func:`save` from ``f`` (a path or a binary file object).

    Tensors return to the device they were saved from unless
    ``map_location`` names another: a device (``"numpy"``, ``"opencl:0"``)
    moves every tensor there; a dict maps saved device names to devices
    (``{"opencl:0": "numpy"}``); a callable ``fn(tensor, saved_device)``
    receives each tensor, loaded on the NumPy device, and returns it on the
    device of its choice.
    """
    if isinstance(f, (str, os.PathLike)) and not os.path.exists(f):
        raise FileNotFoundError(f"multigrad.load: no such file: {_name(f)}")
    try:
        archive = np.load(f, allow_pickle=False)
    except (ValueError, OSError):
        # NumPy's own message suggests allow_pickle, which multigrad never uses: leave it out.
        raise RuntimeError(
            f"multigrad.load: {_name(f)} is not a file written by multigrad.save (not an .npz archive of plain arrays)"
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile) or _MANIFEST not in archive.files:
        raise RuntimeError(f"multigrad.load: {_name(f)} is not a file written by multigrad.save (no manifest entry)")
    with archive:
        manifest = json.loads(archive[_MANIFEST].tobytes().decode("utf-8"))
        if manifest.get("format") != FORMAT_NAME:
            raise RuntimeError(f"multigrad.load: {_name(f)} has format {manifest.get('format')!r}, expected 'multigrad'")
        if manifest.get("version") != FORMAT_VERSION:
            raise RuntimeError(
                f"multigrad.load: {_name(f)} has format version {manifest.get('version')}, this multigrad reads "
                f"version {FORMAT_VERSION}; upgrade multigrad"
            )
        tensors: dict[str, Tensor] = {}
        return _decode(manifest["root"], archive, tensors, map_location)


def _name(f) -> str:
    return repr(os.fspath(f)) if isinstance(f, (str, os.PathLike)) else "the file object"


# -- encoding -------------------------------------------------------------------

def _encode(value: Any, arrays: dict, keys_by_id: dict, where: str) -> dict:
    if value is None:
        return {"type": "none"}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": repr(value)}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, Tensor):
        return _encode_tensor(value, arrays, keys_by_id)
    if isinstance(value, _dtype.dtype):
        return {"type": "dtype", "value": value.name}
    if isinstance(value, Device):
        return {"type": "device", "value": str(value)}
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return _encode(value.item(), arrays, keys_by_id, where)

    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            items.append([_encode(key, arrays, keys_by_id, f"{where} key {key!r}"),
                          _encode(item, arrays, keys_by_id, f"{where}[{key!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        items = [_encode(item, arrays, keys_by_id, f"{where}[{i}]") for i, item in enumerate(value)]
        return {"type": "list" if isinstance(value, list) else "tuple", "items": items}
    hint = "; save its state_dict() instead" if hasattr(value, "state_dict") else ""
    raise TypeError(
        f"multigrad.save: cannot save {where} of type {type(value).__name__}; supported are tensors, dicts, lists, "
        f"tuples, numbers, strings, bools, None, dtypes and devices{hint}"
    )


def _encode_tensor(t: Tensor, arrays: dict, keys_by_id: dict) -> dict:
    from .nn.parameter import Parameter

    key = keys_by_id.get(id(t))
    if key is None:
        key = keys_by_id[id(t)] = f"t{len(keys_by_id)}"
        arrays[key] = np.array(t._backend.to_numpy(t._data), order="C")  # ascontiguousarray would make 0-d arrays 1-d
    return {
        "type": "tensor",
        "key": key,
        "dtype": t.dtype.name,
        "device": str(t.device),
        "requires_grad": t.requires_grad,
        "parameter": type(t) is Parameter,
    }


# -- decoding -------------------------------------------------------------------

def _decode(node: dict, archive, tensors: dict, map_location) -> Any:
    kind = node["type"]
    if kind == "none":
        return None
    if kind in ("bool", "int", "str"):
        return node["value"]
    if kind == "float":
        return float(node["value"])
    if kind == "list":
        return [_decode(item, archive, tensors, map_location) for item in node["items"]]
    if kind == "tuple":
        return tuple(_decode(item, archive, tensors, map_location) for item in node["items"])
    if kind == "dict":
        return {
            _decode(key, archive, tensors, map_location): _decode(value, archive, tensors, map_location)
            for key, value in node["items"]
        }
    if kind == "dtype":
        return _dtype.to_dtype(node["value"])
    if kind == "device":
        return Device(node["value"])
    if kind == "tensor":
        key = node["key"]
        if key not in tensors:
            tensors[key] = _decode_tensor(node, archive, map_location)
        return tensors[key]
    raise RuntimeError(f"multigrad.load: unknown entry type {kind!r} in the manifest; the file may come from a newer multigrad")


def _decode_tensor(node: dict, archive, map_location) -> Tensor:
    from ._creation import from_numpy

    array = archive[node["key"]]
    expected = _dtype.to_dtype(node["dtype"]).np
    if array.dtype != expected:
        raise RuntimeError(f"multigrad.load: entry {node['key']} has dtype {array.dtype} but the manifest records {node['dtype']}; the file is damaged")
    saved_device = node["device"]
    t = from_numpy(np.array(array))
    if callable(map_location):
        t = map_location(t, saved_device)
        if not isinstance(t, Tensor):
            raise TypeError(f"multigrad.load: map_location returned {type(t).__name__}, expected a Tensor")
    else:
        target = _target_device(saved_device, map_location)
        if target != t.device:
            t = _move(t, target, saved_device, map_location)
    if node["parameter"]:
        from .nn.parameter import Parameter

        return Parameter(t, requires_grad=node["requires_grad"])
    if node["requires_grad"]:
        t.requires_grad_(True)
    return t


def _target_device(saved: str, map_location) -> Device:
    if map_location is None:
        return Device(saved)
    if isinstance(map_location, dict):
        return Device(map_location.get(saved, saved))
    if isinstance(map_location, (str, Device)):
        return Device(map_location)
    raise TypeError(
        f"multigrad.load: map_location must be a device, a dict of device names or a callable, got {type(map_location).__name__}"
    )


def _move(t: Tensor, target: Device, saved: str, map_location) -> Tensor:
    try:
        return t.to(target)
    except RuntimeError as error:
        hint = "" if map_location is not None else f"; pass map_location='numpy' to load tensors saved on {saved} onto the NumPy device"
        raise RuntimeError(f"multigrad.load: cannot place a tensor on device '{target}': {error}{hint}") from None


def _bytes_roundtrip(obj: Any) -> Any:
    """Save ``obj`` to memory and load it back (a helper for tests and examples)."""
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer)
