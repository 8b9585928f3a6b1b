"""Aggregate worker records into per-case summaries and format them as text tables."""

from __future__ import annotations

import math
import statistics
from typing import Any

from benchmarks.cases import Case
from benchmarks.libraries import LIBRARIES

# float32 sums of up to 1e6 terms, and matmuls in different BLAS libraries, differ
# in the last digits. A wrong gradient differs by far more than this.
CHECK_RTOL = 1e-3

# The first library in this list that ran is the reference for the loss check.
CHECK_REFERENCE_ORDER = ("numpy", "torch", "autograd", "multigrad")


def aggregate_library(case: Case, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Summarize one library's runs: status, per-metric median/min/max, check values."""
    ok_runs = [r for r in records if r["status"] == "ok"]
    failed_runs = [r for r in records if r["status"] != "ok"]
    summary: dict[str, Any] = {"status": "ok", "runs": records}
    if failed_runs:
        summary["status"] = failed_runs[0]["status"] if not ok_runs else "error"
        summary["error"] = failed_runs[0].get("error", "unknown error")
    versions = [r["version"] for r in records if r.get("version")]
    summary["version"] = versions[0] if versions else None
    if not ok_runs:
        return summary

    summary["metrics"] = {}
    for metric in case.metrics:
        values = [r["metrics"][metric.name]["value"] for r in ok_runs]
        summary["metrics"][metric.name] = {
            "median": statistics.median(values),
            "min": min(values),
            "max": max(values),
            "runs": len(values),
        }
    summary["check"] = ok_runs[0]["check"]
    return summary


def metric_median(libraries: dict[str, Any], library: str, metric: str) -> float | None:
    summary = libraries.get(library)
    if summary is None or "metrics" not in summary:
        return None
    return summary["metrics"][metric]["median"]


def compare_checks(libraries: dict[str, Any]) -> dict[str, Any]:
    """Compare each library's loss and gradient norm with the reference library's."""
    checked = {name: s["check"] for name, s in libraries.items() if "check" in s}
    reference = next((name for name in CHECK_REFERENCE_ORDER if name in checked), None)
    if reference is None or len(checked) < 2:
        return {"status": "nothing to compare", "reference": reference, "rtol": CHECK_RTOL, "mismatches": []}

    mismatches = []
    for name, check in checked.items():
        for key in ("loss", "grad_norm"):
            expected = checked[reference][key]
            if not math.isclose(check[key], expected, rel_tol=CHECK_RTOL, abs_tol=1e-30):
                mismatches.append({"library": name, "quantity": key, "value": check[key], "expected": expected})
    return {
        "status": "mismatch" if mismatches else "agree",
        "reference": reference,
        "compared": sorted(name for name in checked if name != reference),
        "rtol": CHECK_RTOL,
        "mismatches": mismatches,
    }


def ratio_or_none(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def summarize_case(case: Case, params: dict[str, Any], records: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Build the JSON summary of one case from the worker records of each library."""
    libraries = {name: aggregate_library(case, runs) for name, runs in records.items()}

    ratios = []
    for metric in case.metrics:
        for baseline in libraries:
            if baseline == "multigrad" or "multigrad" not in libraries:
                continue
            value = ratio_or_none(
                metric_median(libraries, "multigrad", metric.name), metric_median(libraries, baseline, metric.name)
            )
            ratios.append({"metric": metric.name, "numerator": "multigrad", "denominator": baseline, "value": value})

    scaling = {}
    if case.scaling is not None:
        long_metric, short_metric = case.scaling
        for name in libraries:
            scaling[name] = ratio_or_none(
                metric_median(libraries, name, long_metric), metric_median(libraries, name, short_metric)
            )

    targets = []
    for target in case.targets:
        value = ratio_or_none(metric_median(libraries, *target.numerator), metric_median(libraries, *target.denominator))
        if value is None:
            status = "n/a"
        elif value <= target.limit:
            status = "met"
        else:
            status = "missed"
        targets.append({"target": target.label, "limit": target.limit, "value": value, "status": status})

    return {
        "summary": case.summary.format(**params),
        "params": params,
        "libraries": libraries,
        "check": compare_checks(libraries),
        "ratios": ratios,
        "scaling": scaling,
        "targets": targets,
    }


def format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "bytes":
        return f"{value / 2**20:.1f} MiB"
    if unit == "s":
        for scale, suffix in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
            if abs(value) >= scale:
                return f"{value / scale:.3g} {suffix}"
        return f"{value / 1e-9:.3g} ns"
    return f"{value:.3g}"


def format_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def format_table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Left-align cells into columns.

    Only the longest rows set the column widths, so a shorter row (such as an
    error message in place of the figures) may run past the columns.
    """
    columns = max(len(row) for row in rows)
    widths = [0] * columns
    for row in rows:
        sized_cells = row if len(row) == columns else row[:-1]
        for i, cell in enumerate(sized_cells):
            widths[i] = max(widths[i], len(cell))
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 or len(row) == columns else cell for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def format_case(case: Case, result: dict[str, Any], repeat: int) -> str:
    """Format one case as a text block: per-library medians, check, ratios and targets."""
    params = result["params"]
    lines = [f"{case.name}: {result['summary']}", f"  params: {params}; median over up to {repeat} processes"]

    header = ["library", "version"]
    for metric in case.metrics:
        header += [metric.label.format(**params), "min..max"]
    header += ["loss", "grad norm"]
    rows = [header]
    for name, summary in result["libraries"].items():
        row = [name, summary.get("version") or "-"]
        if "metrics" not in summary:
            rows.append(row + [f"{summary['status']}: {summary.get('error', '')}"])
            continue
        for metric in case.metrics:
            figures = summary["metrics"][metric.name]
            row.append(format_value(figures["median"], metric.unit))
            row.append(f"{format_value(figures['min'], metric.unit)}..{format_value(figures['max'], metric.unit)}")
        row += [f"{summary['check']['loss']:.6g}", f"{summary['check']['grad_norm']:.6g}"]
        if summary["status"] != "ok":
            row.append(f"(some runs failed: {summary['error']})")
        rows.append(row)
    lines += format_table(rows)

    skipped = [name for name in LIBRARIES if name not in case.libraries]
    if skipped:
        lines.append(f"  not applicable to this case: {', '.join(skipped)}")

    check = result["check"]
    if check["status"] == "agree":
        lines.append(
            f"  check: loss and grad norm of {', '.join(check['compared'])} agree with {check['reference']}"
            f" within rtol {check['rtol']:g}"
        )
    elif check["status"] == "mismatch":
        for mismatch in check["mismatches"]:
            lines.append(
                f"  check: MISMATCH {mismatch['library']} {mismatch['quantity']} = {mismatch['value']:.8g},"
                f" {check['reference']} has {mismatch['expected']:.8g}"
            )
    else:
        lines.append("  check: fewer than two libraries ran, nothing to compare")

    ratio_rows = []
    for ratio in result["ratios"]:
        label = next(m.label for m in case.metrics if m.name == ratio["metric"]).format(**params)
        ratio_rows.append([f"{ratio['numerator']} / {ratio['denominator']}", label, format_ratio(ratio["value"])])
    for name, value in result["scaling"].items():
        long_metric, short_metric = case.scaling
        ratio_rows.append([f"{name} scaling", f"{long_metric} / {short_metric}", format_ratio(value)])
    for target in result["targets"]:
        ratio_rows.append(["target", target["target"], format_ratio(target["value"]), target["status"]])
    if ratio_rows:
        lines += format_table(ratio_rows)
    return "\n".join(lines)


def format_target_summary(results: dict[str, dict[str, Any]]) -> str:
    rows = [["case", "target", "value", "status"]]
    for case_name, result in results.items():
        for target in result["targets"]:
            rows.append([case_name, target["target"], format_ratio(target["value"]), target["status"]])
    return "\n".join(["targets"] + format_table(rows))
