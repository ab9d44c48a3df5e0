"""What the API fuzzer (tests/api/test_api_fuzz.py, bench/fuzz_api.py) fuzzes: the app's own OpenAPI document."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

KNOWN_IDS: dict[str, str] = {}
"""Ids of real objects (path parameter name → id), filled once the fuzzed platform has them."""

PLACEHOLDER_DATABASE = "postgresql://fuzz:fuzz@127.0.0.1:9/none"  # never connected: the document needs no database


@lru_cache(maxsize=1)
def fuzz_document() -> dict[str, Any]:
    """The OpenAPI document of the app as ``cim serve`` builds it (every route of every domain)."""
    from api.app import create_app
    from cim_platform.core.settings import Settings

    with tempfile.TemporaryDirectory(prefix="cim-fuzz-doc-") as data_dir:
        app = create_app(Settings(database_url=PLACEHOLDER_DATABASE, data_dir=Path(data_dir)))
        document: dict[str, Any] = app.openapi()
    return document
