"""nn.Module registration, state dicts, printing, Parameter, init and the layers, against PyTorch."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest

import multigrad as mg
from multigrad import nn


def to_torch(torch, t):
    return torch.from_numpy(np.array(t.detach().numpy()))


def copy_params(torch, mg_module, torch_module):
    """Copy every parameter and buffer of ``mg_module`` into the same-named one of ``torch_module``."""
    with torch.no_grad():
        for name, value in mg_module.state_dict().items():
            target = torch_module.state_dict()[name]
            target.copy_(to_torch(torch, value))


# -- Parameter -------------------------------------------------------------------------

def test_parameter_is_tensor_and_requires_grad():
    p = nn.Parameter(mg.ones(2, 3))
    assert isinstance(p, mg.Tensor)
    assert isinstance(p, nn.Parameter)
    assert p.requires_grad
    assert p.is_leaf
    assert not isinstance(mg.ones(2), nn.Parameter)


def test_parameter_repr():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"


def test_parameter_ops_give_plain_tensors_and_grads_flow():
    p = nn.Parameter(mg.tensor([1.0, 2.0, 3.0]))
    y = p * p
    assert type(y) is mg.Tensor
    assert y.grad_fn.name() == "MulBackward0"
    (y.sum() + (p @ p)).backward()
    assert p.grad.tolist() == [4.0, 8.0, 12.0]
    assert type(p.grad) is mg.Tensor


def test_parameter_shares_memory_with_data():
    data = mg.zeros(3)
    p = nn.Parameter(data)
    with mg.no_grad():
        p.add_(1.0)
    assert data.tolist() == [1.0, 1.0, 1.0]


def test_parameter_without_grad():
    p = nn.Parameter(mg.zeros(2), requires_grad=False)
    assert not p.requires_grad


def test_parameter_rejects_integer_data():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(mg.tensor([1, 2]))


# -- Module registration -----------------------------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(3, 2, bias=False)
        self.scale = nn.Parameter(mg.ones(1))
        self.register_buffer("steps", mg.zeros(1))
        self.register_buffer("scratch", mg.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_module_named_parameters_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]


def test_module_children_and_modules():
    net = Net()
    assert [name for name, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert len(list(net.children())) == 3
    assert [name for name, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]


def test_module_buffers_and_persistence():
    net = Net()
    assert [name for name, _ in net.named_buffers()] == ["steps", "scratch"]
    assert list(net.state_dict()) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight"]


def test_module_plain_attributes_not_registered():
    net = Net()
    assert net.note == "plain attribute"
    assert "note" not in net.state_dict()


def test_module_shared_parameter_listed_once():
    layer = nn.Linear(2, 2)
    seq = nn.Sequential(layer, layer)
    assert len(list(seq.parameters())) == 2


def test_module_assign_tensor_to_parameter_name_raises():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'multigrad.FloatTensor' as parameter 'weight'"):
        layer.weight = mg.zeros(2, 2)


def test_module_assign_none_parameter():
    layer = nn.Linear(2, 2)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_module_setattr_before_init_raises():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def test_module_missing_attribute_message():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nope'"):
        nn.Linear(1, 1).nope


def test_module_delattr_unregisters():
    net = Net()
    del net.fc1
    assert "fc1.weight" not in net.state_dict()


def test_module_train_eval_flags():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    assert net.training
    assert net[1].training
    net.eval()
    assert not net.training
    assert not net[1].training
    net.train()
    assert net[1].training


def test_module_zero_grad():
    layer = nn.Linear(3, 2)
    layer(mg.ones(1, 3)).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad.tolist() == [[0.0] * 3] * 2
    layer.zero_grad()
    assert layer.weight.grad is None


def test_module_call_runs_forward_and_hooks():
    layer = nn.Linear(2, 2)
    calls = []
    handle = layer.register_forward_hook(lambda module, args, out: calls.append(tuple(out.shape)))
    layer(mg.ones(5, 2))
    handle.remove()
    layer(mg.ones(5, 2))
    assert calls == [(5, 2)]


def test_module_apply_visits_children_first():
    net = Net()
    visited = []
    net.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "Net"]


def test_module_to_dtype_keeps_parameter_identity():
    bn = nn.BatchNorm1d(3)
    weight = bn.weight
    bn.to(mg.float64)
    assert bn.weight is weight
    assert bn.weight.dtype == mg.float64
    assert bn.running_mean.dtype == mg.float64
    assert bn.num_batches_tracked.dtype == mg.int64


def test_module_to_integer_dtype_raises():
    with pytest.raises(TypeError, match="floating point dtypes"):
        nn.Linear(1, 1).to(mg.int64)


def test_module_to_unknown_device_raises():
    with pytest.raises(RuntimeError, match="unknown device type 'nosuch'"):
        nn.Linear(1, 1).to("nosuch")


# -- state dict ------------------------------------------------------------------------

def test_state_dict_values_are_detached_and_shared():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    assert isinstance(state, OrderedDict)
    assert not state["weight"].requires_grad
    with mg.no_grad():
        layer.weight.fill_(3.0)
    assert state["weight"].tolist() == [[3.0, 3.0], [3.0, 3.0]]


def test_load_state_dict_round_trip():
    source, target = Net(), Net()
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == []
    assert result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (name, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        assert a.tolist() == b.tolist(), name


def test_load_state_dict_bumps_version_in_place():
    layer = nn.Linear(2, 2)
    weight, version = layer.weight, layer.weight._version
    layer.load_state_dict(nn.Linear(2, 2).state_dict())
    assert layer.weight is weight
    assert layer.weight._version == version + 1


def test_load_state_dict_strict_errors():
    layer = nn.Linear(2, 2)
    state = layer.state_dict()
    del state["bias"]
    state["extra"] = mg.zeros(1)
    with pytest.raises(RuntimeError) as info:
        layer.load_state_dict(state)
    assert str(info.value) == (
        'Error(s) in loading state_dict for Linear:\n\tMissing key(s) in state_dict: "bias". '
        '\n\tUnexpected key(s) in state_dict: "extra". '
    )


def test_load_state_dict_failure_changes_nothing():
    layer = nn.Linear(2, 2)
    before = layer.weight.tolist()
    state = nn.Linear(2, 2).state_dict()
    state["extra"] = mg.zeros(1)
    with pytest.raises(RuntimeError):
        layer.load_state_dict(state)
    assert layer.weight.tolist() == before


def test_load_state_dict_non_strict_reports_keys():
    layer = nn.Linear(2, 2)
    result = layer.load_state_dict({"weight": mg.zeros(2, 2), "other": mg.ones(1)}, strict=False)
    assert result.missing_keys == ["bias"]
    assert result.unexpected_keys == ["other"]
    assert layer.weight.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_load_state_dict_size_mismatch():
    layer = nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape "
                                           r"multigrad.Size\(\[3, 2\]\) from checkpoint"):
        layer.load_state_dict({"weight": mg.zeros(3, 2), "bias": mg.zeros(2)})


# -- printing --------------------------------------------------------------------------

def test_repr_matches_torch(torch):
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, stride=2, bias=False),
        nn.Flatten(), nn.Linear(16, 10), nn.Dropout(0.25), nn.GELU(), nn.LayerNorm(10), nn.Softmax(dim=1),
    )
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, stride=2, bias=False), torch.nn.Flatten(), torch.nn.Linear(16, 10),
        torch.nn.Dropout(0.25), torch.nn.GELU(), torch.nn.LayerNorm(10), torch.nn.Softmax(dim=1),
    )
    assert repr(model) == repr(reference)


@pytest.mark.parametrize("build", [
    lambda nn: nn.BatchNorm1d(4),
    lambda nn: nn.BatchNorm1d(4, bias=False),
    lambda nn: nn.BatchNorm2d(4, momentum=None, affine=False),
    lambda nn: nn.Embedding(10, 3, padding_idx=0),
    lambda nn: nn.AvgPool2d(2, stride=1),
    lambda nn: nn.LogSoftmax(dim=-1),
    lambda nn: nn.Tanh(),
    lambda nn: nn.Sigmoid(),
    lambda nn: nn.ReLU(inplace=True),
    lambda nn: nn.CrossEntropyLoss(),
    lambda nn: nn.ModuleList([nn.Linear(1, 2), nn.ReLU()]),
    lambda nn: nn.ModuleDict({"a": nn.Linear(1, 2)}),
])
def test_repr_of_layers_matches_torch(torch, build):
    assert repr(build(nn)) == repr(build(torch.nn))


def test_repr_of_nested_custom_module():
    text = repr(Net())
    assert text == (
        "Net(\n"
        "  (fc1): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (act): ReLU()\n"
        "  (fc2): Linear(in_features=3, out_features=2, bias=False)\n"
        ")"
    )


# -- containers ------------------------------------------------------------------------

def test_sequential_indexing_and_slicing():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert isinstance(seq[-1], nn.Linear)
    assert len(seq[:2]) == 2
    del seq[1]
    assert [name for name, _ in seq.named_children()] == ["0", "1"]
    with pytest.raises(IndexError):
        seq[5]


def test_sequential_from_ordered_dict():
    seq = nn.Sequential(OrderedDict([("encoder", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(seq.state_dict()) == ["encoder.weight", "encoder.bias"]


def test_module_list_registers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(list(layers.parameters())) == 8
    assert list(layers.state_dict())[-1] == "3.bias"


def test_module_dict_registers():
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.Linear(2, 1)
    assert list(heads.keys()) == ["a", "b"]
    assert "b" in heads
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


# -- init ------------------------------------------------------------------------------

def test_calculate_gain_matches_torch(torch):
    for name, param in [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                        ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")


def test_init_functions_are_seeded_and_bump_version():
    p = nn.Parameter(mg.zeros(50, 40))
    mg.manual_seed(3)
    nn.init.kaiming_uniform_(p, a=math.sqrt(5))
    first = p.tolist()
    assert p._version == 1
    mg.manual_seed(3)
    nn.init.kaiming_uniform_(p, a=math.sqrt(5))
    assert p.tolist() == first


@pytest.mark.parametrize("name, kwargs, expected_std", [
    ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 400)),
    ("kaiming_normal_", {"nonlinearity": "relu"}, math.sqrt(2 / 400)),
    ("xavier_uniform_", {}, math.sqrt(2 / (400 + 300))),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (400 + 300))),
])
def test_init_spread(name, kwargs, expected_std):
    t = mg.zeros(300, 400)
    getattr(nn.init, name)(t, **kwargs)
    assert t.numpy().std() == pytest.approx(expected_std, rel=0.03)


def test_init_uniform_bounds_and_constants():
    t = mg.zeros(1000)
    nn.init.uniform_(t, -2.0, -1.0)
    values = t.numpy()
    assert values.min() >= -2.0
    assert values.max() < -1.0
    nn.init.constant_(t, 0.5)
    assert set(t.tolist()) == {0.5}
    nn.init.ones_(t)
    assert set(t.tolist()) == {1.0}
    nn.init.zeros_(t)
    assert set(t.tolist()) == {0.0}


def test_init_fan_needs_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(mg.zeros(3))


def test_linear_default_init_range():
    layer = nn.Linear(64, 128)
    bound = 1 / math.sqrt(64)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert layer.weight.detach().numpy().std() == pytest.approx(bound / math.sqrt(3), rel=0.05)


def test_conv2d_default_init_range():
    conv = nn.Conv2d(4, 8, 3)
    bound = 1 / math.sqrt(4 * 9)
    assert tuple(conv.weight.shape) == (8, 4, 3, 3)
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound


def test_batchnorm_and_layernorm_init():
    bn = nn.BatchNorm2d(3)
    assert bn.weight.tolist() == [1.0] * 3
    assert bn.bias.tolist() == [0.0] * 3
    assert bn.running_var.tolist() == [1.0] * 3
    assert bn.num_batches_tracked.item() == 0
    ln = nn.LayerNorm((2, 3))
    assert tuple(ln.weight.shape) == (2, 3)


def test_embedding_padding_row_is_zero():
    emb = nn.Embedding(5, 3, padding_idx=-1)
    assert emb.padding_idx == 4
    assert emb.weight.tolist()[4] == [0.0, 0.0, 0.0]


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


# -- layers against PyTorch (need multigrad.nn.functional) -----------------------------------

def run_both(torch, mg_module, torch_module, *inputs, grad=True):
    """Run both modules on the same inputs; return outputs and input gradients of both."""
    copy_params(torch, mg_module, torch_module)
    mg_inputs = [mg.tensor(x, requires_grad=grad and x.dtype.kind == "f") for x in inputs]
    torch_inputs = [torch.tensor(x, requires_grad=grad and x.dtype.kind == "f") for x in inputs]
    out = mg_module(*mg_inputs)
    expected = torch_module(*torch_inputs)
    if grad:
        # A weighted sum: a plain sum would give normalisation layers an input gradient of about zero.
        weights = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
        (out * mg.tensor(weights)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
    return out, expected, mg_inputs, torch_inputs


def assert_close(mg_tensor, torch_tensor, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(mg_tensor.detach().numpy(), torch_tensor.detach().numpy(), rtol=rtol, atol=atol)


def params_grads_close(mg_module, torch_module):
    torch_params = dict(torch_module.named_parameters())
    for name, p in mg_module.named_parameters():
        assert_close(p.grad, torch_params[name].grad)


RNG = np.random.default_rng(0)
X_2D = RNG.standard_normal((5, 6)).astype(np.float32)
X_IMG = RNG.standard_normal((2, 3, 8, 8)).astype(np.float32)


@pytest.mark.parametrize("build, x", [
    (lambda nn: nn.Linear(6, 4), X_2D),
    (lambda nn: nn.Linear(6, 4, bias=False), X_2D),
    (lambda nn: nn.Conv2d(3, 4, 3, padding=1), X_IMG),
    (lambda nn: nn.Conv2d(3, 4, (3, 2), stride=2, bias=False), X_IMG),
    (lambda nn: nn.MaxPool2d(2), X_IMG),
    (lambda nn: nn.AvgPool2d(2, stride=1), X_IMG),
    (lambda nn: nn.Flatten(), X_IMG),
    (lambda nn: nn.ReLU(), X_2D),
    (lambda nn: nn.GELU(), X_2D),
    (lambda nn: nn.GELU(approximate="tanh"), X_2D),
    (lambda nn: nn.Tanh(), X_2D),
    (lambda nn: nn.Sigmoid(), X_2D),
    (lambda nn: nn.Softmax(dim=1), X_2D),
    (lambda nn: nn.LogSoftmax(dim=1), X_2D),
    (lambda nn: nn.LayerNorm(6), X_2D),
    (lambda nn: nn.BatchNorm1d(6), X_2D),
    (lambda nn: nn.BatchNorm2d(3), X_IMG),
])
def test_layer_matches_torch(torch, build, x):
    module, reference = build(nn), build(torch.nn)
    out, expected, inputs, torch_inputs = run_both(torch, module, reference, x)
    assert tuple(out.shape) == tuple(expected.shape)
    assert_close(out, expected, rtol=1e-4, atol=1e-5)
    assert_close(inputs[0].grad, torch_inputs[0].grad, rtol=1e-4, atol=1e-5)
    params_grads_close(module, reference)


def test_batchnorm_running_stats_match_torch(torch):
    module, reference = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for _ in range(3):
        x = RNG.standard_normal((4, 3, 5, 5)).astype(np.float32)
        module(mg.tensor(x))
        reference(torch.tensor(x))
    assert_close(module.running_mean, reference.running_mean)
    assert_close(module.running_var, reference.running_var)
    assert module.num_batches_tracked.item() == 3
    module.eval()
    reference.eval()
    x = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
    assert_close(module(mg.tensor(x)), reference(torch.tensor(x)), rtol=1e-4, atol=1e-5)


def test_batchnorm_rejects_wrong_rank():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(3)(mg.zeros(2, 3))


def test_embedding_matches_torch(torch):
    module, reference = nn.Embedding(10, 4, padding_idx=2), torch.nn.Embedding(10, 4, padding_idx=2)
    copy_params(torch, module, reference)
    index = np.array([[1, 2, 3], [2, 9, 1]])
    out = module(mg.tensor(index))
    expected = reference(torch.tensor(index))
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_close(module.weight.grad, reference.weight.grad)


def test_dropout_train_and_eval():
    layer = nn.Dropout(0.5)
    x = mg.ones(1000)
    y = layer(x).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, 2.0}
    assert 300 < (y == 0).sum() < 700
    layer.eval()
    assert layer(x).tolist() == x.tolist()


LOGITS = RNG.standard_normal((6, 4)).astype(np.float32)
CLASSES = np.array([0, 3, 1, 1, 2, 0])
PROBS = (1 / (1 + np.exp(-RNG.standard_normal((6, 4))))).astype(np.float32)
BINARY = (RNG.random((6, 4)) > 0.5).astype(np.float32)


@pytest.mark.parametrize("build, input, target", [
    (lambda nn: nn.MSELoss(), LOGITS, PROBS),
    (lambda nn: nn.MSELoss(reduction="sum"), LOGITS, PROBS),
    (lambda nn: nn.L1Loss(), LOGITS, PROBS),
    (lambda nn: nn.CrossEntropyLoss(), LOGITS, CLASSES),
    (lambda nn: nn.CrossEntropyLoss(reduction="none"), LOGITS, CLASSES),
    (lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), LOGITS, CLASSES),
    (lambda nn: nn.NLLLoss(), LOGITS, CLASSES),
    (lambda nn: nn.BCELoss(), PROBS, BINARY),
    (lambda nn: nn.BCEWithLogitsLoss(), LOGITS, BINARY),
])
def test_loss_matches_torch(torch, build, input, target):
    module, reference = build(nn), build(torch.nn)
    x = mg.tensor(input, requires_grad=True)
    tx = torch.tensor(input, requires_grad=True)
    out = module(x, mg.tensor(target))
    expected = reference(tx, torch.tensor(target))
    assert_close(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_close(x.grad, tx.grad)


def test_weighted_losses_match_torch(torch):
    weight = np.array([1.0, 2.0, 0.5, 1.5], dtype=np.float32)
    module = nn.CrossEntropyLoss(weight=mg.tensor(weight))
    reference = torch.nn.CrossEntropyLoss(weight=torch.tensor(weight))
    assert "weight" in module.state_dict()
    assert_close(module(mg.tensor(LOGITS), mg.tensor(CLASSES)), reference(torch.tensor(LOGITS), torch.tensor(CLASSES)))
    pos_weight = np.array([2.0, 1.0, 1.0, 3.0], dtype=np.float32)
    module = nn.BCEWithLogitsLoss(pos_weight=mg.tensor(pos_weight))
    reference = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    assert_close(module(mg.tensor(LOGITS), mg.tensor(BINARY)), reference(torch.tensor(LOGITS), torch.tensor(BINARY)))


def test_loss_rejects_bad_reduction():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("kwargs", [{"track_running_stats": False}, {"momentum": None}])
def test_batchnorm_options_match_torch(torch, kwargs):
    module, reference = nn.BatchNorm2d(3, **kwargs), torch.nn.BatchNorm2d(3, **kwargs)
    x = RNG.standard_normal((4, 3, 5, 5)).astype(np.float32)
    for _ in range(2):
        module(mg.tensor(x * 2 + 1))
        reference(torch.tensor(x * 2 + 1))
    module.eval()
    reference.eval()
    assert_close(module(mg.tensor(x)), reference(torch.tensor(x)), rtol=1e-4, atol=1e-5)


def test_module_to_opencl_keeps_parameters_and_optimizer():
    layer = nn.Linear(3, 2)
    weight = layer.weight
    optimizer = mg.optim.SGD(layer.parameters(), lr=0.1)
    try:
        layer.to("opencl")
    except RuntimeError as error:
        pytest.skip(f"no OpenCL device: {error}")
    assert layer.weight is weight
    assert layer.weight.device.type == "opencl"
    layer(mg.ones(4, 3, device="opencl")).sum().backward()
    optimizer.step()
    assert layer.weight.grad.device.type == "opencl"
    layer.to("numpy")
    assert layer.weight.device == mg.device("numpy")
    assert layer.weight.grad.device == mg.device("numpy")


# -- full backward hooks -------------------------------------------------------------------------


class _SplitSum:
    """Build, in either library, a module with two inputs and two outputs: (a + b, a * b)."""

    @staticmethod
    def make(lib):
        class SplitSum(lib.nn.Module):
            def forward(self, a, b):
                return a + b, a * b

        return SplitSum()


def _run_full_hooks(lib, make_module, inputs, hooks, weights):
    """Call the module on ``inputs`` (arrays; True marks those requiring grad), backpropagate a weighted sum.

    Return the recorded hook calls as nested lists and the inputs' gradients.
    """
    module = make_module(lib)
    calls = []
    for kind, hook in hooks:
        register = module.register_full_backward_pre_hook if kind == "pre" else module.register_full_backward_hook
        register(lambda *args, hook=hook: hook(calls, *args))
    tensors = [lib.tensor(values, requires_grad=flag) for values, flag in inputs]
    outputs = module(*tensors)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    loss = sum((out * lib.tensor(w)).sum() for out, w in zip(outputs, weights))
    loss.backward()
    grads = [None if t.grad is None else t.grad.tolist() for t in tensors]
    return calls, grads


def _listed(grads):
    return [None if g is None else g.tolist() for g in grads]


def _record_pre(calls, module, grad_output):
    calls.append(("pre", _listed(grad_output)))


def _record_full(calls, module, grad_input, grad_output):
    calls.append(("full", _listed(grad_input), _listed(grad_output)))


def _double_first_input(calls, module, grad_input, grad_output):
    return (grad_input[0] * 2,) + tuple(grad_input[1:])


def _halve_grad_output(calls, module, grad_output):
    return tuple(g * 0.5 for g in grad_output)


FULL_HOOK_CASES = [
    ("record both", [("pre", _record_pre), ("full", _record_full)]),
    ("replace grad_input", [("full", _double_first_input), ("full", _record_full)]),
    ("replace grad_output", [("pre", _halve_grad_output), ("full", _record_full)]),
]


@pytest.mark.parametrize("hooks", [hooks for _, hooks in FULL_HOOK_CASES], ids=[label for label, _ in FULL_HOOK_CASES])
@pytest.mark.parametrize("b_requires_grad", [True, False])
def test_full_backward_hooks_match_pytorch(torch, hooks, b_requires_grad):
    inputs = [(np.array([1.0, 2.0]), True), (np.array([3.0, -1.0]), b_requires_grad)]
    weights = [np.array([1.0, 10.0]), np.array([100.0, 1000.0])]
    mine = _run_full_hooks(mg, _SplitSum.make, inputs, hooks, weights)
    theirs = _run_full_hooks(torch, _SplitSum.make, inputs, hooks, weights)
    assert mine == theirs


def test_full_backward_hook_without_input_grad(torch):
    def make(lib):
        layer = lib.nn.Linear(2, 1)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[1.0, -2.0]]))
            layer.bias.zero_()
        return layer

    hooks = [("full", _record_full)]
    inputs = [(np.array([[3.0, 4.0]], dtype=np.float32), False)]
    weights = [np.array([[2.0]], dtype=np.float32)]
    mine = _run_full_hooks(mg, make, inputs, hooks, weights)
    with pytest.warns(UserWarning):
        theirs = _run_full_hooks(torch, make, inputs, hooks, weights)
    assert mine == theirs


def test_full_backward_hook_handle_removes_it():
    layer = nn.Linear(2, 2)
    calls = []
    handle = layer.register_full_backward_hook(lambda module, grad_input, grad_output: calls.append(1))
    layer(mg.ones(1, 2, requires_grad=True)).sum().backward()
    handle.remove()
    layer(mg.ones(1, 2, requires_grad=True)).sum().backward()
    assert calls == [1]


def test_full_backward_hook_wrong_count_raises():
    layer = nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda module, grad_input, grad_output: (grad_input[0], grad_input[0]))
    with pytest.raises(RuntimeError, match="returned 2 gradients, expected 1"):
        layer(mg.ones(1, 2, requires_grad=True)).sum().backward()
