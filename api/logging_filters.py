"""Keep secrets out of logs. API tokens (``cim_…``) are redacted wherever they appear in a record, and
so is the value of any query parameter whose *decoded* name is ``access_token`` (``access%5Ftoken=``
and ``%61ccess_token=`` authenticate as well, so they must not slip past a literal match)."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from cim_platform.accounts.service import TOKEN_PREFIX

TOKEN = re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9_\-]{8,}")
QUERY_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;\s\"'#]+)=(?P<value>[^&;\s\"'#]*)")
SECRET_PARAMETERS = frozenset({"access_token", "token", "password"})
REDACTED = "[redacted]"


def _parameter(match: re.Match[str]) -> str:
    if unquote_plus(match["name"]).strip().lower() in SECRET_PARAMETERS:
        return f"{match['lead']}{match['name']}={REDACTED}"
    return match.group(0)


def redact(text: str) -> str:
    return QUERY_PARAMETER.sub(_parameter, TOKEN.sub(TOKEN_PREFIX + REDACTED, text))


def _redact_value(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_value(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_value(v) for k, v in record.args.items()}
        return True


def install() -> None:
    """On uvicorn's loggers and on every handler of the root logger (records of any library pass there)."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactTokens) for f in handler.filters):
            handler.addFilter(RedactTokens())


def with_redaction(config: dict[str, Any]) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary whose every handler redacts secrets (what uvicorn's
    access and error logs write, and any library logging through the root logger)."""
    config.setdefault("filters", {})["redact_secrets"] = {"()": "api.logging_filters.RedactTokens"}
    for handler in config.get("handlers", {}).values():
        filters = handler.setdefault("filters", [])
        if "redact_secrets" not in filters:
            filters.append("redact_secrets")
    return config
