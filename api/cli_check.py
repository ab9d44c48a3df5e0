"""``cim check MODEL.ifc --ids RULES.ids``: IDS checking offline (no database, no server).
Exit code 0 when every applicable requirement passes, 1 when any fails, 2 for unreadable input."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cim_platform.bim_review.ids_check import check_model, load_ids, open_model
from cim_platform.bim_review.ids_report import render


def check_command(
    model: Annotated[Path, typer.Argument(help="IFC model to check")],
    ids: Annotated[Path, typer.Option("--ids", help="IDS file (buildingSMART IDS 1.0)")],
    report: Annotated[str, typer.Option("--report", help="text, json or html")] = "text",
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write the report here (default: stdout)")] = None,
) -> None:
    """Check an IFC model against an IDS (works offline): exit 0 pass, 1 fail, 2 unreadable input."""
    if report not in ("text", "json", "html"):
        raise typer.BadParameter(f"--report must be text, json or html, got {report!r}")
    document = load_ids(ids)
    result = check_model(open_model(model), document)
    text = render(result, report)  # type: ignore[arg-type]
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{model.name}: {'pass' if result.passed else 'fail'} → {out}", err=True)
    if not result.passed:
        raise typer.Exit(1)
