"""HTTP caching headers of tile answers, shared by the routes and the fast path."""

from __future__ import annotations

from cim_platform.datasets.streaming import TileFile

IMMUTABLE = "public, max-age=31536000, immutable"
PUBLISHED = "public, max-age=30, must-revalidate"


def cache_control(public: bool, immutable: bool) -> str:
    if not public:
        return "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    return IMMUTABLE if immutable else PUBLISHED


def caching_headers(etag: str, cache: str) -> dict[str, str]:
    return {"ETag": f'"{etag}"', "Cache-Control": cache, "Vary": "Accept-Encoding, Authorization"}


def with_cors_vary(fields: dict[str, str]) -> dict[str, str]:
    """``fields`` with the ``Vary: Origin`` the CORS middleware adds to every answer, for answers sent
    outside it (the outermost fast path, nginx's public tree)."""
    fields["Vary"] += ", Origin"
    return fields


def tile_headers(tile: TileFile, immutable: bool) -> dict[str, str]:
    return caching_headers(tile.sha256, cache_control(tile.public, immutable))


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names ``etag`` (weak or strong) or is ``*``."""
    if not if_none_match:
        return False
    return if_none_match.strip() == "*" or any(
        part.strip().removeprefix("W/").strip('"') == etag for part in if_none_match.split(",")
    )


# nginx in front (`cim deploy nginx-conf`): nginx asks for X-Accel-Redirect answers with this request
# header, and sends the content's file from this internal location (the on-disk cache) itself. With the
# value ACCEL_CACHE nginx keeps the answer a few seconds (per URL, Origin and credentials): then a
# content held in memory is answered with its bytes and X-Accel-Expires instead.
ACCEL_REQUEST_HEADER = "x-cim-accel"
ACCEL_CACHE = "cache"
ACCEL_LOCATION = "/_cim_content/"


ACCEL_EXPIRES = "X-Accel-Expires"

# nginx asks with this request header (value "1") when it looked for an anonymous request's content in
# the public tree (cim_platform.datasets.public_tree) and did not find it: the platform puts it there
PUBLIC_TREE_REQUEST_HEADER = "x-cim-public"


def accel_expires(ttl_s: float) -> str:
    """How long nginx may keep a content's answer for one caller: the access cache's time."""
    return str(int(ttl_s))


def shared_by_nginx(accel: str | None, tile: TileFile) -> bool:
    """Whether nginx keeps this answer a few seconds for the same URL, Origin and credentials (it asked
    so, for a revision-pinned content held in memory): then the platform sends the bytes themselves,
    with X-Accel-Expires, instead of X-Accel-Redirect (which nginx never caches)."""
    return accel == ACCEL_CACHE and tile.data is not None


def accel_path(sha256_relative: str) -> str:
    """The X-Accel-Redirect target of a file of the on-disk cache (its path below the cache folder)."""
    return ACCEL_LOCATION + sha256_relative
