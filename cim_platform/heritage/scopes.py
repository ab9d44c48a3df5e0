"""Scopes of the heritage domain (registered with the core when the package is imported)."""

from __future__ import annotations

import enum

from cim_platform.core.access import Role, register_scopes


class HeritageScope(enum.StrEnum):
    read = "heritage:read"  # historic-building records in full (anonymous: listed records, public fields)
    write = "heritage:write"  # create and edit records and archives (edits of listed records become proposals)
    review = "heritage:review"  # review: status workflow, accept or reject proposals, retire


register_scopes(
    "heritage",
    [s.value for s in HeritageScope],
    grants={
        Role.uploader: {HeritageScope.read.value},
        Role.surveyor: {HeritageScope.read.value, HeritageScope.write.value},
        Role.official: {HeritageScope.read.value, HeritageScope.review.value},
        Role.viewer: {HeritageScope.read.value},
    },
)
