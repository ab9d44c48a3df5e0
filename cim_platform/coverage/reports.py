"""The coverage as CSV and the history as a plain SVG chart (no script) with the target lines."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from cim_platform.coverage.compute import UnitFigure

CSV_COLUMNS = (
    "unit",
    "name",
    "name_zh",
    "built_up_year",
    "built_up_m2",
    "covered_m2",
    "share",
    "buildings",
    "buildings_covered",
)


def to_csv(rows: Sequence[tuple[str, str, str, UnitFigure]], breakdown_keys: Sequence[str]) -> str:
    """One row per unit (and the city); breakdown columns ``covered_m2:<kind>`` / ``covered_m2:CIM<n>``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"covered_m2:{key}" for key in breakdown_keys)])
    for code, name, name_zh, figure in rows:
        merged = {**figure.by_kind, **figure.by_level}
        writer.writerow(
            [
                code,
                name,
                name_zh,
                figure.built_up_year if figure.built_up_year is not None else "",
                f"{figure.built_up_m2:.1f}",
                f"{figure.covered_m2:.1f}",
                f"{figure.share:.6f}" if figure.share is not None else "",
                figure.buildings if figure.buildings is not None else "",
                figure.buildings_covered if figure.buildings_covered is not None else "",
                *(f"{merged.get(key, 0.0):.1f}" for key in breakdown_keys),
            ]
        )
    return out.getvalue()


@dataclass(frozen=True)
class ChartTarget:
    due: date
    share: float


WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 320, 56, 16, 28, 40


def history_svg(title: str, points: Sequence[tuple[datetime, float]], targets: Sequence[ChartTarget]) -> str:
    """The share over time (line and dots), the targets (dashed line to each due date, a marker)."""
    times = [at.timestamp() for at, _ in points] + [
        datetime(t.due.year, t.due.month, t.due.day).timestamp() for t in targets
    ]
    low, high = (min(times), max(times)) if times else (0.0, 1.0)
    if high - low < 86400:
        low, high = low - 86400, high + 86400
    top_share = max([0.1, *(s for _, s in points), *(t.share for t in targets)]) * 1.1
    top_share = min(1.0, top_share)

    def x(seconds: float) -> float:
        return LEFT + (seconds - low) / (high - low) * (WIDTH - LEFT - RIGHT)

    def y(share: float) -> float:
        return HEIGHT - BOTTOM - share / top_share * (HEIGHT - TOP - BOTTOM)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="16" font-size="13">{escape(title)}</text>',
    ]
    for step in range(6):
        share = top_share * step / 5
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(share):.1f}" y2="{y(share):.1f}" stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{y(share) + 4:.1f}" text-anchor="end">{share * 100:.0f}%</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 12}">{escape(_day(low))}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end">{escape(_day(high))}</text>'
    )
    for target in targets:
        due = datetime(target.due.year, target.due.month, target.due.day).timestamp()
        parts.append(
            f'<line class="target" x1="{LEFT}" x2="{x(due):.1f}" y1="{y(target.share):.1f}" y2="{y(target.share):.1f}" '
            'stroke="#c0392b" stroke-dasharray="6 4"/>'
            f'<circle cx="{x(due):.1f}" cy="{y(target.share):.1f}" r="4" fill="#c0392b"/>'
            f'<text x="{x(due) - 6:.1f}" y="{y(target.share) - 6:.1f}" text-anchor="end" fill="#c0392b">'
            f"target {target.share * 100:.0f}% by {target.due.isoformat()}</text>"
        )
    if points:
        path = " ".join(f"{x(at.timestamp()):.1f},{y(share):.1f}" for at, share in points)
        parts.append(f'<polyline class="history" points="{path}" fill="none" stroke="#2471a3" stroke-width="2"/>')
        for at, share in points:
            parts.append(
                f'<circle cx="{x(at.timestamp()):.1f}" cy="{y(share):.1f}" r="3" fill="#2471a3">'
                f"<title>{at.isoformat(timespec='minutes')}: {share * 100:.2f}%</title></circle>"
            )
    else:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no snapshots yet</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).date().isoformat()
