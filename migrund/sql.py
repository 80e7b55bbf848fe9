"""Splitting a ``sql`` step into statements, per dialect.

The splitter understands what can hide a semicolon: quoted strings and identifiers,
comments, PostgreSQL dollar quoting and E'' strings, MySQL backslash escapes, and compound
bodies (SQLite triggers; MySQL procedures, functions, triggers and events; PostgreSQL
BEGIN ATOMIC) whose inner semicolons belong to one statement.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Per dialect: line comments, string literals, double-quoted text, extra lexer branches, and
# text that can neither end a statement nor start a comment or a quote.
_DIALECT = {
    "mysql": {
        "line": r"--(?=\s|$)[^\n]*|\#[^\n]*",
        "str": r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?",
        "dq": r'"[^"\\]*(?:(?:""|\\.)[^"\\]*)*"?',
        "extra": "",
        "plain": r"[^;'\"`\-/#]+",
    },
    "postgresql": {
        "line": r"--[^\n]*",
        "str": r"[Ee]'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?|'[^']*(?:''[^']*)*'?",
        "dq": r'"[^"]*(?:""[^"]*)*"?',
        "extra": r"|(?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)",
        # '$' and E'' open quotes only outside identifiers, so words are taken whole here.
        "plain": r"(?![Ee]')[A-Za-z_][A-Za-z0-9_$]*|[^;'\"`\-/$A-Za-z_]+",
    },
    "sqlite": {
        "line": r"--[^\n]*",
        "str": r"'[^']*(?:''[^']*)*'?",
        "dq": r'"[^"]*(?:""[^"]*)*"?',
        "extra": r"|(?P<br>\[[^\]]*\]?)",
        "plain": r"[^;'\"`\-/\[]+",
    },
}
_BACKTICK = r"`[^`]*(?:``[^`]*)*`?"

_COMPOUND_KINDS = {
    "sqlite": {"TRIGGER"},
    "mysql": {"TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"},
    "postgresql": {"FUNCTION", "PROCEDURE"},
}
# Second words after CREATE that may still lead to a compound kind; any other (TABLE,
# INDEX, UNIQUE, VIEW, ...) settles that the statement is not compound.
_MAYBE_COMPOUND = {"OR", "REPLACE", "TEMP", "TEMPORARY", "DEFINER", "AGGREGATE", "CONSTRAINT", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT"}
# MySQL flow-control statements that end with END <keyword>.
_MYSQL_BLOCKS = {"IF", "LOOP", "WHILE", "REPEAT"}
_MYSQL_STATEMENT_START = {";", "BEGIN", "THEN", "ELSE", "DO", "LOOP", "REPEAT", ":"}


@lru_cache(maxsize=None)
def _lexer(dialect: str) -> re.Pattern:
    d = _DIALECT[dialect]
    return re.compile(
        rf"""(?P<ws>\s+)
        |(?P<line>{d["line"]})
        |(?P<block>/\*)
        |(?P<str>{d["str"]})
        |(?P<dq>{d["dq"]})
        |(?P<bt>{_BACKTICK})
        {d["extra"]}
        |(?P<word>[A-Za-z_][A-Za-z0-9_$]*)
        |(?P<semi>;)
        |(?P<other>[0-9]+|.)""",
        re.VERBOSE | re.DOTALL,
    )


@lru_cache(maxsize=None)
def _plain_run(dialect: str) -> re.Pattern:
    """Text with no comment and no statement end (quoted parts included): skipped in one step."""
    d = _DIALECT[dialect]
    return re.compile(rf"(?:{d['plain']}|-(?!-)|/(?!\*)|{d['str']}|{d['dq']}|{_BACKTICK})+", re.DOTALL)


@lru_cache(maxsize=None)
def _whole_statement(dialect: str) -> re.Pattern:
    """Leading blanks and line comments, then one statement up to its ';' (no block comments)."""
    d = _DIALECT[dialect]
    bracket = r"|\[[^\]]*\]?" if dialect == "sqlite" else ""
    plain = rf"(?:{d['plain']})*"
    quoted = rf"{d['str']}|{d['dq']}|{_BACKTICK}{bracket}|{d['line']}|-|/"
    return re.compile(rf"(?:\s+|{d['line']})*(?P<body>{plain}(?:(?:{quoted}){plain})*);?", re.DOTALL)


def split(text: str, dialect: str) -> list[str]:
    """Split ``text`` into the statements to run, in order, without empty or comment-only ones.

    An engine migrund does not ship (a registered package) is split by SQLite's rules:
    standard quoting and comments, and BEGIN ... END bodies.
    """
    if dialect not in _DIALECT:
        dialect = "sqlite"
    kinds = _COMPOUND_KINDS.get(dialect, set())
    upper = text.upper()
    # Without any compound keyword no statement can be compound: past its first word, each
    # one is a plain run up to its ';' (the common case, and much the cheapest).
    simple = not any(kind in upper for kind in kinds)
    if simple and "/*" not in text and (dialect != "postgresql" or "$" not in text):
        # Nor block comments (nested on PostgreSQL, run by MySQL) or dollar quotes: one
        # match per statement does it.
        return _split_whole(text, dialect)
    return _split_lexed(text, dialect, simple)


def _split_lexed(text: str, dialect: str, simple: bool) -> list[str]:
    """Token by token, for compound statements and block comments (``simple``: none is compound)."""
    kinds = _COMPOUND_KINDS.get(dialect, set())
    lexer = _lexer(dialect)
    plain = _plain_run(dialect)
    statements: list[str] = []
    start = 0
    pos = 0
    length = len(text)
    head: list[str] = []  # first words of the statement, to recognise compound ones
    compound = False
    depth = 0
    content = False  # anything but whitespace and comments so far
    prev = ";"  # previous significant token, upper-cased
    after_end = False
    while pos < length:
        if content and (simple or not compound and (
            not head or head[0] != "CREATE" or len(head) >= 8 or (len(head) >= 2 and head[1] not in _MAYBE_COMPOUND)
        )):
            # Not a compound statement: only strings, comments and ';' matter from here.
            run = plain.match(text, pos)
            if run:
                pos = run.end()
                if pos >= length:
                    break
        match = lexer.match(text, pos)
        assert match is not None  # the lexer's last branch matches any character
        kind = match.lastgroup
        end = match.end()
        if kind == "ws" or kind == "line":
            pos = end
            continue
        if kind == "block":
            comment_end = _block_comment_end(text, pos, nested=dialect == "postgresql")
            if dialect == "mysql" and text.startswith("/*!", pos):
                # MySQL runs the text of /*! ... */ comments: it is content, not a comment.
                if not content:
                    start, content = pos, True
            pos = comment_end
            continue
        if kind == "dollar":
            tag = match.group()
            close = text.find(tag, end)
            end = length if close < 0 else close + len(tag)
        if kind == "semi" and depth == 0:
            if content:
                statements.append(text[start:pos].strip())
            start = end
            head, compound, content, prev, after_end = [], False, False, ";", False
            pos = end
            continue
        if not content:
            start, content = pos, True
        if kind == "word":
            word = match.group().upper()
            if len(head) < 8:
                head.append(word)
                if head[0] == "CREATE" and word in kinds:
                    compound = True
            if compound:
                if after_end and word in _MYSQL_BLOCKS | {"CASE"}:
                    pass  # END IF, END LOOP, ...: closes, opens nothing
                elif word == "END":
                    depth = max(depth - 1, 0)
                elif word in ("BEGIN", "CASE"):
                    depth += 1
                elif dialect == "mysql" and word in _MYSQL_BLOCKS and depth > 0 and prev in _MYSQL_STATEMENT_START:
                    depth += 1
                after_end = word == "END"
            prev = word
        else:
            prev = match.group() if kind in ("semi", "other") else str(kind)
            after_end = False
        pos = end
    if content:
        statements.append(text[start:].strip())
    return statements


def _split_whole(text: str, dialect: str) -> list[str]:
    """One match per statement, for text without compound statements, block comments or dollar quotes."""
    statement = _whole_statement(dialect)
    statements = []
    pos, length = 0, len(text)
    while pos < length:
        match = statement.match(text, pos)
        body = match["body"].rstrip()  # type: ignore[index]  # the pattern matches everywhere
        if body:
            statements.append(body)
        pos = match.end()  # type: ignore[union-attr]
    return statements


def _block_comment_end(text: str, pos: int, *, nested: bool) -> int:
    depth = 0
    length = len(text)
    while pos < length:
        if text.startswith("/*", pos):
            depth = depth + 1 if nested or depth == 0 else depth
            pos += 2
        elif text.startswith("*/", pos):
            depth -= 1
            pos += 2
            if depth == 0:
                return pos
        else:
            nxt = min((i for i in (text.find("/*", pos), text.find("*/", pos)) if i >= 0), default=length)
            pos = nxt
    return length
