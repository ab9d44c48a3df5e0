"""Underground pipeline survey tables (CJJ 61 point and line tables) → 3D Tiles 1.1 pipes and manholes.

``convert(path, out_dir, options)`` writes the tileset; ``read_network(path, options)`` is the checked
reader the platform's pipeline registry uses; ``sniff(path)`` tells shared suffixes apart.
"""

from converters.pipelines.convert import convert
from converters.pipelines.network import Network, Problem, centreline_elevation, read_network
from converters.pipelines.records import PipePoint, PipeSegment, PointTable, SegmentTable
from converters.pipelines.schema import CATEGORIES, CATEGORY_BY_CODE, Category, category_of
from converters.pipelines.tables import sniff

__all__ = [
    "CATEGORIES",
    "CATEGORY_BY_CODE",
    "Category",
    "Network",
    "PipePoint",
    "PipeSegment",
    "PointTable",
    "Problem",
    "SegmentTable",
    "category_of",
    "centreline_elevation",
    "convert",
    "read_network",
    "sniff",
]
