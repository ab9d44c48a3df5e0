"""An IDS check report as text, JSON or a self-contained HTML page."""

from __future__ import annotations

import html
import json
from typing import Literal

from cim_platform.bim_review.ids_check import CheckReport

ReportFormat = Literal["text", "json", "html"]
SHOWN_PER_REQUIREMENT = 50


def as_text(report: CheckReport) -> str:
    lines = [f"{report.ids_title} — {report.model_schema}: {'PASS' if report.passed else 'FAIL'}"]
    for spec in report.specifications:
        if not spec.applies_to_model:
            lines.append(f"  SKIP {spec.name} (IFC {', '.join(spec.ifc_versions)} only)")
            continue
        lines.append(f"  {'PASS' if spec.passed else 'FAIL'} {spec.name} ({spec.applicable_count} applicable)")
        for req in spec.requirements:
            mark = "ok  " if req.passed else "FAIL"
            lines.append(f"    {mark} {req.description} ({req.passed_count} passed, {req.failed_count} failed)")
            for element in req.failures[:SHOWN_PER_REQUIREMENT]:
                lines.append(f"         {element.global_id} {element.ifc_class} {element.name!r}: {element.reason}")
            if req.failed_count > SHOWN_PER_REQUIREMENT:
                lines.append(f"         … {req.failed_count - SHOWN_PER_REQUIREMENT} more")
    return "\n".join(lines) + "\n"


def as_json(report: CheckReport) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def as_html(report: CheckReport) -> str:
    e = html.escape
    rows: list[str] = []
    for spec in report.specifications:
        state = "skip" if not spec.applies_to_model else ("pass" if spec.passed else "fail")
        rows.append(f'<section class="{state}"><h2>{e(state.upper())} {e(spec.name)}</h2><p>{e(spec.description)}</p>')
        for req in spec.requirements:
            rows.append(
                f'<h3 class="{"pass" if req.passed else "fail"}">{e(req.description)} '
                f"({req.passed_count} passed, {req.failed_count} failed)</h3>"
            )
            if req.failures:
                rows.append("<table><tr><th>GlobalId</th><th>Class</th><th>Name</th><th>Reason</th></tr>")
                rows.extend(
                    f"<tr><td><code>{e(f.global_id)}</code></td><td>{e(f.ifc_class)}</td>"
                    f"<td>{e(f.name)}</td><td>{e(f.reason)}</td></tr>"
                    for f in req.failures
                )
                rows.append("</table>")
        rows.append("</section>")
    verdict = "PASS" if report.passed else "FAIL"
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{e(report.ids_title)}: {verdict}</title><style>"
        "body{font-family:sans-serif;margin:2em}.fail{color:#b00020}.pass{color:#1b5e20}.skip{color:#666}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;color:#000}"
        f"</style></head><body><h1>{e(report.ids_title)} — {e(report.model_schema)}: {verdict}</h1>"
        + "".join(rows)
        + "</body></html>\n"
    )


def render(report: CheckReport, report_format: ReportFormat) -> str:
    return {"text": as_text, "json": as_json, "html": as_html}[report_format](report)
