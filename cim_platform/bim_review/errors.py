"""Errors of the BIM review domain (mapped to HTTP in api/errors.py, to exit code 2 by the CLI)."""

from __future__ import annotations

from cim_platform.core.errors import Conflict, InvalidInput, NotFound


class IdsUnreadable(InvalidInput):
    """The IDS file is not XML or does not follow buildingSMART's IDS 1.0 schema."""

    code = "ids_unreadable"


class ModelUnreadable(InvalidInput):
    """The IFC file cannot be opened."""

    code = "ifc_unreadable"


class BcfUnreadable(InvalidInput):
    code = "bcf_unreadable"


class RequirementsNotFound(NotFound):
    code = "ids_not_found"


class TopicNotFound(NotFound):
    code = "bcf_topic_not_found"


class CheckNotPassed(Conflict):
    """Publishing a revision whose required IDS check has not passed."""

    code = "ids_check_not_passed"
