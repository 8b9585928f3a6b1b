"""The benchmark cases, their sizes, metrics and targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from benchmarks.cases import cnn, deep_graph, elementwise, memory, mlp
from benchmarks.libraries import LIBRARIES
from benchmarks.timing import TimingPlan

# run(library, params, plan) returns {"metrics": {name: {"value": ...}}, "check": {"loss", "grad_norm"}}.
CaseRunner = Callable[[str, dict[str, Any], TimingPlan], dict[str, Any]]


@dataclass(frozen=True)
class Metric:
    """One figure that a case reports per run: ``unit`` is "s" or "bytes"."""

    name: str
    label: str
    unit: str = "s"


@dataclass(frozen=True)
class Target:
    """A limit on numerator / denominator, each a (library, metric name) pair."""

    numerator: tuple[str, str]
    denominator: tuple[str, str]
    limit: float

    @property
    def label(self) -> str:
        (num_library, num_metric), (den_library, den_metric) = self.numerator, self.denominator
        if num_library == den_library:
            return f"{num_library} {num_metric} / {den_metric} <= {self.limit:g}"
        return f"{num_library} / {den_library} ({num_metric}) <= {self.limit:g}"


@dataclass(frozen=True)
class Case:
    name: str
    summary: str
    run: CaseRunner
    full: dict[str, Any]
    quick: dict[str, Any]
    metrics: tuple[Metric, ...]
    libraries: tuple[str, ...] = LIBRARIES
    targets: tuple[Target, ...] = ()
    # Names of a long-run and a short-run metric whose ratio is reported per library.
    scaling: tuple[str, str] | None = None

    def params(self, quick: bool) -> dict[str, Any]:
        return self.quick if quick else self.full


STEP = (Metric("step", "time per step"),)

CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case(
            name="op_overhead",
            summary="100 elementwise ops (mul, add, tanh, exp) on {numel} float32 elements, sum, backward",
            run=elementwise.run,
            full={"numel": 4},
            quick={"numel": 4},
            metrics=STEP,
            targets=(
                Target(("multigrad", "step"), ("torch", "step"), 1.5),
                Target(("multigrad", "step"), ("autograd", "step"), 0.5),
            ),
        ),
        Case(
            name="large_elementwise",
            summary="the same 100-op chain on {numel} float32 elements, sum, backward",
            run=elementwise.run,
            full={"numel": 1_000_000},
            quick={"numel": 100_000},
            metrics=STEP,
            targets=(Target(("multigrad", "step"), ("numpy", "step"), 1.10),),
        ),
        Case(
            name="mlp_step",
            summary="MLP 64-128-10 with ReLU, batch 64, cross-entropy, SGD step",
            run=mlp.run,
            full={"batch": 64, "inputs": 64, "hidden": 128, "classes": 10},
            quick={"batch": 64, "inputs": 64, "hidden": 128, "classes": 10},
            metrics=STEP,
            targets=(Target(("multigrad", "step"), ("torch", "step"), 1.5),),
        ),
        Case(
            name="cnn_step",
            summary="CNN conv3x3(8)-relu-maxpool2-conv3x3(16)-relu-linear(10), batch 64 of 8x8, SGD step",
            run=cnn.run,
            full={"batch": 64, "size": 8},
            quick={"batch": 64, "size": 8},
            metrics=STEP,
            targets=(Target(("multigrad", "step"), ("torch", "step"), 3.0),),
        ),
        Case(
            name="deep_graph",
            summary="backward of a chain of cheap ops (alternating mul, add) on a 1-element tensor",
            run=deep_graph.run,
            full={"short_ops": 10_000, "long_ops": 100_000},
            quick={"short_ops": 1_000, "long_ops": 10_000},
            metrics=(
                Metric("backward_short", "backward, {short_ops} ops"),
                Metric("backward_long", "backward, {long_ops} ops"),
            ),
            libraries=("multigrad", "torch", "autograd"),
            targets=(Target(("multigrad", "backward_long"), ("multigrad", "backward_short"), 11.0),),
            scaling=("backward_long", "backward_short"),
        ),
        Case(
            name="memory",
            summary="peak RSS growth of forward+backward, {layers}-layer tanh MLP, activations {batch}x{width}",
            run=memory.run,
            full={"layers": 50, "batch": 1000, "width": 1000},
            quick={"layers": 10, "batch": 200, "width": 200},
            metrics=(Metric("peak_rss", "peak RSS growth", unit="bytes"), Metric("time", "forward+backward time")),
            targets=(
                Target(("multigrad", "peak_rss"), ("numpy", "peak_rss"), 1.2),
                Target(("multigrad", "peak_rss"), ("torch", "peak_rss"), 1.0),
            ),
        ),
    )
}
