"""Errors of the heritage domain (all part of the one hierarchy in ``cim_platform.core.errors``).

``PreconditionFailed`` (412) and ``PreconditionRequired`` (428) are answered by the heritage routes
themselves (``api/heritage/http.py``): the platform-wide mapping in ``api/errors.py`` does not know them.
"""

from __future__ import annotations

from cim_platform.core.errors import CimError, Conflict, InvalidInput


class PreconditionFailed(CimError):
    """The record changed since the caller read it (If-Match names an older version): nothing was written."""

    code = "precondition_failed"


class PreconditionRequired(CimError):
    """A change without ``If-Match``: read the record first and send its ETag."""

    code = "precondition_required"


class InvalidTransition(Conflict):
    """The status workflow does not allow this step from the record's current status."""

    code = "invalid_transition"


class RecordRetired(Conflict):
    code = "record_retired"


class DuplicateCode(Conflict):
    code = "duplicate_code"


class ApprovalRequired(InvalidInput):
    """Delisting (and other steps the law ties to a decision) need the approval document's reference."""

    code = "approval_required"
