"""The portable JSON backup format: schema plus every row, values encoded losslessly.

Plain integers, text and NULL stay plain JSON values; everything JSON cannot hold exactly
is a one-key object: ``{"$bytes": base64}``, ``{"$decimal": "1.10"}``,
``{"$datetime" | "$date" | "$time": iso}``, ``{"$timedelta": seconds}``,
``{"$float": "inf" | "-inf" | "nan"}``, ``{"$uuid": text}``, ``{"$list": [...]}`` (arrays),
``{"$json": value}`` (json documents), ``{"$text_form": text}`` (a value in its engine's own
text form, given back to the engine as text: the lossless way for types Python cannot
hold exactly, such as PostgreSQL's infinite timestamps or intervals of months and days).
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import gzip
import json
import math
import uuid
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable


def encode(value: Any) -> Any:
    """One database value as JSON."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, (list, tuple)):
        return {"$list": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"$json": value}
    return {"$text": str(value)}


class EngineText(str):
    """A value in its engine's own text form: restored by handing the text back to the engine."""


def engine_text(text: Any) -> Any:
    """The encoding of a value the engine gave as text (None stays NULL)."""
    return None if text is None else {"$text_form": text}


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "$text_form": EngineText,
    "$bytes": lambda v: base64.b64decode(v),
    "$decimal": decimal.Decimal,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$timedelta": lambda v: dt.timedelta(seconds=v),
    "$float": float,
    "$uuid": uuid.UUID,
    "$text": str,
    "$json": lambda v: v,
}


def decode(value: Any) -> Any:
    """The database value of one encoded JSON value."""
    if isinstance(value, dict) and len(value) == 1:
        (key, raw), = value.items()
        if key == "$list":
            return [decode(v) for v in raw]
        return _DECODERS[key](raw)
    return value


def write(path: Path, document: dict[str, Any], *, compress: bool) -> None:
    """Write the document (gzip when ``compress``)."""
    data = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if compress:
        with gzip.open(path, "wb", compresslevel=6) as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def read(path: Path) -> dict[str, Any]:
    """Read a document written by ``write`` (gzip is recognised by its magic bytes)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def table_rows(rows: Iterable[tuple]) -> list[list[Any]]:
    """Encode every value of every row."""
    return [[encode(v) for v in row] for row in rows]
