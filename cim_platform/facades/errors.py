"""Errors of the facades domain (part of the one hierarchy in ``cim_platform.core.errors``)."""

from __future__ import annotations

from cim_platform.core.errors import Conflict, InvalidInput
from cim_platform.facades.colours import InvalidColour

__all__ = ["AcceptanceRequired", "DuplicateCode", "InvalidColour", "InvalidTransition", "UnknownUnit"]


class InvalidTransition(Conflict):
    """The status workflow does not allow this step from the current status."""

    code = "invalid_transition"


class DuplicateCode(Conflict):
    code = "duplicate_code"


class AcceptanceRequired(InvalidInput):
    """Accepting a showcase street needs the acceptance document and date."""

    code = "acceptance_required"


class UnknownUnit(InvalidInput):
    code = "unknown_unit"
