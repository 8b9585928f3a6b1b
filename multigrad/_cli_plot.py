"""A line plot of loss curves as a standalone SVG file, written without a plotting library."""

from __future__ import annotations

import math
from html import escape

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_WIDTH, _HEIGHT = 640, 400
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 20, 40, 50


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return about ``count`` round tick values covering [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def loss_curve_svg(curves: dict[str, list[float]], title: str, x_label: str, y_label: str) -> str:
    """Return SVG text plotting each named sequence of values against its index (1, 2, ...)."""
    series = {name: values for name, values in curves.items() if values}
    plot_w = _WIDTH - _LEFT - _RIGHT
    plot_h = _HEIGHT - _TOP - _BOTTOM
    n_max = max((len(v) for v in series.values()), default=1)
    y_values = [y for values in series.values() for y in values if math.isfinite(y)]
    y_low = min(0.0, min(y_values, default=0.0))
    y_high = max(y_values, default=1.0) or 1.0

    def x_pos(i: int) -> float:
        return _LEFT + (plot_w * (i - 1) / (n_max - 1) if n_max > 1 else plot_w / 2)

    def y_pos(y: float) -> float:
        return _TOP + plot_h * (1 - (y - y_low) / (y_high - y_low))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{_WIDTH}" height="{_HEIGHT}" fill="white"/>',
        f'<text x="{_WIDTH / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_LEFT + plot_w}" y2="{_TOP + plot_h}" stroke="black"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + plot_h}" stroke="black"/>',
    ]
    for tick in _ticks(y_low, y_high):
        y = y_pos(tick)
        parts.append(f'<line x1="{_LEFT - 4}" y1="{y:.1f}" x2="{_LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    for tick in _ticks(1, n_max):
        if tick != int(tick):
            continue
        x = x_pos(int(tick))
        parts.append(f'<line x1="{x:.1f}" y1="{_TOP + plot_h}" x2="{x:.1f}" y2="{_TOP + plot_h + 4}" stroke="black"/>')
        parts.append(f'<text x="{x:.1f}" y="{_TOP + plot_h + 18}" text-anchor="middle">{int(tick)}</text>')
    parts.append(f'<text x="{_LEFT + plot_w / 2}" y="{_HEIGHT - 10}" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(f'<text transform="translate(18 {_TOP + plot_h / 2}) rotate(-90)" text-anchor="middle">'
                 f'{escape(y_label)}</text>')

    for k, (name, values) in enumerate(series.items()):
        color = _COLORS[k % len(_COLORS)]
        points = " ".join(f"{x_pos(i + 1):.1f},{y_pos(y):.1f}" for i, y in enumerate(values) if math.isfinite(y))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{points}"/>')
        legend_y = _TOP + 10 + 18 * k
        legend_x = _LEFT + plot_w - 150
        parts.append(f'<line x1="{legend_x}" y1="{legend_y}" x2="{legend_x + 24}" y2="{legend_y}" '
                     f'stroke="{color}" stroke-width="3"/>')
        parts.append(f'<text x="{legend_x + 30}" y="{legend_y + 4}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
