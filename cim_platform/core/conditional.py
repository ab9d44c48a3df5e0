"""Conditional writes: does an ``If-Match`` header name the current version of an object?"""

from __future__ import annotations


def if_match_names(if_match: str, etag: str, *, any_version: bool = True) -> bool:
    """True when the comma-separated ``If-Match`` list names ``etag`` (weak ``W/`` tags compared by value), or,
    with ``any_version``, when it is ``*``."""
    tags = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    return etag in tags or (any_version and "*" in tags)
