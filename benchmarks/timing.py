"""Timing and memory measurement inside one worker process."""

from __future__ import annotations

import gc
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class TimingPlan:
    """How long one worker process warms up and measures a step."""

    warmup_s: float
    min_warmup_calls: int
    measure_s: float
    min_calls: int
    max_calls: int


FULL_PLAN = TimingPlan(warmup_s=0.3, min_warmup_calls=2, measure_s=1.0, min_calls=5, max_calls=20_000)
QUICK_PLAN = TimingPlan(warmup_s=0.05, min_warmup_calls=1, measure_s=0.2, min_calls=3, max_calls=2_000)


def time_calls(step: Callable[[], object], plan: TimingPlan) -> list[float]:
    """Call ``step`` repeatedly and return the duration of each measured call in seconds.

    Warm-up calls come first and are not returned. Garbage collection stays
    enabled during a call, as users run with it, but a full collection runs
    before the measured calls so that garbage from the warm-up is not billed.
    """
    start = time.perf_counter()
    calls = 0
    while calls < plan.min_warmup_calls or time.perf_counter() - start < plan.warmup_s:
        step()
        calls += 1
    gc.collect()

    durations: list[float] = []
    start = time.perf_counter()
    while len(durations) < plan.min_calls or (
        time.perf_counter() - start < plan.measure_s and len(durations) < plan.max_calls
    ):
        before = time.perf_counter()
        step()
        durations.append(time.perf_counter() - before)
    return durations


def summarize(durations: list[float]) -> dict[str, float]:
    """Return a metric record: the median duration as ``value``, plus min and call count."""
    return {"value": statistics.median(durations), "min": min(durations), "calls": len(durations)}


def peak_rss_bytes() -> int:
    """Return this process's peak resident set size so far, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return peak if sys.platform == "darwin" else peak * 1024
