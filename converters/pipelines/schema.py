"""What pipeline survey tables contain: categories (with their colour and depth convention), point features,
and the shipped column mapping (Chinese and English names, after CJJ 61 survey practice).

A column mapping maps a *field* (``point_id``, ``ground_elevation`` …) to the column names that may hold it;
an upload can override it (``ConvertOptions.column_map``: field → the column name of that upload).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DepthConvention = Literal["inner_bottom", "outer_top"]


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name_zh: str
    rgb: tuple[int, int, int]
    depth_to: DepthConvention  # what a depth (or a given elevation) of this category measures to
    aliases: tuple[str, ...]

    @property
    def rgba(self) -> tuple[float, float, float, float]:
        return (self.rgb[0] / 255, self.rgb[1] / 255, self.rgb[2] / 255, 1.0)

    @property
    def group(self) -> str:
        """Drainage sub-kinds share one group (the clearance table's unit)."""
        return "drainage" if self.code.startswith("drainage") else self.code


# Display colours of CJJ 61 (给水 sky blue, 排水 brown, 燃气 pink, 热力 orange, 电力 red, 通信 green, 工业 black)
CATEGORIES: tuple[Category, ...] = (
    Category("water_supply", "给水", (0, 176, 240), "outer_top", ("给水", "上水", "js", "water", "water supply")),
    Category("drainage_storm", "雨水", (153, 102, 51), "inner_bottom", ("雨水", "ys", "storm", "storm water")),
    Category("drainage_sewage", "污水", (112, 72, 32), "inner_bottom", ("污水", "ws", "sewage", "sewer")),
    Category("drainage_combined", "雨污合流", (133, 87, 40), "inner_bottom",
             ("排水", "合流", "雨污合流", "ps", "hs", "drainage", "combined")),
    Category("gas", "燃气", (255, 105, 180), "outer_top", ("燃气", "煤气", "天然气", "rq", "mq", "tr", "gas")),
    Category("heating", "热力", (255, 153, 0), "outer_top", ("热力", "供热", "rl", "heat", "heating")),
    Category("power", "电力", (230, 0, 0), "outer_top", ("电力", "供电", "路灯", "dl", "ld", "power", "electricity")),
    Category("telecom", "通信", (0, 170, 0), "outer_top",
             ("通信", "电信", "通讯", "移动", "联通", "广电", "tx", "dx", "telecom", "telecommunications")),
    Category("industrial", "工业", (40, 40, 40), "outer_top", ("工业", "gy", "industrial")),
    Category("utility_tunnel", "综合管廊", (160, 160, 160), "outer_top",
             ("综合管廊", "管廊", "gl", "zh", "utility tunnel", "tunnel")),
    Category("other", "其他", (128, 0, 128), "outer_top", ("其他", "不明", "qt", "bm", "other", "unknown")),
)
CATEGORY_BY_CODE = {c.code: c for c in CATEGORIES}
_ALIASES = {alias: c for c in CATEGORIES for alias in (*c.aliases, c.code)}


def category_of(text: str | None) -> Category | None:
    """The category named by ``text`` (a code, a Chinese or English name, a CJJ 61 letter code), or None."""
    if not text:
        return None
    key = text.strip().lower().replace("_", " ")
    found = _ALIASES.get(key) or _ALIASES.get(key.replace(" ", "_"))
    if found is not None:
        return found
    for alias, category in _ALIASES.items():  # "给水管", "污水管线", "燃气(中压)"
        if len(alias) >= 2 and not alias.isascii() and alias in key:
            return category
    return None


# point features: code → Chinese, English aliases; manholes get shafts
FEATURES: dict[str, tuple[str, ...]] = {
    "manhole": ("检查井", "窨井", "井", "雨水井", "污水井", "阀门井", "人孔", "手孔", "manhole", "inspection well"),
    "valve": ("阀门", "闸阀", "valve"),
    "bend": ("拐点", "弯头", "转折点", "bend", "elbow"),
    "tee": ("三通", "三分支", "tee"),
    "cross": ("四通", "四分支", "cross"),
    "change": ("变径", "变深", "变材", "变径点", "change", "reducer"),
    "inlet": ("雨水篦", "雨篦", "进水口", "inlet", "gully"),
    "outlet": ("出水口", "outlet"),
    "feature_point": ("直线点", "特征点", "预留口", "非普查", "feature", "point", "end", "终点"),
}
_FEATURE_ALIASES = {alias: code for code, aliases in FEATURES.items() for alias in (*aliases, code)}


def feature_of(text: str | None) -> str:
    """The feature code of a point (``feature_point`` when unknown or missing)."""
    if not text:
        return "feature_point"
    key = text.strip().lower()
    if key in _FEATURE_ALIASES:
        return _FEATURE_ALIASES[key]
    for alias, code in _FEATURE_ALIASES.items():
        if not alias.isascii() and len(alias) >= 2 and alias in key:
            return code
    return "manhole" if key.endswith("井") else "feature_point"


POINT_FIELDS: dict[str, tuple[str, ...]] = {
    "point_id": ("管线点号", "物探点号", "点号", "point_id", "point", "pid", "id"),
    "category": ("管线类别", "管线类型", "类别", "管类", "category", "type"),
    "feature": ("特征", "特征点", "附属物", "点性质", "feature"),
    "x": ("x", "x坐标", "坐标x", "easting_or_x"),
    "y": ("y", "y坐标", "坐标y"),
    "easting": ("easting", "东坐标"),
    "northing": ("northing", "北坐标"),
    "ground_elevation": ("地面高程", "地面标高", "ground_elevation", "ground_level", "ground"),
    "depth": ("埋深", "井深", "井底埋深", "depth"),
    "manhole_size": ("井径", "井室尺寸", "井盖尺寸", "井规格", "manhole_size", "well_size"),
    "owner": ("权属单位", "权属", "owner"),
    "district": ("所属区域", "行政区", "district"),
}
LINE_FIELDS: dict[str, tuple[str, ...]] = {
    "segment_id": ("管段编号", "管线编号", "segment_id", "line_id"),
    "start_id": ("起点点号", "起点", "起始点号", "start_id", "from_point", "from"),
    "end_id": ("终点点号", "终点", "连接点号", "end_id", "to_point", "to"),
    "start_depth": ("起点埋深", "start_depth"),
    "end_depth": ("终点埋深", "end_depth"),
    "start_elevation": ("起点高程", "起点管顶高程", "起点管底高程", "start_elevation"),
    "end_elevation": ("终点高程", "终点管顶高程", "终点管底高程", "end_elevation"),
    "diameter": ("管径", "管径(mm)", "直径", "diameter", "diameter_mm"),
    "section": ("断面尺寸", "断面", "截面尺寸", "规格", "section"),
    "material": ("材质", "管材", "material"),
    "category": ("管线类别", "管线类型", "类别", "管类", "category", "type"),
    "pressure": ("压力", "压力等级", "pressure"),
    "voltage": ("电压", "电压等级", "voltage"),
    "laying": ("埋设方式", "敷设方式", "埋设类型", "laying", "laying_method"),
    "ducts": ("孔数", "总孔数", "电缆条数", "ducts", "duct_count"),
    "owner": ("权属单位", "权属", "owner"),
    "construction_year": ("建设年代", "建设年份", "敷设年代", "construction_year", "year_built", "year"),
    "survey_date": ("探测日期", "普查日期", "测量日期", "survey_date"),
    "district": ("所属区域", "行政区", "district"),
}
def _normal(name: str) -> str:
    return "".join(name.strip().lower().replace("（", "(").replace("）", ")").split())


def resolve_columns(header: list[str], fields: dict[str, tuple[str, ...]],
                    overrides: dict[str, str] | None = None) -> dict[str, str]:
    """field → the header's column holding it (the upload's overrides first, then the shipped names)."""
    by_normal = {_normal(h): h for h in header}
    found: dict[str, str] = {}
    for field in fields:
        given = (overrides or {}).get(field)
        if given is not None:
            if _normal(given) in by_normal:
                found[field] = by_normal[_normal(given)]
            continue
        for alias in fields[field]:
            if _normal(alias) in by_normal and by_normal[_normal(alias)] not in found.values():
                found[field] = by_normal[_normal(alias)]
                break
    return found


def looks_like_lines(header: list[str], overrides: dict[str, str] | None = None) -> bool:
    found = resolve_columns(header, LINE_FIELDS, overrides)
    return "start_id" in found and "end_id" in found


def looks_like_points(header: list[str], overrides: dict[str, str] | None = None) -> bool:
    found = resolve_columns(header, POINT_FIELDS, overrides)
    has_xy = ("x" in found and "y" in found) or ("easting" in found and "northing" in found)
    return "point_id" in found and has_xy and not looks_like_lines(header, overrides)
