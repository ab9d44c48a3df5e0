"""A coordinate reference system given with an upload: EPSG codes, WKT, PROJJSON and PROJ strings are
accepted, but nothing that makes PROJ open a file or reach the network (grid shifts, ``+init=``
files, pipelines, URLs): a CRS is a description, and the server's files are not the uploader's to name."""

from __future__ import annotations

import re

from pyproj import CRS
from pyproj.exceptions import CRSError

from cim_platform.core.errors import InvalidInput

PROJ_KEYS = frozenset(
    "proj zone south north ellps datum towgs84 units vunits to_meter vto_meter lat_0 lon_0 lat_1 lat_2 lat_ts "
    "k k_0 x_0 y_0 no_defs type axis pm a b rf f R R_A alpha gamma lonc h no_uoff no_rot geoc over wktext "
    "lon_1 lon_2 lat_b theta t_epoch".split()
)
REFUSED_PROJ_VALUES = frozenset({"pipeline", "vgridshift", "hgridshift", "xyzgridshift", "tinshift", "deformation"})
REFERENCE_PATTERNS = re.compile(r"(https?|ftp|file)://|PARAMETERFILE|\"filename\"", re.IGNORECASE)
SCHEMA_MEMBER = re.compile(r'"\$schema"\s*:\s*"[^"]*"')
PROJ_TOKEN = re.compile(r"^\+(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?:=(?P<value>\S*))?$")
HINT = "give an EPSG code (e.g. EPSG:4546, EPSG:4546+5737), a WKT or a PROJ string without file references"


def validate_crs_text(text: str) -> str:
    """The CRS text unchanged if it is safe and pyproj knows it; InvalidInput naming the problem if not."""
    text = text.strip()
    if len(text) > 20_000:
        raise InvalidInput("crs is too long; " + HINT)
    if REFERENCE_PATTERNS.search(SCHEMA_MEMBER.sub("", text)):  # PROJJSON names its schema by URL: harmless
        raise InvalidInput("crs refers to a file, a grid or a URL, which the platform does not open; " + HINT)
    if text.startswith("+"):
        _check_proj_string(text)
    try:
        CRS.from_user_input(text)
    except CRSError:
        raise InvalidInput(f"crs {text[:200]!r} is not a coordinate reference system pyproj knows; " + HINT) from None
    return text


def _check_proj_string(text: str) -> None:
    for token in text.split():
        match = PROJ_TOKEN.match(token)
        if match is None:
            raise InvalidInput(f"crs: {token[:80]!r} is not a +key=value PROJ parameter; " + HINT)
        key, value = match["key"], (match["value"] or "")
        if key not in PROJ_KEYS:
            raise InvalidInput(f"crs: the PROJ parameter +{key} is not accepted; " + HINT)
        if value.lower() in REFUSED_PROJ_VALUES or "@" in value or "/" in value:
            raise InvalidInput(f"crs: +{key}={value[:80]} is not accepted; " + HINT)
