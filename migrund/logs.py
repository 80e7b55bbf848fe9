"""Logging to stderr for the CLI's hooks and the daemon: text lines or JSON lines (journald reads both)."""
from __future__ import annotations

import json
import logging
import sys

from .clock import utc_iso
from .redact import redact, redact_document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class JsonLines(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and the record's ``fields``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        doc: dict[str, Any] = {
            "time": utc_iso(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(redact_document(doc), default=str)


class TextLines(logging.Formatter):
    """``migrund: LEVEL: logger: message``, passwords taken out."""

    def __init__(self) -> None:
        super().__init__("migrund: %(levelname)s: %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as text, redacted."""
        return redact(super().format(record))


def configure(level: str, fmt: str = "text", *, verbose: bool = False) -> None:
    """Send every ``logging`` record at ``level`` or above to stderr in ``fmt`` (text or json)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLines())
    else:
        handler.setFormatter(TextLines())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else getattr(logging, level.upper()))
