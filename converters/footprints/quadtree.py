"""Moved to :mod:`converters.quadtree` (shared with the pipelines converter); re-exported here."""

from converters.quadtree import MAX_DEPTH, MIN_EDGE_M, QuadNode, build_quadtree

__all__ = ["MAX_DEPTH", "MIN_EDGE_M", "QuadNode", "build_quadtree"]
