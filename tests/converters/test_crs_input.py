"""CRS definitions given with an upload: descriptions are accepted, references to files, grids, URLs
and pipelines are refused at upload with a clear 422 (issue 18 item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyproj import CRS

from cim_platform.core.errors import InvalidInput
from cim_platform.datasets.crs_input import validate_crs_text
from tests.support.http_api import upload

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "survey" / "stele_scan_colour.ply"

ACCEPTED = [
    "EPSG:4546",
    "EPSG:4546+5737",
    "epsg:32649",
    "+proj=tmerc +lat_0=0 +lon_0=111 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs +type=crs",
    "+proj=utm +zone=49 +datum=WGS84 +units=m",
    CRS.from_epsg(4546).to_wkt(),
    CRS.from_epsg(27700).to_wkt(),  # "British National Grid": a name, not a grid file
    CRS.from_epsg(4546).to_json(),
]
REFUSED = [
    "+proj=longlat +nadgrids=/etc/passwd",
    "+proj=longlat +ellps=GRS80 +geoidgrids=@egm96_15.gtx",
    "+init=epsg:4326",
    "+proj=pipeline +step +proj=vgridshift +grids=/etc/shadow",
    "+proj=tmerc +lon_0=111 +ellps=GRS80 +towgs84=/etc/passwd",
    "https://example.invalid/crs.wkt",
    "file:///etc/passwd",
    '{"type": "GeographicCRS", "filename": "/etc/passwd"}',
    'VERTCRS["x",VDATUM["y"],PARAMETERFILE["Geoid",".../etc/passwd"]]',
    "not a crs at all",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_descriptions_are_accepted(text: str) -> None:
    assert validate_crs_text(text) == text.strip()


@pytest.mark.parametrize("text", REFUSED)
def test_references_are_refused_with_one_line(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        validate_crs_text(text)
    assert "\n" not in refused.value.message and "EPSG" in refused.value.message


def test_upload_with_a_file_reference_is_refused_and_stores_nothing(client, cast) -> None:
    headers = cast.headers("surveyor")
    answer = upload(client, headers, SAMPLE, name="bad crs", crs="+proj=longlat +nadgrids=/etc/passwd")
    assert answer.status_code == 422, answer.text
    assert "nadgrids" in answer.json()["detail"]
    listed = client.get("/api/v1/datasets", headers=headers).json()
    assert listed["total"] == 0
