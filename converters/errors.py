"""Errors raised by converters.

Every converter failure caused by the *input* (a broken file, a schema we cannot read, missing
georeferencing) is a :class:`ConversionError`: its message is one line, written for the person who
uploaded the file, and the platform reports it as a ``data`` error. Anything else escaping a
converter is a bug (an ``internal`` error).
"""

from __future__ import annotations


class ConversionError(Exception):
    """The input cannot be converted; ``str(error)`` says why, in one line."""


class UnsupportedFormatError(ConversionError):
    """The file is not a format any converter reads."""


class GeoreferencingError(ConversionError):
    """The input's position on the globe is unknown or contradictory."""


class ConversionCancelled(Exception):
    """Raised from a progress callback to stop a conversion early."""
