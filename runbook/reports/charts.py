"""Small inline SVG charts for the HTML reports: no JavaScript, no fonts or images fetched.

The SVG is built as a string here, so every label (a mount point, a check name: text that
came from a customer's server) goes through ``markupsafe.escape`` before it is placed; the
result is returned as ``Markup`` for the autoescaping template to insert as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from runbook.reports.model import DiskChange, ValueChange
from runbook.reports.wording import Wording

WIDTH = 520
LABEL_WIDTH = 150
BAR_HEIGHT = 12
ROW_HEIGHT = 2 * BAR_HEIGHT + 14
LEGEND_HEIGHT = 22
BEFORE_COLOUR = "#9aa5b1"
AFTER_COLOUR = "#2f6f9f"
WARN_COLOUR = "#c0392b"
MAX_LABEL_CHARS = 22


@dataclass(frozen=True)
class PercentRow:
    """One labelled pair of percentages for a before/after bar chart."""

    label: str
    before: float | None
    after: float | None


def disk_rows(disks: Sequence[DiskChange]) -> tuple[PercentRow, ...]:
    """Used-% per mount, before and after."""
    return tuple(PercentRow(d.mount, d.used_before, d.used_after) for d in disks
                 if d.used_before is not None or d.used_after is not None)


def percent_rows(values: Sequence[ValueChange], label: Callable[[str], str]) -> tuple[PercentRow, ...]:
    """The ``*used_percent`` scalars of an evidence snapshot (swap, ...): shares where more
    is worse, so they read like the disk bars. ``label`` words a value's name."""
    return tuple(PercentRow(label(v.name), _num(v.before), _num(v.after))
                 for v in values if v.name.endswith("used_percent") and (_num(v.before) is not None
                                                                         or _num(v.after) is not None))


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _label(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[:MAX_LABEL_CHARS - 1] + "…"


def before_after_chart(rows: Sequence[PercentRow], title: str, w: Wording,
                       warn_at: float = 90.0) -> Markup:
    """Horizontal before/after bars (0-100 %) per row, with the values written beside them."""
    if not rows:
        return Markup("")
    plot = WIDTH - LABEL_WIDTH - 60
    height = LEGEND_HEIGHT + len(rows) * ROW_HEIGHT + 6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _legend(w),
    ]
    for i, row in enumerate(rows):
        top = LEGEND_HEIGHT + i * ROW_HEIGHT
        parts.append(f'<text x="0" y="{top + BAR_HEIGHT + 4}" class="chart-label">{escape(_label(row.label))}</text>')
        for j, (value, colour) in enumerate(((row.before, BEFORE_COLOUR), (row.after, AFTER_COLOUR))):
            y = top + j * (BAR_HEIGHT + 2)
            if value is None:
                continue
            clamped = max(0.0, min(100.0, value))
            length = round(plot * clamped / 100, 1)
            fill = WARN_COLOUR if j == 1 and value >= warn_at else colour
            parts.append(f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" fill="{fill}"/>')
            parts.append(f'<text x="{LABEL_WIDTH + length + 4}" y="{y + BAR_HEIGHT - 2}" '
                         f'class="chart-value">{escape(w.pct(value))}</text>')
    # a faint 100 % line so "almost full" is visible at a glance
    parts.append(f'<line x1="{LABEL_WIDTH + plot}" y1="{LEGEND_HEIGHT - 4}" x2="{LABEL_WIDTH + plot}" '
                 f'y2="{height}" stroke="#ccc" stroke-dasharray="3,3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(w: Wording) -> str:
    items = ((w.t("chart.legend_before"), BEFORE_COLOUR, LABEL_WIDTH),
             (w.t("chart.legend_after"), AFTER_COLOUR, LABEL_WIDTH + 90))
    return "".join(f'<rect x="{x}" y="4" width="10" height="10" fill="{c}"/>'
                   f'<text x="{x + 14}" y="13" class="chart-legend">{escape(text)}</text>'
                   for text, c, x in items)
