"""make_dot: the DOT text of backward graphs and rendering through Graphviz."""

from __future__ import annotations

import re
import shutil

import pytest

import multigrad as mg
from multigrad import nn
from multigrad.viz import GraphvizNotFoundError, make_dot


def walkthrough_loss():
    input = mg.ones([2, 2])
    w1 = mg.tensor(2.0, requires_grad=True)
    w2 = mg.tensor(3.0, requires_grad=True)
    w3 = mg.tensor(4.0, requires_grad=True)
    l1 = input * w1
    l2 = l1 + w2
    l3 = l1 * w3
    l4 = l2 * l3
    return l4.mean(), {"w1": w1, "w2": w2, "w3": w3}


def labels(source):
    return re.findall(r'label="([^"]*)"', source)


def test_walkthrough_graph_nodes():
    loss, params = walkthrough_loss()
    source = make_dot(loss, params=params).source
    names = labels(source)
    assert names.count("MeanBackward0") == 1
    assert names.count("MulBackward0") == 3
    assert names.count("AddBackward0") == 1
    assert names.count("AccumulateGrad") == 3
    for name in ("w1", "w2", "w3"):
        assert f'label="{name}\\n ()" fillcolor=lightblue' in source
    assert source.startswith("digraph {")
    assert source.rstrip().endswith("}")


def test_walkthrough_graph_output_and_edges():
    loss, params = walkthrough_loss()
    source = make_dot(loss, params=params).source
    assert source.count("fillcolor=darkolivegreen1") == 1
    assert 'label="\\n ()" fillcolor=darkolivegreen1' in source
    # 3 leaf -> AccumulateGrad, 3 AccumulateGrad -> Mul/Add, Mul(l1) -> Add and Mul(l3), Add and Mul -> Mul(l4),
    # Mul(l4) -> Mean, Mean -> output: 12 edges.
    assert len(re.findall(r"^\t\d+ -> \d+$", source, flags=re.M)) == 12
    assert "orange" not in source


def test_show_saved_draws_saved_tensors():
    loss, params = walkthrough_loss()
    source = make_dot(loss, params=params, show_saved=True).source
    saved = re.findall(r'label="(self|other)\\n \(([^)]*)\)" fillcolor=orange', source)
    assert len(saved) == 5
    assert ("other", "") in saved
    assert ("self", "2, 2") in saved
    assert source.count("dir=none") == 5


def test_show_saved_after_backward_marks_freed():
    loss, params = walkthrough_loss()
    loss.backward()
    source = make_dot(loss, params=params, show_saved=True).source
    assert "(freed)" in source


def test_show_attrs_lists_node_values():
    loss, params = walkthrough_loss()
    source = make_dot(loss, params=params, show_attrs=True).source
    assert re.search(r"MeanBackward0\\n-+\\n", source)
    assert "self_shape: (2, 2)" in source


def test_parameter_names_from_module():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    out = model(mg.ones(4, 3)).mean()
    source = make_dot(out, params=dict(model.named_parameters())).source
    for name, shape in (("0.weight", "2, 3"), ("0.bias", "2"), ("2.weight", "1, 2"), ("2.bias", "1")):
        assert f'label="{name}\\n ({shape})" fillcolor=lightblue' in source


def test_view_output_shows_its_base():
    x = mg.ones(2, 3, requires_grad=True)
    base = x * 2
    view = base.transpose(0, 1)
    source = make_dot(view).source
    assert "fillcolor=darkolivegreen3" in source
    assert "style=dotted" in source


def test_tuple_of_outputs():
    x = mg.ones(2, requires_grad=True)
    source = make_dot((x.exp(), x.sin() if hasattr(x, "sin") else x * 3)).source
    assert source.count("fillcolor=darkolivegreen1") == 2
    assert source.count("fillcolor=lightblue") == 1


def test_leaf_output_without_history():
    source = make_dot(mg.ones(2)).source
    assert source.count("fillcolor=darkolivegreen1") == 1


def test_deep_chain_does_not_recurse():
    x = mg.ones(1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y + 1
    assert labels(make_dot(y).source).count("AddBackward0") == 3000


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        make_dot("loss")
    with pytest.raises(TypeError, match=r"params\['w'\] must be a Tensor"):
        make_dot(mg.ones(1), params={"w": 1.0})


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("suffix, magic", [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_render(tmp_path, suffix, magic):
    loss, params = walkthrough_loss()
    path = make_dot(loss, params=params).render(tmp_path / f"graph.{suffix}")
    with open(path, "rb") as f:
        assert f.read().startswith(magic)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_render_format_overrides_suffix(tmp_path):
    path = make_dot(mg.ones(1)).render(tmp_path / "graph.out", format="svg")
    assert open(path, "rb").read().startswith(b"<?xml")


def test_render_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        make_dot(mg.ones(1)).render(tmp_path / "graph.svg")


def test_save_writes_dot_text(tmp_path):
    graph = make_dot(mg.ones(1))
    path = graph.save(tmp_path / "graph.dot")
    assert open(path).read() == graph.source


def test_forward_view_names_ops_and_skips_accumulate_grad():
    inputs = mg.ones([2, 2])
    w1, w2, w3 = (mg.tensor(v, requires_grad=True) for v in (2.0, 3.0, 4.0))
    l1 = inputs * w1
    loss = ((l1 + w2) * (l1 * w3)).mean()
    source = mg.viz.make_dot(loss, params={"w1": w1, "w2": w2, "w3": w3}, forward=True).source
    assert "AccumulateGrad" not in source
    assert "Backward" not in source
    assert source.count('label="mul"') == 3
    assert 'label="add"' in source
    assert 'label="mean"' in source
    assert f"{id(w1)} -> " in source  # the leaf feeds its op directly


def test_render_adds_the_format_suffix(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    path = make_dot(mg.ones(1, requires_grad=True) * 2).render(tmp_path / "graph", format="png")
    assert path == str(tmp_path / "graph.png")
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"
