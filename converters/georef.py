"""Georeferencing shared by every converter: map coordinates → a local ENU frame → ECEF.

Geometry is written in a *local frame*: east-north-up (ENU) metres around an origin given as WGS84
longitude, latitude and ellipsoidal height. Coordinates stay small (float32-safe within tens of km),
and the root tile carries the local-to-ECEF (EPSG:4978) matrix.

Public API (stable; also used by the survey converters)::

    frame = LocalFrame(lon=109.79, lat=39.61, height=1260.0)      # degrees, metres above WGS84
    frame.tileset_transform() -> list[float]      # 16 numbers, column-major, local z-up ENU → ECEF
    frame.enu_to_ecef(enu) / frame.ecef_to_enu(ecef)              # (N, 3) float64 arrays
    frame.geodetic_to_enu(lon, lat, h) / frame.enu_to_geodetic(enu)
    frame.as_report() -> dict                     # origin in WGS84 and ECEF
    frame.rebased(enu_point) -> (LocalFrame, 4×4) # a frame elsewhere + the exact old→new ENU matrix

    to_local = MapToLocal("EPSG:4546+5737", frame)          # any pyproj CRS: EPSG code, WKT, compound
    enu = to_local.to_enu(xyz)                 # (N, 3) float64 local metres; input in the CRS's units
    geo = to_local.to_geodetic(xyz)            # (N, 3) lon, lat, ellipsoidal height
    to_local.report() -> dict                  # CRS name, units, how heights were treated, caveats
    MapToLocal.frame_at(crs, (e, n, h))        # a LocalFrame whose origin is that map point

    with use_geoid_grid("ordos_1985.gtx") as used:   # city geoid for EPSG:5737 heights (None: EGM96)
        ...                                           # used: geoids taken meanwhile, name → GeoidModel
    geoid_undulation(lon, lat, geoid=EGM96)    # N in metres, h = H + N

    enu_to_gltf(enu) -> float32 (N, 3)         # ENU z-up → glTF y-up (x=E, y=U, z=-N)
    gltf_to_enu(xyz)                           # the inverse

Heights: a compound CRS with a gravity-related vertical part (e.g. ``EPSG:4546+5737``, Yellow Sea
1985) and a 2D projected CRS (heights assumed orthometric, the surveying convention) get the EGM96
geoid undulation from Debian's ``proj-data`` grid (``egm96_15.gtx``) added: ``h = H + N``. EGM96 only
approximates national datums (decimetres off for the 1985 datum); :meth:`MapToLocal.report` says so.
A city-supplied geoid grid (GTX or GeoTIFF, PROJ's formats) replaces EGM96 for Yellow Sea 1985 heights
(EPSG:5737) while a conversion runs inside ``use_geoid_grid(path)`` (``converters.api.convert`` does
this for ``ConvertOptions.geoid_grid``); the report names the grid used.
A geographic 3D CRS (EPSG:4979, 4480…) or ``heights="ellipsoidal"`` takes heights as ellipsoidal.
Without the geoid grid, orthometric heights raise :class:`GeoreferencingError` rather than being
taken as ellipsoidal silently.

glTF is y-up: glb contents store ``(E, U, -N)``; a 3D Tiles runtime rotates y-up → z-up before the
tile transforms, so the root ``transform`` is the plain ENU→ECEF matrix.
"""

from __future__ import annotations

import math
import os
import struct
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from converters.errors import GeoreferencingError

if TYPE_CHECKING:  # pyproj costs ~0.1 s to import: loaded where a CRS or a grid is used, not at start-up
    from pyproj import CRS, Transformer

GEOID_GRID = "egm96_15.gtx"
YELLOW_SEA_1985 = 5737
GEOID_DIRS = (Path("/usr/share/proj"), Path("/usr/local/share/proj"))
GEOID_NOTE = (
    "orthometric heights converted with the EGM96 geoid (egm96_15.gtx) as an approximation of the "
    "national height datum; expect errors of a few decimetres"
)
HeightMode = Literal["auto", "orthometric", "ellipsoidal"]
FloatArray = NDArray[np.float64]

_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)


def _transform(transformer: Transformer, *columns: ArrayLike) -> tuple[FloatArray, ...]:
    """``transformer.transform`` on 1-D arrays (a one-element array is padded: pyproj would take it
    for a scalar, which NumPy deprecates); two columns (x, y) or three (x, y, z)."""
    arrays = [np.ascontiguousarray(np.atleast_1d(c), dtype=np.float64) for c in columns]
    single = arrays[0].size == 1
    if single:
        arrays = [np.repeat(a, 2) for a in arrays]
    result: tuple[Any, ...]
    if len(arrays) == 2:
        result = transformer.transform(arrays[0], arrays[1])
    elif len(arrays) == 3:
        result = transformer.transform(arrays[0], arrays[1], arrays[2])
    else:
        raise ValueError(f"expected 2 or 3 coordinate columns, got {len(arrays)}")
    return tuple(np.asarray(r, dtype=np.float64)[:1] if single else np.asarray(r, dtype=np.float64) for r in result)


def geodetic_to_ecef(lon: ArrayLike, lat: ArrayLike, h: ArrayLike) -> FloatArray:
    """WGS84 longitude/latitude (degrees) and ellipsoidal height → ECEF (N, 3) float64."""
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    height = np.asarray(h, dtype=np.float64)
    n = _A / np.sqrt(1 - _E2 * np.sin(phi) ** 2)
    x = (n + height) * np.cos(phi) * np.cos(lam)
    y = (n + height) * np.cos(phi) * np.sin(lam)
    z = (n * (1 - _E2) + height) * np.sin(phi)
    return np.stack([x, y, z], axis=-1)


def ecef_to_geodetic(ecef: ArrayLike) -> FloatArray:
    """ECEF (N, 3) → (N, 3) longitude, latitude (degrees), ellipsoidal height.

    PROJ's own ``cart`` inverse (Bowring's closed form, what EPSG:4978 → EPSG:4979 runs), in NumPy so
    that a conversion without a CRS does not import pyproj; agrees with it to 1e-9 degrees and 1e-6 m."""
    xyz = np.atleast_2d(np.asarray(ecef, dtype=np.float64))
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    b = _A * math.sqrt(1 - _E2)
    p = np.hypot(x, y)
    theta = np.arctan2(z * _A, p * b)
    c, s = np.cos(theta), np.sin(theta)
    lat = np.arctan2(z + _E2 / (1 - _E2) * b * s**3, p - _E2 * _A * c**3)
    lon = np.arctan2(y, x)
    sin_lat, cos_lat = np.sin(lat), np.cos(lat)
    n = _A / np.sqrt(1 - _E2 * sin_lat**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(
            np.abs(cos_lat) < 1e-6,  # near the poles p / cos(lat) is unstable
            z / sin_lat - n * (1 - _E2),
            p / cos_lat - n,
        )
    return np.stack([np.degrees(lon), np.degrees(lat), h], axis=-1)


@dataclass(frozen=True, slots=True)
class LocalFrame:
    """An east-north-up frame at ``(lon, lat)`` degrees and ``height`` metres above the WGS84 ellipsoid."""

    lon: float
    lat: float
    height: float

    def __post_init__(self) -> None:
        if not (-180.0 <= self.lon <= 180.0 and -90.0 <= self.lat <= 90.0 and math.isfinite(self.height)):
            raise GeoreferencingError(
                f"origin lon={self.lon}, lat={self.lat}, h={self.height} is not a valid WGS84 position"
            )

    @property
    def ecef_origin(self) -> FloatArray:
        return geodetic_to_ecef(np.array(self.lon), np.array(self.lat), np.array(self.height))

    def rotation(self) -> FloatArray:
        """3×3 matrix whose columns are the east, north, up unit vectors in ECEF."""
        lam, phi = math.radians(self.lon), math.radians(self.lat)
        east = [-math.sin(lam), math.cos(lam), 0.0]
        north = [-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)]
        up = [math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)]
        return np.array([east, north, up], dtype=np.float64).T

    def enu_to_ecef_matrix(self) -> FloatArray:
        """4×4 (row-major numpy) matrix taking local ENU metres to ECEF."""
        m = np.eye(4)
        m[:3, :3] = self.rotation()
        m[:3, 3] = self.ecef_origin
        return m

    def tileset_transform(self) -> list[float]:
        """The root tile's ``transform``: the ENU→ECEF matrix as 16 numbers, column-major."""
        return [float(v) for v in self.enu_to_ecef_matrix().flatten(order="F")]

    def enu_to_ecef(self, enu: ArrayLike) -> FloatArray:
        points = np.atleast_2d(np.asarray(enu, dtype=np.float64))
        return points @ self.rotation().T + self.ecef_origin

    def ecef_to_enu(self, ecef: ArrayLike) -> FloatArray:
        points = np.atleast_2d(np.asarray(ecef, dtype=np.float64))
        return (points - self.ecef_origin) @ self.rotation()

    def geodetic_to_enu(self, lon: ArrayLike, lat: ArrayLike, h: ArrayLike) -> FloatArray:
        return self.ecef_to_enu(geodetic_to_ecef(lon, lat, h))

    def enu_to_geodetic(self, enu: ArrayLike) -> FloatArray:
        return ecef_to_geodetic(self.enu_to_ecef(enu))

    def rebased(self, enu_point: ArrayLike) -> tuple[LocalFrame, FloatArray]:
        """A frame at ``enu_point`` (ENU of this frame) and the exact 4×4 (row-major) rigid matrix
        taking this frame's ENU coordinates to the new frame's."""
        lon, lat, h = self.enu_to_geodetic(np.asarray(enu_point, dtype=np.float64).reshape(1, 3))[0]
        new = LocalFrame(float(lon), float(lat), float(h))
        return new, np.linalg.inv(new.enu_to_ecef_matrix()) @ self.enu_to_ecef_matrix()

    def as_report(self) -> dict[str, Any]:
        x, y, z = (float(v) for v in self.ecef_origin)
        return {
            "wgs84": {"lon": self.lon, "lat": self.lat, "height_ellipsoidal_m": self.height},
            "ecef": {"x": x, "y": y, "z": z},
        }


def enu_to_gltf(enu: ArrayLike) -> NDArray[np.float32]:
    """Local ENU (z-up) → glTF y-up float32: ``(E, U, -N)``."""
    points = np.asarray(enu, dtype=np.float64)
    return np.stack([points[..., 0], points[..., 2], -points[..., 1]], axis=-1).astype(np.float32)


def gltf_to_enu(xyz: ArrayLike) -> FloatArray:
    """glTF y-up → local ENU z-up (float64)."""
    points = np.asarray(xyz, dtype=np.float64)
    return np.stack([points[..., 0], -points[..., 2], points[..., 1]], axis=-1)


def _geoid_dir() -> Path | None:
    for directory in GEOID_DIRS:
        if (directory / GEOID_GRID).is_file():
            return directory
    return None


@dataclass(frozen=True, slots=True)
class GeoidModel:
    """A geoid grid PROJ can read: EGM96 from ``proj-data`` (the default) or a city-supplied file."""

    name: str
    grid: str  # the PROJ ``+grids=`` argument
    path: str | None = None  # the city-supplied file

    @property
    def is_default(self) -> bool:
        return self.path is None

    def report(self) -> dict[str, Any]:
        if self.is_default:
            return {"geoid": self.name, "grid": self.grid, "caveat": GEOID_NOTE}
        return {"geoid": self.name, "grid": self.path, "applies_to": CITY_GEOID_SCOPE}


EGM96 = GeoidModel("EGM96", GEOID_GRID)
CITY_GEOID_SCOPE = "EPSG:5737 Yellow Sea 1985 heights"
_city_geoid: GeoidModel | None = None  # set for the duration of a conversion by use_geoid_grid
_geoids_used: dict[str, GeoidModel] = {}


@cache
def _geoid_transformer(grid: str = GEOID_GRID) -> Transformer:
    import pyproj.datadir
    from pyproj import Transformer

    if grid == GEOID_GRID:
        directory = _geoid_dir()
        if directory is None:
            raise GeoreferencingError(
                f"orthometric heights need the geoid grid {GEOID_GRID} (Debian package proj-data); "
                "install it or pass heights as ellipsoidal"
            )
        if str(directory) not in pyproj.datadir.get_data_dir().split(":"):
            pyproj.datadir.append_data_dir(str(directory))
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=vgridshift +grids={grid} +multiplier=1 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )


def geoid_undulation(lon: ArrayLike, lat: ArrayLike, geoid: GeoidModel = EGM96) -> FloatArray:
    """Geoid height N (metres, ellipsoidal = orthometric + N) at WGS84 lon/lat degrees; EGM96 by default."""
    lons = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    lats = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    _, _, n = _transform(_geoid_transformer(geoid.grid), lons, lats, np.zeros_like(lons))
    n = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(n)):
        where = f"lon {float(lons[0]):.5f}, lat {float(lats[0]):.5f}"
        if geoid.is_default:
            raise GeoreferencingError(f"the EGM96 geoid grid has no value for this position ({where})")
        raise GeoreferencingError(f"the geoid grid {geoid.path} does not cover the data ({where})")
    return n


def load_geoid_grid(path: str | Path) -> GeoidModel:
    """A city-supplied geoid grid (GTX or GeoTIFF), checked readable by PROJ; else one-line error."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise GeoreferencingError(f"geoid grid {path}: no such file")
    try:
        with file.open("rb") as handle:
            head = handle.read(40)
    except OSError as error:
        raise GeoreferencingError(f"geoid grid {path}: cannot be read ({error.strerror})") from None
    problem = _grid_format_problem(file, head)
    if problem:
        raise GeoreferencingError(f"geoid grid {path}: {problem}")
    grid = str(file.resolve())
    if any(c.isspace() for c in grid):
        raise GeoreferencingError(f"geoid grid {path}: PROJ cannot take a path with spaces; rename the file")
    from pyproj.exceptions import ProjError

    try:
        with _stderr_silenced():  # libtiff writes its own lines about a broken TIFF to fd 2
            _geoid_transformer(grid)
    except ProjError:
        raise GeoreferencingError(f"geoid grid {path}: PROJ cannot read it as a GTX or GeoTIFF grid") from None
    return GeoidModel(file.name, grid, grid)


@contextmanager
def _stderr_silenced() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _grid_format_problem(file: Path, head: bytes) -> str | None:
    suffix = file.suffix.lower()
    if suffix == ".gtx":
        if len(head) < 40:
            return "too short for a GTX header"
        rows, cols = struct.unpack(">ii", head[32:40])
        if rows <= 0 or cols <= 0 or file.stat().st_size < 40 + 4 * rows * cols:
            return f"GTX header says {rows} × {cols} values, the file does not hold them"
        return None
    if suffix in (".tif", ".tiff"):
        return None if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+") else "not a TIFF file"
    return "expected a GTX (.gtx) or GeoTIFF (.tif) geoid grid"


@contextmanager
def use_geoid_grid(path: str | Path | None) -> Iterator[dict[str, GeoidModel]]:
    """For the duration of a conversion, take 1985 heights to the ellipsoid with the grid at ``path``
    (None: EGM96). Yields the geoids used meanwhile (name → model), for the conversion report."""
    global _city_geoid, _geoids_used
    model = load_geoid_grid(path) if path else None
    previous = _city_geoid, _geoids_used
    _city_geoid, _geoids_used = model, {}
    try:
        yield _geoids_used
    finally:
        _city_geoid, _geoids_used = previous


def geoids_used() -> dict[str, GeoidModel]:
    """The geoids taken since the current :func:`use_geoid_grid` began (what it yields), name → model."""
    return dict(_geoids_used)


def note_geoids_used(models: Mapping[str, GeoidModel]) -> None:
    """Record geoids taken for this conversion by another process (a forked helper's)."""
    _geoids_used.update(models)


def open_proj_database() -> None:
    """Import pyproj and open PROJ's database (what the first CRS costs), ahead of a request."""
    parse_crs("EPSG:4326")


def is_yellow_sea_1985(vertical: CRS | None) -> bool:
    return vertical is not None and (vertical.to_epsg() == YELLOW_SEA_1985 or "Yellow Sea 1985" in vertical.name)


def geoid_for(vertical: CRS | None) -> GeoidModel:
    """The geoid for orthometric heights of ``vertical``: the city grid for Yellow Sea 1985, else EGM96."""
    return _city_geoid if _city_geoid is not None and is_yellow_sea_1985(vertical) else EGM96


def parse_crs(user_input: str | CRS) -> CRS:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return CRS.from_user_input(user_input)
    except CRSError as error:
        raise GeoreferencingError(f"unknown coordinate reference system {str(user_input)[:80]!r}") from error


class MapToLocal:
    """Coordinates in ``crs`` (its own units, x=east-ish, y=north-ish, z=height) → local ENU metres."""

    def __init__(
        self,
        crs: str | CRS,
        frame: LocalFrame,
        heights: HeightMode = "auto",
        z_unit_factor: float | None = None,
    ) -> None:
        from pyproj import Transformer

        self.crs = parse_crs(crs)
        self.frame = frame
        horizontal, vertical = _split(self.crs)
        self.horizontal = horizontal
        self.vertical = vertical
        self.height_mode = _height_mode(horizontal, vertical, heights)
        self.vertical_unit = z_unit_factor if z_unit_factor is not None else _z_unit_factor(horizontal, vertical)
        self._geographic_3d = horizontal.is_geographic and len(horizontal.axis_info) == 3
        target = "EPSG:4979" if self._geographic_3d else "EPSG:4326"
        self._to_geographic = Transformer.from_crs(horizontal, target, always_xy=True)
        self.geoid = geoid_for(vertical)
        if self.height_mode == "orthometric":
            _geoid_transformer(self.geoid.grid)  # fail early when the grid is missing
            _geoids_used[self.geoid.name] = self.geoid

    @classmethod
    def frame_at(cls, crs: str | CRS, point: tuple[float, float, float], heights: HeightMode = "auto") -> LocalFrame:
        """A :class:`LocalFrame` whose origin is the map point ``(e, n, h)`` of ``crs``."""
        probe = cls(crs, LocalFrame(0.0, 0.0, 0.0), heights)
        lon, lat, h = probe.to_geodetic(np.array([point], dtype=np.float64))[0]
        return LocalFrame(float(lon), float(lat), float(h))

    def to_geodetic(self, xyz: ArrayLike) -> FloatArray:
        """(N, 3) map coordinates → (N, 3) WGS84 lon, lat (degrees), ellipsoidal height (m)."""
        xyz = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
        if xyz.shape[1] != 3:
            raise ValueError("expected an (N, 3) array")
        z = xyz[:, 2] * self.vertical_unit
        if self._geographic_3d:
            lon, lat, h = _transform(self._to_geographic, xyz[:, 0], xyz[:, 1], z)
            if self.height_mode == "orthometric":
                h = z + geoid_undulation(lon, lat, self.geoid)
        else:
            lon, lat = _transform(self._to_geographic, xyz[:, 0], xyz[:, 1])
            h = z + geoid_undulation(lon, lat, self.geoid) if self.height_mode == "orthometric" else z
        out = np.stack([lon, lat, h], axis=-1)
        if not np.all(np.isfinite(out)):
            raise GeoreferencingError(f"coordinates fall outside the area of {self.crs.name}")
        return out

    def to_enu(self, xyz: ArrayLike) -> FloatArray:
        """(N, 3) map coordinates → (N, 3) float64 ENU metres in :attr:`frame`."""
        geo = self.to_geodetic(xyz)
        return self.frame.geodetic_to_enu(geo[:, 0], geo[:, 1], geo[:, 2])

    def report(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "crs": crs_label(self.crs),
            "crs_name": self.crs.name,
            "horizontal_units": self.horizontal.axis_info[0].unit_name if self.horizontal.axis_info else None,
            "vertical_crs": self.vertical.name if self.vertical is not None else None,
            "heights": self.height_mode,
            "z_unit_to_metre": self.vertical_unit,
        }
        if self.height_mode == "orthometric":
            info.update(self.geoid.report())
            if self.vertical is None:
                note = "the CRS has no vertical part, heights were assumed orthometric"
                info["caveat"] = f"{info['caveat']}; {note}" if "caveat" in info else note
            if self.geoid.is_default and _city_geoid is not None:
                info["note"] = (f"the configured geoid grid {_city_geoid.path} applies to {CITY_GEOID_SCOPE} "
                                "only; these heights used EGM96")
        return info


def crs_label(crs: CRS) -> str:
    """``EPSG:4546`` / ``EPSG:4546+5737`` when the CRS has EPSG codes, else its name."""
    parts = crs.sub_crs_list if crs.is_compound else [crs]
    codes = [part.to_epsg() for part in parts]
    if all(codes):
        return "EPSG:" + "+".join(str(code) for code in codes)
    return crs.name


def _split(crs: CRS) -> tuple[CRS, CRS | None]:
    if crs.is_compound:
        parts = crs.sub_crs_list
        horizontal = next((p for p in parts if not p.is_vertical), None)
        vertical = next((p for p in parts if p.is_vertical), None)
        if horizontal is None:
            raise GeoreferencingError(f"{crs.name}: compound CRS without a horizontal part")
        return horizontal, vertical
    if crs.is_vertical:
        raise GeoreferencingError(f"{crs.name} is a vertical CRS only; give a horizontal CRS too")
    if crs.is_geocentric:
        raise GeoreferencingError(f"{crs.name} is geocentric; give a projected or geographic CRS")
    return crs, None


def _height_mode(horizontal: CRS, vertical: CRS | None, requested: HeightMode) -> HeightMode:
    if requested != "auto":
        return requested
    if vertical is not None:
        return "orthometric"
    if horizontal.is_geographic and len(horizontal.axis_info) == 3:
        return "ellipsoidal"
    return "orthometric"


def _z_unit_factor(horizontal: CRS, vertical: CRS | None) -> float:
    """Metres per z unit: the vertical CRS's unit, else (projected CRS) the horizontal one, else 1."""
    if vertical is not None:
        axes = vertical.axis_info
    elif horizontal.is_projected:
        axes = horizontal.axis_info
    else:
        return 1.0
    factor = axes[0].unit_conversion_factor if axes else 1.0
    return float(factor or 1.0)
