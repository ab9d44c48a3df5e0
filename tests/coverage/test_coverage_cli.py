"""`cim coverage`: the table, load-built-up from a file, snapshot (reused when nothing changed)."""

from __future__ import annotations

import json

from shapely.geometry import box, mapping
from typer.testing import CliRunner

from api.cli import app
from cim_platform.core.errors import InvalidInput
from tests.support.coverage import add_dataset


def test_cli_loads_built_up_areas_and_prints_the_table(client, cast, settings, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CIM_DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("CIM_DATA_DIR", str(settings.resolved_data_dir))
    document = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": mapping(box(109.90, 39.78, 109.98, 39.84))}],
    }
    path = tmp_path / "dongsheng.geojson"
    path.write_text(json.dumps(document))
    runner = CliRunner()
    loaded = runner.invoke(
        app,
        ["coverage", "load-built-up", str(path), "--unit", "dongsheng", "--year", "2025", "--source", "land_survey"],
    )
    assert loaded.exit_code == 0, loaded.output
    assert "150602 2025: 45.6" in loaded.output
    add_dataset(client.app.state.engine, cast.orgs["institute_a"], [box(109.90, 39.78, 109.94, 39.84)])
    table = runner.invoke(app, ["coverage"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert any(line.startswith("150602") and "50.0" in line for line in lines), table.output
    assert any(line.startswith("city") and "50.0" in line for line in lines), table.output
    assert "target city: 30% at CIM1+ by 2025-12-31: reached" not in table.output  # nothing stored yet
    first = runner.invoke(app, ["coverage", "snapshot"])
    assert first.exit_code == 0 and "computed 10 unit(s)" in first.output, first.output
    again = runner.invoke(app, ["coverage", "snapshot"])
    assert "unchanged, stored snapshot" in again.output and first.output.split()[1] == again.output.split()[1]
    bad = runner.invoke(app, ["coverage", "--level", "CIM9"])
    assert isinstance(bad.exception, InvalidInput)  # `cim` (api.cli.main) answers it with exit code 2 and one line
