"""Passwords out of every output: URL masking by pattern, and every password migrund parsed, in any spelling.

Below every other module (errors use it too), so it imports nothing of migrund's.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SECRET_KEYS = ("password", "passwd", "pass", "pwd", "passfile", "sslpassword")
# user:password@ in a URL; the password runs to the last @ before the host (an unencoded @ too)
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^\s/?#]*)@")
_QUERY_SECRET = re.compile(r"(?P<head>[?&](?:" + "|".join(SECRET_KEYS) + r")=)[^&\s#'\"]*", re.IGNORECASE)
# Secrets shorter than this are not searched for in free text: they would mask ordinary words.
_MIN_SECRET = 4
_secrets: set[str] = set()


def remember_secret(secret: str) -> None:
    """Have ``redact`` take ``secret`` (and its percent-encoded spelling) out of every message from now on."""
    from urllib.parse import quote, quote_plus

    for spelling in (secret, quote(secret, safe=""), quote_plus(secret)):
        if len(spelling) >= _MIN_SECRET:
            _secrets.add(spelling)


def mask_url(text: str) -> str:
    """Replace the password of every URL in ``text`` (userinfo or a query parameter) by ``***``."""
    text = _USERINFO.sub(lambda m: m.group("head") + "***@", text)
    return _QUERY_SECRET.sub(lambda m: m.group("head") + "***", text)


def redact(text: str) -> str:
    """``text`` safe for any output: URL passwords masked, and every password parsed so far replaced."""
    if "://" in text or "=" in text:
        text = mask_url(text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def redact_document(value: Any) -> Any:
    """``value`` (JSON-shaped) with ``redact`` applied to every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_document(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_document(v) for v in value]
    return value
