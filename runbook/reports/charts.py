"""Small inline SVG charts for the HTML reports: no JavaScript, no fonts or images fetched.

Before/after bars (0-100 %) per row, the values written beside them, and the row's warning
and critical thresholds as labelled dashed lines, so "almost full" and "over the limit" are
visible at a glance, printed too: the chart spans the page width and its text is 12 px (about
9 pt on A4). The SVG is built as a string here, so every label (a mount point: text that came
from a customer's server) goes through ``markupsafe.escape`` before it is placed; the result
is returned as ``Markup`` for the autoescaping template to insert as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from runbook.reports.model import DiskPair, MemoryPair
from runbook.reports.wording import Wording

WIDTH = 680
LABEL_WIDTH = 170
VALUE_ROOM = 60
BAR_HEIGHT = 14
ROW_HEIGHT = 2 * BAR_HEIGHT + 22
TOP = 38
BEFORE_COLOUR = "#9aa5b1"
AFTER_COLOUR = "#2f6f9f"
WARN_COLOUR = "#b26a00"
CRIT_COLOUR = "#c0392b"
MAX_LABEL_CHARS = 24


@dataclass(frozen=True)
class BarRow:
    """One labelled pair of percentages, with the thresholds that apply to it."""

    label: str
    before: float | None
    after: float | None
    warn: float | None = None
    crit: float | None = None


def disk_rows(disks: Sequence[DiskPair]) -> tuple[BarRow, ...]:
    """Used % per mount, before and after, with the mount's disk thresholds."""
    return tuple(BarRow(d.mount, d.used_before, d.used_after, d.warn, d.crit) for d in disks)


def memory_rows(pair: MemoryPair, w: Wording) -> tuple[BarRow, ...]:
    """RAM in use (100 % minus what is available) and, where there is swap, swap in use."""
    rows = [BarRow(w.t("chart.ram"), pair.ram_before, pair.ram_after, pair.ram_warn, pair.ram_crit)]
    if pair.swap_before is not None or pair.swap_after is not None:
        rows.append(BarRow(w.t("chart.swap"), pair.swap_before, pair.swap_after))
    return tuple(rows)


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else "…" + text[-(MAX_LABEL_CHARS - 1):]


def before_after_chart(rows: Sequence[BarRow], title: str, w: Wording, before: datetime,
                       after: datetime) -> Markup:
    """Horizontal before/after bars per row, values beside them, thresholds as labelled lines."""
    if not rows:
        return Markup("")
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM
    height = TOP + len(rows) * ROW_HEIGHT + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _legend(w, before, after),
    ]
    for i, row in enumerate(rows):
        top = TOP + i * ROW_HEIGHT
        parts.append(f'<text x="0" y="{top + BAR_HEIGHT + 4}" class="chart-label">{escape(_label(row.label))}</text>')
        for j, (value, colour) in enumerate(((row.before, BEFORE_COLOUR), (row.after, AFTER_COLOUR))):
            y = top + j * (BAR_HEIGHT + 2)
            if value is None:
                continue
            length = round(plot * max(0.0, min(100.0, value)) / 100, 1)
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="{colour}"/>')
            parts.append(f'<text x="{LABEL_WIDTH + length + 4}" y="{y + BAR_HEIGHT - 3}" '
                         f'class="chart-value">{escape(w.pct(value))}</text>')
        parts += _thresholds(row, top, plot, w)
    parts.append("</svg>")
    return Markup("".join(parts))


def _thresholds(row: BarRow, top: int, plot: int, w: Wording) -> list[str]:
    """The row's warning and critical lines across its two bars, labelled beneath them."""
    out = []
    for value, colour, msgid, anchor in ((row.warn, WARN_COLOUR, "chart.warn", "end"),
                                         (row.crit, CRIT_COLOUR, "chart.crit", "start")):
        if value is None or not 0 < value <= 100:
            continue
        x = round(LABEL_WIDTH + plot * value / 100, 1)
        bottom = top + 2 * BAR_HEIGHT + 3
        out.append(f'<line x1="{x}" y1="{top - 3}" x2="{x}" y2="{bottom}" stroke="{colour}" stroke-width="1.5" '
                   f'stroke-dasharray="4,3"/>')
        shift = -3 if anchor == "end" else 3
        out.append(f'<text x="{x + shift}" y="{bottom + 12}" text-anchor="{anchor}" fill="{colour}" '
                   f'class="chart-limit">{escape(w.t(msgid, value=w.pct(value)))}</text>')
    return out


def _legend(w: Wording, before: datetime, after: datetime) -> str:
    items = ((w.t("chart.legend_before", time=w.time(before)), BEFORE_COLOUR, LABEL_WIDTH),
             (w.t("chart.legend_after", time=w.time(after)), AFTER_COLOUR, LABEL_WIDTH + 200))
    return "".join(f'<rect x="{x}" y="8" width="12" height="12" fill="{c}"/>'
                   f'<text x="{x + 17}" y="19" class="chart-legend">{escape(text)}</text>'
                   for text, c, x in items)
