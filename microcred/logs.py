"""Structured (JSON lines) logging shared by all services.

Only technical fields go into logs: identifiers of credentials and issuers are fine, personal data of
learners (names, birth dates, e-mail, national ids) is never passed to a logger.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> logging.Logger:
    """Send JSON logs to stderr and return the service's logger."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka's INFO lines (every join, every coordinator found) drown a service's own; MICROCRED_KAFKA_LOG_LEVEL
    # brings them back when a consumer group's behaviour is what is being looked at.
    logging.getLogger("aiokafka").setLevel(os.environ.get("MICROCRED_KAFKA_LOG_LEVEL", "WARNING").upper())
    # httpx logs every request's URL at INFO, and the URLs the services call carry bearer secrets (a share link's
    # token, an offer's credential_offer_uri, a presentation's request_uri); httpcore logs the same at DEBUG.
    # Their warnings still go out; a URL never does (docs/privacy.md, "logs and traces").
    for client in ("httpx", "httpcore"):
        logging.getLogger(client).setLevel(logging.WARNING)
    return logging.getLogger(f"microcred.{service}")
