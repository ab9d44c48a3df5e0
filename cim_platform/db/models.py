"""Every table, imported in one place (Alembic's target metadata)."""

from cim_platform.db.accounts import ApiToken, Organization, OrgKind, Role, User
from cim_platform.db.base import Base
from cim_platform.db.datasets import (
    Dataset,
    DatasetKind,
    DatasetRevision,
    District,
    RevisionState,
    TileContent,
    Visibility,
)
from cim_platform.db.jobs import ErrorKind, Job, JobState

__all__ = [
    "ApiToken",
    "Base",
    "Dataset",
    "DatasetKind",
    "DatasetRevision",
    "District",
    "ErrorKind",
    "Job",
    "JobState",
    "OrgKind",
    "Organization",
    "RevisionState",
    "Role",
    "TileContent",
    "User",
    "Visibility",
]
