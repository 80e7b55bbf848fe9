"""Statement splitting per dialect."""
from __future__ import annotations

import os
import sqlite3

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from migrund import sql as sql_module
from migrund.sql import split

SQLITE_CASES = [
    ("SELECT 1", ["SELECT 1"]),
    ("SELECT 1;", ["SELECT 1"]),
    ("SELECT 1; SELECT 2;;", ["SELECT 1", "SELECT 2"]),
    ("INSERT INTO t VALUES ('a;b'); SELECT 2", ["INSERT INTO t VALUES ('a;b')", "SELECT 2"]),
    ("INSERT INTO t VALUES ('it''s; fine')", ["INSERT INTO t VALUES ('it''s; fine')"]),
    ('CREATE TABLE "we;ird" (x); SELECT 2', ['CREATE TABLE "we;ird" (x)', "SELECT 2"]),
    ("CREATE TABLE [a;b] (x); SELECT 2", ["CREATE TABLE [a;b] (x)", "SELECT 2"]),
    ("CREATE TABLE `a;b` (x); SELECT 2", ["CREATE TABLE `a;b` (x)", "SELECT 2"]),
    ("-- a comment; with semicolon\nSELECT 1; -- trailing;\n", ["SELECT 1"]),
    ("/* block; comment */ SELECT 1; /* only a comment */", ["SELECT 1"]),
    ("-- nothing but comments\n-- here;\n", []),
    ("   \n  ", []),
    (
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM b; END; SELECT 2",
        ["CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM b; END", "SELECT 2"],
    ),
    (
        "CREATE TEMP TRIGGER IF NOT EXISTS t AFTER INSERT ON a BEGIN\n"
        "  UPDATE a SET x = CASE WHEN NEW.y > 0 THEN 'p;' ELSE 'n' END;\n  SELECT 1;\nEND;\nSELECT 3;",
        [
            "CREATE TEMP TRIGGER IF NOT EXISTS t AFTER INSERT ON a BEGIN\n"
            "  UPDATE a SET x = CASE WHEN NEW.y > 0 THEN 'p;' ELSE 'n' END;\n  SELECT 1;\nEND",
            "SELECT 3",
        ],
    ),
    ("BEGIN; SELECT 1; COMMIT;", ["BEGIN", "SELECT 1", "COMMIT"]),
    ("SELECT CASE WHEN 1 THEN 2 END; SELECT 3", ["SELECT CASE WHEN 1 THEN 2 END", "SELECT 3"]),
]


@pytest.mark.parametrize("text,expected", SQLITE_CASES)
def test_sqlite(text, expected):
    assert split(text, "sqlite") == expected


@pytest.mark.parametrize("text,expected", SQLITE_CASES)
def test_sqlite_agrees_with_sqlite_itself(text, expected):
    # every statement we produce is one complete statement by SQLite's own judgement
    for statement in split(text, "sqlite"):
        assert sqlite3.complete_statement(statement + ";")
        assert not any(
            sqlite3.complete_statement(statement[:i] + ";") and statement[i:].strip()
            for i in range(len(statement))
            if statement[i] == ";"
        ), statement


POSTGRES_CASES = [
    (
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql; SELECT f()",
        ["CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql", "SELECT f()"],
    ),
    (
        "DO $body$ BEGIN RAISE NOTICE 'a;$$'; END $body$; SELECT 1",
        ["DO $body$ BEGIN RAISE NOTICE 'a;$$'; END $body$", "SELECT 1"],
    ),
    ("SELECT E'it\\'s; here'; SELECT 2", ["SELECT E'it\\'s; here'", "SELECT 2"]),
    ("SELECT 'back\\'; SELECT 2", ["SELECT 'back\\'", "SELECT 2"]),
    ("/* outer /* inner; */ still; */ SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("SELECT $1::int; SELECT 2", ["SELECT $1::int", "SELECT 2"]),
    (
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3",
        ["CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "SELECT 3"],
    ),
    # '$' inside an identifier opens no dollar quote; an identifier ending in E opens no E'' string.
    ("SELECT price$usd$ FROM t; SELECT 2", ["SELECT price$usd$ FROM t", "SELECT 2"]),
    ("INSERT INTO t VALUES (1); SELECT a$b$ FROM t; SELECT 2", ["INSERT INTO t VALUES (1)", "SELECT a$b$ FROM t", "SELECT 2"]),
    ("SELECT typE'a\\'; SELECT 2", ["SELECT typE'a\\'", "SELECT 2"]),
]


@pytest.mark.parametrize("text,expected", POSTGRES_CASES)
def test_postgresql(text, expected):
    assert split(text, "postgresql") == expected


MYSQL_CASES = [
    ("SELECT 'it\\'s; ok'; SELECT 2", ["SELECT 'it\\'s; ok'", "SELECT 2"]),
    ('SELECT "a\\";b"; SELECT 2', ['SELECT "a\\";b"', "SELECT 2"]),
    ("SELECT 1; # hash comment; here\nSELECT 2", ["SELECT 1", "SELECT 2"]),
    ("SELECT 1 --not a comment in MySQL\n; SELECT 2", ["SELECT 1 --not a comment in MySQL", "SELECT 2"]),
    ("/*!40101 SET NAMES utf8mb4 */; SELECT 2", ["/*!40101 SET NAMES utf8mb4 */", "SELECT 2"]),
    (
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1; SELECT 2",
        ["CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW SET NEW.x = 1", "SELECT 2"],
    ),
    (
        "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n"
        "  IF n > 0 THEN SET i = IF(n > 5, 1, 2); ELSEIF n < 0 THEN SET i = 3; ELSE SET i = 4; END IF;\n"
        "  lbl: LOOP SET i = i + 1; IF i > 10 THEN LEAVE lbl; END IF; END LOOP lbl;\n"
        "  WHILE i > 0 DO SET i = i - 1; END WHILE;\n  REPEAT SET i = i + 1; UNTIL i > 3 END REPEAT;\n"
        "  CASE i WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\nEND;\nCALL p(1)",
        [
            "CREATE DEFINER=`root`@`localhost` PROCEDURE p(IN n INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n"
            "  IF n > 0 THEN SET i = IF(n > 5, 1, 2); ELSEIF n < 0 THEN SET i = 3; ELSE SET i = 4; END IF;\n"
            "  lbl: LOOP SET i = i + 1; IF i > 10 THEN LEAVE lbl; END IF; END LOOP lbl;\n"
            "  WHILE i > 0 DO SET i = i - 1; END WHILE;\n  REPEAT SET i = i + 1; UNTIL i > 3 END REPEAT;\n"
            "  CASE i WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\nEND",
            "CALL p(1)",
        ],
    ),
    (
        "CREATE TRIGGER c AFTER INSERT ON o FOR EACH ROW BEGIN UPDATE u SET n = n + 1 WHERE id = NEW.u; END; SELECT 1",
        ["CREATE TRIGGER c AFTER INSERT ON o FOR EACH ROW BEGIN UPDATE u SET n = n + 1 WHERE id = NEW.u; END", "SELECT 1"],
    ),
    (
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM s WHERE x < NOW(); END; SELECT 1",
        ["CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM s WHERE x < NOW(); END", "SELECT 1"],
    ),
]


@pytest.mark.parametrize("text,expected", MYSQL_CASES)
def test_mysql(text, expected):
    assert split(text, "mysql") == expected


def test_unterminated_string_is_left_for_the_database():
    assert split("SELECT 'oops; SELECT 2", "sqlite") == ["SELECT 'oops; SELECT 2"]


# The two ways of splitting must agree wherever the quick one applies: text with no
# compound statement, no block comment and no dollar quote.
_PIECES = ["'", "''", '"', '""', "`", "``", "\\", "\\'", ";", "--", "-", "/", "*", "#", "$1", "E'", "e'", "xe'",
           "[", "]", "\n", " ", "x", "ab", "1", "SELECT", "TABLE", "é", "-- c;\n", "# c;\n", "a$b"]


@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join), st.sampled_from(["sqlite", "postgresql", "mysql"]))
@settings(max_examples=int(os.environ.get("MIGRUND_FUZZ_EXAMPLES", "60")) * 10, deadline=None)
def test_quick_split_agrees_with_the_lexer(text, dialect):
    assume("/*" not in text and not (dialect == "postgresql" and "$" in text))
    assert sql_module._split_whole(text, dialect) == sql_module._split_lexed(text, dialect, True)
