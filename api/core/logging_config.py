"""The server's logging configuration for uvicorn: its own text format by default, JSON lines with
``CIM_LOG_FORMAT=json`` (access lines too, each with the request id it answered)."""

from __future__ import annotations

import copy
from typing import Any

from cim_platform.core.settings import Settings


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary for ``uvicorn.run(log_config=…)``."""
    if settings.log_format != "json":
        from uvicorn.config import LOGGING_CONFIG

        return copy.deepcopy(LOGGING_CONFIG)

    def handler(stream: str) -> dict[str, Any]:
        return {
            "class": "logging.StreamHandler",
            "stream": f"ext://sys.{stream}",
            "formatter": "json",
            "filters": ["request_id"],
        }

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "cim_platform.core.logs.RequestIdFilter"}},
        "formatters": {"json": {"()": "cim_platform.core.logs.JsonFormatter"}},
        "handlers": {"stderr": handler("stderr"), "stdout": handler("stdout")},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
    }
