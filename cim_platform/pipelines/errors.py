"""Errors of the pipelines domain (part of the one hierarchy in ``cim_platform.core.errors``)."""

from __future__ import annotations

from cim_platform.core.errors import Conflict, InvalidInput, NotFound, Unauthenticated


class UnknownCategory(InvalidInput):
    code = "unknown_pipeline_category"


class UnknownFeature(NotFound):
    """A device names a segment or point that the dataset's published registry does not hold."""

    code = "unknown_pipeline_feature"


class DuplicateDevice(Conflict):
    code = "duplicate_device"


class InvalidDeviceToken(Unauthenticated):
    code = "invalid_device_token"
