"""What a migration's statements say about transactions: its own BEGIN/COMMIT, and statements no transaction may hold."""
from __future__ import annotations

import re

from .. import sql

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)+", re.DOTALL)
_OPEN = re.compile(r"^(?:BEGIN(?: (?:DEFERRED|IMMEDIATE|EXCLUSIVE))?(?: (?:TRANSACTION|WORK))?|START TRANSACTION\b.*)$")
_CLOSE = re.compile(r"^(?:COMMIT|END)(?: (?:TRANSACTION|WORK))?$")
_ABORT = re.compile(r"^ROLLBACK(?: (?:TRANSACTION|WORK))?$")
# Statements the engine refuses inside a transaction block (PostgreSQL's documentation of
# each command says so; SQLite's VACUUM likewise). MySQL commits around DDL by itself.
_OUTSIDE = {
    "postgresql": re.compile(
        r"^(?:CREATE (?:UNIQUE )?INDEX CONCURRENTLY|DROP INDEX CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY\b|VACUUM\b"
        r"|(?:CREATE|DROP) (?:DATABASE|TABLESPACE)\b|ALTER SYSTEM\b|ALTER DATABASE \S+ SET TABLESPACE\b"
        r"|(?:CREATE|DROP) SUBSCRIPTION\b)"
    ),
    "sqlite": re.compile(r"^VACUUM\b"),
}


def head(statement: str) -> str:
    """The statement without leading comments, upper-cased, its blanks made single spaces (up to 200 characters)."""
    return " ".join(_LEADING_COMMENTS.sub("", statement)[:400].upper().split())[:200]


def line_at(text: str, statement: str, start: int) -> tuple[int, int]:
    """The 1-based line of ``statement`` in ``text`` searching from ``start``, and the offset after it."""
    found = text.find(statement, start)
    if found < 0:
        return text.count("\n", 0, start) + 1, start
    lead = _LEADING_COMMENTS.match(statement)
    body = found + (lead.end() if lead else 0)
    return text.count("\n", 0, body) + 1, found + len(statement)


def outside_transaction(text: str, dialect: str) -> Optional[str]:
    """The first statement of ``text`` that cannot run inside a transaction on ``dialect`` (its head), or None."""
    pattern = _OUTSIDE.get(dialect)
    if pattern is None:
        return None
    for statement in sql.split(text, dialect):
        first = head(statement)
        if pattern.match(first):
            return first
    return None


def strip_own_transaction(text: str, dialect: str) -> tuple[str, Optional[tuple[int, str]]]:
    """``text`` without a BEGIN ... COMMIT that wraps all of it; and the (line, statement) of any other transaction control.

    migrund runs each migration in its own transaction: a file's own wrapping pair is
    left out; a COMMIT or BEGIN anywhere else would end migrund's transaction midway.
    """
    statements = sql.split(text, dialect)
    heads = [head(s) for s in statements]
    control = [i for i, h in enumerate(heads) if _OPEN.match(h) or _CLOSE.match(h) or _ABORT.match(h)]
    if not control:
        return text, None
    lead = _LEADING_COMMENTS.match(text)
    position = lead.end() if lead else 0
    spans = []  # (line, start, end) of each statement, found in order
    for statement in statements:
        start = text.find(statement, position)
        line, position = line_at(text, statement, position)
        spans.append((line, start, position))
    found_all = all(start >= 0 for _, start, _ in spans)  # statements are slices of the text; if not, change nothing
    if found_all and control == [0, len(heads) - 1] and len(heads) >= 2 and _OPEN.match(heads[0]) and _CLOSE.match(heads[-1]):
        (_, first_start, first_end), (_, last_start, last_end) = spans[0], spans[-1]
        inner = text[first_end:last_start].lstrip(" \t;").lstrip("\n")
        return text[:first_start] + inner + text[last_end:].lstrip(" \t;"), None
    line = spans[control[0]][0]
    return text, (line, heads[control[0]])
