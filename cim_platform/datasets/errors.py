"""Errors of the datasets domain (all part of the one hierarchy in ``cim_platform.core.errors``)."""

from __future__ import annotations

from cim_platform.core.errors import Gone, InvalidInput


class InvalidSourceData(InvalidInput):
    """The uploaded file could not be converted: the message says why and what to do."""

    code = "invalid_data"


class RevisionWithdrawn(Gone):
    """A revision its owner withdrew: its pinned URLs answer 410 on every path (issue 18)."""

    code = "revision_withdrawn"
