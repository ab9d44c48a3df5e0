"""HTTP caching headers of tile answers, shared by the routes and the fast path."""

from __future__ import annotations

from cim_platform.datasets.streaming import TileFile

IMMUTABLE = "public, max-age=31536000, immutable"
PUBLISHED = "public, max-age=30, must-revalidate"


def cache_control(public: bool, immutable: bool) -> str:
    if not public:
        return "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    return IMMUTABLE if immutable else PUBLISHED


def tile_headers(tile: TileFile, immutable: bool) -> dict[str, str]:
    return {
        "ETag": f'"{tile.sha256}"',
        "Cache-Control": cache_control(tile.public, immutable),
        "Vary": "Accept-Encoding, Authorization",
    }
