"""multigrad.save and multigrad.load: npz layout without pickle, dtypes, shapes, devices, nesting."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pytest

import multigrad as mg
from multigrad import nn, optim


def round_trip(obj, tmp_path, **load_kwargs):
    path = tmp_path / "object.mg"
    mg.save(obj, path)
    return mg.load(path, **load_kwargs)


@pytest.mark.parametrize("dtype", [mg.float16, mg.float32, mg.float64, mg.int8, mg.int16, mg.int32, mg.int64,
                                   mg.uint8, mg.bool])
def test_tensor_dtype_and_shape_round_trip(tmp_path, dtype):
    t = mg.tensor(np.arange(6).reshape(2, 3) % 2, dtype=dtype)
    loaded = round_trip(t, tmp_path)
    assert loaded.dtype == dtype
    assert tuple(loaded.shape) == (2, 3)
    assert loaded.tolist() == t.tolist()


@pytest.mark.parametrize("shape", [(), (0,), (0, 3), (1, 1, 1), (4,)])
def test_tensor_shapes_round_trip(tmp_path, shape):
    t = mg.zeros(*shape) + 1.5
    loaded = round_trip(t, tmp_path)
    assert tuple(loaded.shape) == shape


def test_file_name_used_as_given(tmp_path):
    path = tmp_path / "weights.pt"
    mg.save(mg.ones(1), path)
    assert path.exists()
    assert not (tmp_path / "weights.pt.npz").exists()


def test_file_is_plain_npz_without_pickle(tmp_path):
    path = tmp_path / "state.npz"
    mg.save({"w": mg.ones(2, 2), "step": 3}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["__multigrad__", "t0"]
        manifest = json.loads(archive["__multigrad__"].tobytes().decode("utf-8"))
        assert archive["t0"].dtype == np.float32
    assert manifest["format"] == "multigrad" and manifest["version"] == 1
    assert manifest["root"]["type"] == "dict"
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["__multigrad__.npy", "t0.npy"]


def test_nested_values_round_trip(tmp_path):
    obj = {
        "tensors": [mg.ones(2), (mg.tensor([1, 2]), mg.tensor(True))],
        3: "int key",
        (1, "a"): [None, True, 2, 2.5, -0.0, float("inf"), "text"],
        "dtype": mg.float64,
        "device": mg.device("numpy"),
        "empty": {},
    }
    loaded = round_trip(obj, tmp_path)
    assert list(loaded) == ["tensors", 3, (1, "a"), "dtype", "device", "empty"]
    assert loaded["tensors"][0].tolist() == [1.0, 1.0]
    assert isinstance(loaded["tensors"][1], tuple)
    assert loaded["tensors"][1][1].item() is True
    assert loaded[(1, "a")] == [None, True, 2, 2.5, -0.0, float("inf"), "text"]
    assert math.copysign(1.0, loaded[(1, "a")][4]) == -1.0
    assert loaded["dtype"] is mg.float64
    assert loaded["device"] == mg.device("numpy")
    assert loaded["empty"] == {}


def test_nan_and_float64_precision(tmp_path):
    loaded = round_trip([float("nan"), 0.1 + 0.2], tmp_path)
    assert math.isnan(loaded[0])
    assert loaded[1] == 0.1 + 0.2


def test_shared_tensor_loads_as_one_object(tmp_path):
    t = mg.ones(3)
    loaded = round_trip({"a": t, "b": [t]}, tmp_path)
    assert loaded["a"] is loaded["b"][0]


def test_requires_grad_and_parameters_round_trip(tmp_path):
    obj = {"p": nn.Parameter(mg.ones(2)), "x": mg.ones(2, requires_grad=True), "y": mg.ones(2)}
    loaded = round_trip(obj, tmp_path)
    assert isinstance(loaded["p"], nn.Parameter)
    assert loaded["p"].requires_grad
    assert loaded["x"].requires_grad and loaded["x"].is_leaf
    assert not isinstance(loaded["x"], nn.Parameter)
    assert not loaded["y"].requires_grad


def test_module_state_dict_round_trip(tmp_path):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2, 3))
    loaded = round_trip(model.state_dict(), tmp_path)
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(2, 3))
    fresh.load_state_dict(loaded)
    for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
        assert a.dtype == b.dtype, name
        assert a.tolist() == b.tolist(), name


def test_optimizer_state_dict_round_trip(tmp_path):
    p = nn.Parameter(mg.ones(3))
    optimizer = optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = mg.tensor([1.0, -1.0, 0.5])
    optimizer.step()
    loaded = round_trip(optimizer.state_dict(), tmp_path)
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["state"][0]["step"] == 1
    other = optim.Adam([nn.Parameter(mg.ones(3))], lr=0.5, amsgrad=True)
    other.load_state_dict(loaded)
    assert other.param_groups[0]["lr"] == 0.1


def test_file_objects(tmp_path):
    buffer = io.BytesIO()
    mg.save({"a": mg.arange(3)}, buffer)
    buffer.seek(0)
    assert mg.load(buffer)["a"].tolist() == [0, 1, 2]


def test_map_location_forms(tmp_path):
    t = mg.ones(2)
    assert round_trip(t, tmp_path, map_location="numpy").device == mg.device("numpy")
    assert round_trip(t, tmp_path, map_location={"numpy": "numpy"}).device == mg.device("numpy")
    seen = []

    def place(tensor, saved_device):
        seen.append(saved_device)
        return tensor * 2

    assert round_trip(t, tmp_path, map_location=place).tolist() == [2.0, 2.0]
    assert seen == ["numpy"]


def test_map_location_unknown_device(tmp_path):
    with pytest.raises(RuntimeError, match="cannot place a tensor on device 'nosuch'"):
        round_trip(mg.ones(1), tmp_path, map_location="nosuch")


def test_saved_on_missing_device_names_map_location(tmp_path):
    path = tmp_path / "x.npz"
    mg.save(mg.ones(1), path)
    # Rewrite the manifest as if the tensor had been saved on a device this machine lacks.
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    manifest = json.loads(arrays["__multigrad__"].tobytes().decode("utf-8"))
    manifest["root"]["device"] = "nosuch:0"
    arrays["__multigrad__"] = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(RuntimeError, match="pass map_location='numpy'"):
        mg.load(path)
    assert mg.load(path, map_location="numpy").tolist() == [1.0]


def test_save_rejects_unsupported_objects(tmp_path):
    with pytest.raises(TypeError, match=r"cannot save obj\['model'\]\[1\] of type object"):
        mg.save({"model": [1, object()]}, tmp_path / "x.npz")


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.ones(2))
    with pytest.raises(RuntimeError, match="not a file written by multigrad.save"):
        mg.load(path)
    text = tmp_path / "text.txt"
    text.write_text("hello")
    with pytest.raises(RuntimeError, match="not a file written by multigrad.save"):
        mg.load(text)


def test_opencl_round_trip(tmp_path):
    try:
        t = mg.ones(2, 3, device="opencl")
    except RuntimeError as error:
        pytest.skip(f"no OpenCL device: {error}")
    loaded = round_trip(t, tmp_path)
    assert loaded.device == t.device
    assert loaded.tolist() == t.tolist()
    assert round_trip(t, tmp_path, map_location="numpy").device == mg.device("numpy")
