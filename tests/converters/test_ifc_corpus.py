"""Every corpus IFC converts to a valid tileset (Khronos-clean glbs, 3D Tiles schema + rules)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from converters.api import convert
from converters.errors import ConversionError
from converters.options import ConvertOptions
from tests.support.validators import assert_output_valid

CORPUS = Path(os.environ.get("CIM_CORPUS_DIR", Path(__file__).resolve().parents[3] / "shared" / "corpus")) / "ifc"
FILES = sorted(CORPUS.glob("*.ifc*")) if CORPUS.is_dir() else []
# georeferencing each file must report (the README's survey of the corpus)
EXPECTED_SOURCE = {
    "AC20-FZK-Haus.ifc": "IfcSite",
    "Office_A_20110811.ifc": "IfcSite",
    "AC11-Institute-Var-2-IFC.ifczip": "IfcSite",
    "Roof-01_BCAD.ifc": "IfcSite",
    "geographic-referencing-utm.ifc": "IfcMapConversion",
    "PCERT_Infra-Bridge.ifc": "IfcMapConversion",
    "IfcOpenHouse_IFC4.ifc": "default-location",
    "SverchokFacadesIfcSverchok.ifc": "default-location",
    "vectorworks_unicode.ifc": "default-location",  # RefLat/RefLon 0,0 is a placeholder
}


@pytest.mark.skipif(not FILES, reason="corpus not mounted")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_corpus_file_converts_or_is_refused_cleanly(path: Path, tmp_path: Path) -> None:
    try:
        report = convert(path, tmp_path, ConvertOptions(allow_ungeoreferenced=True))
    except ConversionError as error:
        assert "\n" not in str(error)
        pytest.fail(f"refused: {error}")  # none of the current corpus files should be refused
    assert_output_valid(tmp_path)
    assert report["elements"]["converted"] > 0 and report["triangles"] > 0
    assert report["georeferencing"]["source"] == EXPECTED_SOURCE.get(path.name, report["georeferencing"]["source"])
    assert report["footprint"] is not None


def test_utm_sample_scale_quirk_lands_in_karlsruhe(tmp_path: Path) -> None:
    path = CORPUS / "geographic-referencing-utm.ifc"
    if not path.exists():
        pytest.skip("corpus not mounted")
    report = convert(path, tmp_path, ConvertOptions())
    geo = report["georeferencing"]
    assert "inverse" in geo["scale_reading"]  # Scale=1000 with mm units read as 1/1000
    origin = geo["origin"]["wgs84"]
    # the file's own IfcSite RefLatitude/RefLongitude: 49°5'43.98", 8°26'1.25"
    assert abs(origin["lat"] - (49 + 5 / 60 + 43.9837 / 3600)) < 1e-3
    assert abs(origin["lon"] - (8 + 26 / 60 + 1.2473 / 3600)) < 1e-3


def test_bridge_with_millimetre_map_unit(tmp_path: Path) -> None:
    path = CORPUS / "PCERT_Infra-Bridge.ifc"
    if not path.exists():
        pytest.skip("corpus not mounted")
    report = convert(path, tmp_path, ConvertOptions())
    geo = report["georeferencing"]
    assert geo["map_unit_m"] == 0.001 and geo["crs"] == "EPSG:32760"
    assert abs(geo["map_origin"][0] - 729011.2258823584) < 1e-6  # Eastings in mm → metres


def test_map_conversion_scaled_factors_apply_per_axis() -> None:
    """IFC4.3 IfcMapConversionScaled: FactorX/Y/Z scale the engineering axes before the rotation."""
    import ifcopenshell
    import ifcopenshell.util.element
    import numpy as np

    from converters.ifc.georeference import resolve

    path = CORPUS / "geographic-referencing-utm.ifc"
    if not path.exists():
        pytest.skip("corpus not mounted")
    model = ifcopenshell.open(str(path))
    plain = resolve(model, ConvertOptions())
    conversion = model.by_type("IfcMapConversion")[0]
    attributes = conversion.get_info(include_identifier=False, recursive=False)
    attributes.pop("type")
    scaled = model.create_entity("IfcMapConversionScaled", **attributes, FactorX=1.5, FactorY=1.0, FactorZ=2.0)
    for inverse in model.get_inverse(conversion):
        ifcopenshell.util.element.replace_attribute(inverse, conversion, scaled)
    model.remove(conversion)
    georef = resolve(model, ConvertOptions())
    assert georef.source == "IfcMapConversionScaled" and georef.details["factors_xyz"] == [1.5, 1.0, 2.0]
    probe = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    enu_plain, enu_scaled = plain.to_enu(probe), georef.to_enu(probe)
    assert abs(np.linalg.norm(enu_scaled[0, :2]) - 15.0) < 0.01  # x stretched by 1.5
    assert abs(np.linalg.norm(enu_scaled[1, :2]) - np.linalg.norm(enu_plain[1, :2])) < 1e-6
    assert abs(enu_scaled[2, 2] - 20.0) < 0.01  # z by 2
