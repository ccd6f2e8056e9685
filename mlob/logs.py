"""Logging of mlob's processes: plain lines (default) or, with ``MLOB_LOG_FORMAT=json``, one
JSON object per line (``python-json-logger``): ``time``, ``level``, ``logger``, ``message`` and,
where known, ``request_id``, ``org``, ``message_id``, ``correlation``, ``position``
(api/logcontext.py). Uvicorn's error and access logs go the same way."""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from api import logcontext

LogFormat = Literal["plain", "json"]
FORMATS: tuple[LogFormat, ...] = ("plain", "json")


#: A bearer token wherever a library writes one (the websockets library logs a handshake's
#: headers at debug level, ``Authorization`` included).
_TOKEN = re.compile(r"(?i)(bearer\s+)\S+|mlob_[0-9a-f]{32}_\S+")


def redact(text: str) -> str:
    return _TOKEN.sub(lambda m: f"{m.group(1) or ''}<redacted>", text)


class RequestFields(logging.Filter):
    """Puts the request's known fields on every record (absent ones stay absent), and takes
    every token out of its message: no log line holds a secret, whoever wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in logcontext.current().items():
            setattr(record, name, value)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def config(fmt: LogFormat, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` (also uvicorn's ``log_config``) for ``fmt``."""
    formatter: dict[str, Any]
    if fmt == "json":
        formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        }
    else:
        formatter = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "mlob",
        "filters": ["request"],
        "stream": "ext://sys.stderr",
    }
    quiet = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": RequestFields}},
        "formatters": {"mlob": formatter},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {"uvicorn": quiet, "uvicorn.error": quiet, "uvicorn.access": quiet},
    }


def configure(fmt: LogFormat, level: str) -> None:
    import logging.config

    logging.config.dictConfig(config(fmt, level))
