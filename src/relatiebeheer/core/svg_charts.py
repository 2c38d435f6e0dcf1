"""Small SVG charts drawn on the server, for PDFs (no browser needed) and pages alike.

Plain Python producing SVG text: bar charts, line charts, a radar chart and horizontal
bars. Labels are passed in already formatted (the caller knows the language); values
are numbers. Every chart carries a ``<title>`` for screen readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

BRAND = "#1f3a5f"
ACCENT = "#2c5282"
GRID = "#e2e8f0"
TEXT = "#4a5568"
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" font-family="{FONT}" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    format_value=lambda v: f"{v:,.0f}",
    width: int = 560,
    height: int = 220,
    color: str = ACCENT,
) -> str:
    """Vertical bars with a zero line; negative values hang below it."""
    left, right, top, bottom = 64, 10, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    high = _nice_max(max([0.0, *values]))
    low = -_nice_max(-min([0.0, *values])) if min([0.0, *values]) < 0 else 0.0
    span = high - low or 1.0

    def y(value: float) -> float:
        return top + plot_h * (high - value) / span

    body = []
    for i in range(5):
        value = low + span * i / 4
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" fill="{TEXT}">{escape(format_value(value))}</text>'
        )
    n = max(len(values), 1)
    slot = plot_w / n
    bar = slot * 0.7
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + (slot - bar) / 2
        y0, y1 = sorted((y(0), y(value)))
        body.append(
            f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar:.1f}" height="{max(y1 - y0, 0.5):.1f}" rx="2" fill="{color}"/>'
        )
        if n <= 16 or i % max(1, n // 12) == 0:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" fill="{TEXT}">{escape(label)}</text>'
            )
    return _svg(width, height, title, body)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    title: str,
    low: float | None = None,
    high: float | None = None,
    format_value=lambda v: f"{v:,.0f}",
    width: int = 560,
    height: int = 220,
) -> str:
    """One or more lines over the same labels; ``None`` leaves a gap."""
    colors = [ACCENT, "#d69e2e", "#38a169", "#e53e3e"]
    left, right, top, bottom = 64, 10, 12, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    numbers = [v for _name, values in series for v in values if v is not None]
    bottom_value: float = min(numbers, default=0.0) if low is None else low
    top_value: float = _nice_max(max(numbers, default=1.0)) if high is None else high
    span = (top_value - bottom_value) or 1.0
    n = max(len(labels), 1)

    def point(i: int, value: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h * (top_value - value) / span

    body = []
    for i in range(5):
        value = bottom_value + span * i / 4
        _, yy = point(0, value)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{GRID}"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="{TEXT}">{escape(format_value(value))}</text>'
        )
    for i, label in enumerate(labels):
        if n <= 12 or i % max(1, n // 12) == 0:
            x, _ = point(i, bottom_value)
            body.append(
                f'<text x="{x:.1f}" y="{height - bottom + 14}" text-anchor="middle" fill="{TEXT}">{escape(label)}</text>'
            )
    for k, (name, values) in enumerate(series):
        color = colors[k % len(colors)]
        segments: list[list[tuple[float, float]]] = []
        current: list[tuple[float, float]] = []
        for i, maybe in enumerate(values):
            if maybe is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(point(i, maybe))
        if current:
            segments.append(current)
        for segment in segments:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in segment)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
            for x, yy in segment:
                body.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="2.5" fill="{color}"/>')
        if len(series) > 1:
            lx = left + k * 140
            body.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{color}"/>')
            body.append(f'<text x="{lx + 14}" y="{height - 5}" fill="{TEXT}">{escape(name)}</text>')
    return _svg(width, height, title, body)


def radar_chart(
    axes: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    maximum: float = 100.0,
    size: int = 300,
) -> str:
    """A radar (spider) chart on a 0–``maximum`` scale; missing values are drawn at 0."""
    centre = size / 2
    radius = size / 2 - 54
    n = len(axes)

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(0.0, min(value, maximum)) / maximum
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    body = []
    for ring in (0.25, 0.5, 0.75, 1.0):
        ring_points = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in (point(i, maximum * ring) for i in range(n))
        )
        body.append(f'<polygon points="{ring_points}" fill="none" stroke="{GRID}"/>')
    for i, label in enumerate(axes):
        x, y = point(i, maximum)
        body.append(
            f'<line x1="{centre}" y1="{centre}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        lx, ly = point(i, maximum * 1.18)
        anchor = "middle" if abs(lx - centre) < 5 else ("start" if lx > centre else "end")
        shown = "–" if values[i] is None else f"{values[i]:.0f}"
        body.append(
            f'<text x="{lx:.1f}" y="{ly + 4:.1f}" text-anchor="{anchor}" fill="{TEXT}">{escape(label)} ({shown})</text>'
        )
    shape = " ".join(
        f"{x:.1f},{y:.1f}" for x, y in (point(i, v or 0.0) for i, v in enumerate(values))
    )
    body.append(
        f'<polygon points="{shape}" fill="{ACCENT}" fill-opacity="0.25" stroke="{ACCENT}" stroke-width="2"/>'
    )
    return _svg(size, size, title, body)


def horizontal_bars(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    format_value=lambda v: f"{v:,.0f}",
    width: int = 560,
    row: int = 22,
    color: str = ACCENT,
) -> str:
    """Labelled horizontal bars (distributions, tiers, segments)."""
    left, right = 150, 70
    height = row * max(len(values), 1) + 8
    high = max([0.0, *values]) or 1.0
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 4 + i * row
        w = (width - left - right) * max(value, 0) / high
        body.append(
            f'<text x="{left - 8}" y="{y + row * 0.65:.1f}" text-anchor="end" fill="{TEXT}">{escape(label)}</text>'
        )
        body.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" rx="2" fill="{color}"/>'
        )
        body.append(
            f'<text x="{left + w + 6:.1f}" y="{y + row * 0.65:.1f}" fill="{TEXT}">{escape(format_value(value))}</text>'
        )
    return _svg(width, height, title, body)
