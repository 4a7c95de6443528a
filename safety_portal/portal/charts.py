"""Server-side SVG charts: readable without JavaScript and allowed by a strict CSP.

Each function returns SVG markup (escaped text, class names only — colours come from the portal's
stylesheet, so no `style` attribute is needed) plus the same numbers as a small table, for screen
readers and for anyone who wants the figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 560
HEIGHT = 200
PAD_LEFT = 36
PAD_RIGHT = 10
PAD_TOP = 12
PAD_BOTTOM = 26


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css: str = "s1"


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    title: str
    legend: list[tuple[str, str]]
    table_head: list[str]
    table_rows: list[list[str]]
    empty: bool


def _nice_max(value: float) -> float:
    """A round top for the y axis, divisible by 4 so that the four grid steps are whole numbers."""
    if value <= 0:
        return 4.0
    for step in (4, 8, 12, 20, 40, 60, 80, 100, 200, 400, 600, 800, 1000, 2000, 4000, 8000):
        if value <= step:
            return float(step)
    magnitude = 10 ** (len(str(int(value))) - 1)
    return float(((int(value) // magnitude) + 1) * magnitude)


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:.0f}%"
    if float(value).is_integer():
        return f"{int(value):,}{unit}"
    return f"{value:,.1f}{unit}"


def _frame(y_max: float, unit: str) -> list[str]:
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = []
    for i in range(5):
        value = y_max * i / 4
        y = PAD_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line class="grid-line" x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" '
            f'y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{PAD_LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">'
            f"{escape(_fmt(value, unit))}</text>"
        )
    base = PAD_TOP + plot_h
    parts.append(
        f'<line class="axis" x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH - PAD_RIGHT}" y2="{base}"/>'
    )
    return parts


def _day_labels(days: Sequence[dt.date], slot: float) -> list[str]:
    return _tick_labels([day.strftime("%d %b") for day in days], slot)


def _tick_labels(labels: Sequence[str], slot: float) -> list[str]:
    parts = []
    step = max(1, len(labels) // 6)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            x = PAD_LEFT + slot * (i + 0.5)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return parts


def _svg(title: str, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every value interpolated above is a number or escaped text
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def bars(title: str, days: Sequence[dt.date], series: Sequence[Series], *, unit: str = "") -> Chart:
    """Stacked bars per day (one series = plain bars)."""
    return labelled_bars(
        title,
        [f"{day:%d %b}" for day in days],
        series,
        unit=unit,
        head="Day",
        keys=[f"{day:%Y-%m-%d}" for day in days],
    )


def labelled_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    head: str = "",
    keys: Sequence[str] | None = None,
) -> Chart:
    """Stacked bars, one per label (a day, a country); `keys` name the table's rows (the labels
    when not given)."""
    keys = list(keys) if keys is not None else list(labels)
    totals = [sum((s.values[i] or 0) for s in series) for i in range(len(labels))]
    y_max = _nice_max(max(totals, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = max(min(slot * 0.72, 64), 1)
    body = _frame(y_max, unit)
    for i, label in enumerate(labels):
        y = PAD_TOP + plot_h
        x = PAD_LEFT + slot * i + (slot - bar_w) / 2
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = plot_h * value / y_max
            y -= h
            body.append(
                f'<rect class="bar {s.css}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{escape(label)}: {escape(s.name)} '
                f"{escape(_fmt(value, unit))}</title></rect>"
            )
    body += _tick_labels(labels, slot)
    rows = [[key, *[_fmt(s.values[i], unit) for s in series]] for i, key in enumerate(keys)]
    return Chart(
        svg=_svg(title, body),
        title=title,
        legend=[(s.name, s.css) for s in series] if len(series) > 1 else [],
        table_head=[head, *[s.name for s in series]],
        table_rows=rows,
        empty=not any(totals),
    )


def line(
    title: str,
    days: Sequence[dt.date],
    series: Series,
    *,
    unit: str = "",
    y_max: float | None = None,
) -> Chart:
    """A line over days; missing values (None) break the line."""
    known = [v for v in series.values if v is not None]
    top = y_max or _nice_max(max(known, default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(days), 1)
    body = _frame(top, unit)
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, value in enumerate(series.values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x = PAD_LEFT + slot * (i + 0.5)
        y = PAD_TOP + plot_h - plot_h * min(value, top) / top
        segment.append(f"{x:.1f},{y:.1f}")
        body.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.6"><title>{days[i]:%d %b}: '
            f"{escape(_fmt(value, unit))}</title></circle>"
        )
    if segment:
        segments.append(segment)
    for points in segments:
        body.insert(len(body) - 0, f'<polyline class="line" points="{" ".join(points)}"/>')
    body += _day_labels(days, slot)
    rows = [[f"{day:%Y-%m-%d}", _fmt(series.values[i], unit)] for i, day in enumerate(days)]
    return Chart(
        svg=_svg(title, body),
        title=title,
        legend=[],
        table_head=["Day", series.name],
        table_rows=rows,
        empty=not known,
    )
