"""Project photos (before / progress / after): originals kept byte for byte with size and SHA-256
(the datasets domain's upload helpers), capture time and direction read from EXIF when present."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.core.settings import Settings
from cim_platform.datasets.sources import IncomingFile, keep_source
from cim_platform.facades.models import Photo, PhotoStage, Project
from cim_platform.facades.scopes import FacadesScope

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 0x9003
DATETIME = 0x0132
GPS_IMG_DIRECTION = 0x0011


@dataclass(frozen=True)
class PhotoFacts:
    width: int
    height: int
    captured_at: datetime | None
    direction_deg: float | None


def _rational(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if 0 <= number < 360.0001 else None


def read_facts(path: Path) -> PhotoFacts:
    """Size, and from EXIF the capture time (DateTimeOriginal, else DateTime) and GPSImgDirection."""
    try:
        with Image.open(path) as image:
            width, height = image.size
            exif = image.getexif()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput(f"the photo is not an image Pillow can read: {exc}") from None
    captured: datetime | None = None
    text = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if isinstance(text, str):
        try:
            captured = datetime.strptime(text.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
        except ValueError:
            captured = None
    direction = _rational(exif.get_ifd(GPS_IFD).get(GPS_IMG_DIRECTION))
    return PhotoFacts(width=width, height=height, captured_at=captured, direction_deg=direction)


def add_photo(
    session: Session,
    settings: Settings,
    caller: Caller,
    project: Project,
    incoming: IncomingFile,
    *,
    stage: PhotoStage,
    caption: str,
) -> Photo:
    """File a photo (moved to its permanent, read-only place; the caller removes ``incoming`` if this raises)."""
    caller.require(FacadesScope.write)
    if not caller.reads_everything():
        caller.check_manages(project.organization_id, what="project")
    facts = read_facts(incoming.path)
    photo = Photo(
        id=uuid.uuid4(),
        project_id=project.id,
        stage=stage.value,
        filename=incoming.filename,
        bytes=incoming.size,
        sha256=incoming.sha256,
        width=facts.width,
        height=facts.height,
        captured_at=facts.captured_at,
        direction_deg=facts.direction_deg,
        caption=caption,
        uploaded_by=caller.user_id,
    )
    photo.path = keep_source(settings, incoming, photo.id)
    session.add(photo)
    session.flush()
    record_change(
        session,
        caller,
        action="facades.photo.added",
        object_type="facade_project",
        object_id=str(project.id),
        before=None,
        after={
            "photo_id": str(photo.id),
            "stage": photo.stage,
            "filename": photo.filename,
            "bytes": photo.bytes,
            "sha256": photo.sha256,
            "captured_at": photo.captured_at.isoformat() if photo.captured_at else None,
            "direction_deg": photo.direction_deg,
        },
    )
    return photo


def list_photos(session: Session, project_id: uuid.UUID) -> list[Photo]:
    return list(
        session.scalars(select(Photo).where(Photo.project_id == project_id).order_by(Photo.stage, Photo.created_at))
    )


def get_photo(session: Session, photo_id: uuid.UUID) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound("no such photo")
    return photo
