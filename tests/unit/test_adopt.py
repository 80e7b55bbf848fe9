"""The pure parts of import: each tool's markers, Flyway's version order, transaction control, and the YAML written."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from migrund.adopt import emit, sources, statements
from migrund.loader import FILE_NAME
from migrund.yamlsafe import load_yaml


def _one(tool, files, dialect="postgresql"):
    found = sources.convert(tool, files, dialect)
    return found.migrations, [str(u) for u in found.unmapped]


def test_goose_annotations_sections_and_no_transaction():
    text = ("-- +goose NO TRANSACTION\n-- +goose Up\n-- +goose StatementBegin\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
            "-- +goose StatementEnd\n\n-- +goose down\nDROP INDEX i;\n")
    (m,), problems = _one("goose", {"00007_index.sql": text})
    assert problems == []
    assert (m.version, m.label, m.name, m.transaction) == (7, "00007", "index", False)
    assert "StatementBegin" not in m.up and "CREATE INDEX CONCURRENTLY" in m.up and m.down.strip() == "DROP INDEX i;"
    _, problems = _one("goose", {"00001_a.sql": "-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n", "00002_b.go": "package x\n",
                                 "00003_c.sql": "SELECT 1;\n"})
    assert problems == ["00001_a.sql:2: '-- +goose ENVSUB ON' substitutes environment variables; migrund runs SQL as written",
                        "00002_b.go: a Go migration: its code cannot be imported; rewrite it as SQL or a Python migration",
                        "00003_c.sql: no '-- +goose Up' annotation"]


def test_dbmate_sections_options_and_what_it_refuses():
    (m,), problems = _one("dbmate", {"20200101000000_x.sql": "-- migrate:up transaction:false\nVACUUM;\n-- migrate:down\n"})
    assert problems == [] and m.transaction is False and m.up.strip() == "VACUUM;" and m.down == "\n"
    _, problems = _one("dbmate", {"1_a.sql": "CREATE TABLE a (id int);\n-- migrate:up\nSELECT 1;\n", "2_b.sql": "-- migrate:down\nSELECT 1;\n",
                                  "3_c.sql": "-- migrate:up fast:yes\nSELECT 1;\n"})
    assert problems == ["1_a.sql:1: SQL before '-- migrate:up': dbmate runs no such text",
                        "2_b.sql:1: needs one '-- migrate:up' and at most one '-- migrate:down' after it",
                        "3_c.sql:1: unknown dbmate option 'fast:yes'"]


def test_golang_migrate_pairs_and_own_transactions():
    files = {"1_a.up.sql": "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n", "1_a.down.sql": "DROP TABLE a;\n",
             "2_b.down.sql": "SELECT 1;\n", "3_c.up.json": "{}", "4_d.up.sql": "CREATE TABLE d (id int);\nCOMMIT;\nSELECT 1;\n"}
    migrations, problems = _one("golang-migrate", files)
    assert [m.version for m in migrations] == [1]
    assert "BEGIN" not in migrations[0].up and "COMMIT" not in migrations[0].up and "CREATE TABLE a" in migrations[0].up
    assert any("BEGIN/COMMIT" in note for note in migrations[0].notes)
    assert problems == ["3_c.up.json: a .json migration: only SQL files can be imported",
                        "2_b.down.sql: a down file without an up file for version 2",
                        "4_d.up.sql:2: COMMIT inside the migration would end migrund's transaction midway"]


def test_plain_sql_needs_a_number():
    migrations, problems = _one("sql", {"001_init.sql": "CREATE TABLE a (id int);", "seed.sql": "SELECT 1;", "2_x.up.sql": "SELECT 1;"})
    assert [(m.version, m.name, m.down) for m in migrations] == [(1, "init", None)]
    assert problems == ["2_x.up.sql: an up/down pair: import the folder with --from golang-migrate",
                        "seed.sql: no version number at the start of its name: rename it NNN_name.sql"]


def test_flyway_one_point_zero_is_one():
    _, problems = _one("flyway", {"V1__a.sql": "SELECT 1;", "V1.0__b.sql": "SELECT 1;"})
    assert len(problems) == 1 and "version 1.0 is also V1__a.sql" in problems[0] or "version 1 is also" in problems[0]


labels = st.lists(st.lists(st.integers(0, 300), min_size=1, max_size=4).map(lambda parts: ".".join(map(str, parts))), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(labels)
def test_flyway_numbers_keep_flyways_order(found):
    unique = {sources.flyway_parts(label): label for label in found}  # Flyway refuses two equal versions
    numbers = sources.flyway_numbers(unique.values())
    by_flyway = sorted(unique.values(), key=sources.flyway_parts)
    assert [numbers[label] for label in by_flyway] == sorted(numbers[label] for label in by_flyway)
    assert len(set(numbers.values())) == len(numbers), "distinct versions stay distinct"


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@settings(max_examples=400, deadline=None)
@given(text, st.one_of(st.none(), text), st.text(max_size=40))
def test_written_yaml_reads_back_as_the_same_sql(up, down, description):
    migration = sources.Converted(5, "5", "x", ("5_x.sql",), description, up, down, True, ())
    loaded = load_yaml(emit.yaml_text(migration, "sql"))
    expected_up = up.strip("\n") if up.strip() else "-- (no statements)"
    assert loaded["up"] == [{"sql": expected_up + "\n"}]
    if down is None:
        assert "down" not in loaded
    else:
        assert loaded["down"][0]["sql"].rstrip("\n") == (down.strip("\n") if down.strip() else "-- (no statements)")
    assert loaded.get("description", "") == description


@given(st.integers(1, 2**63 - 1), st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True))
def test_file_names_read_back_as_the_version(version, name):
    for label in (str(version), str(version).zfill(20)[-max(len(str(version)), 8):]):
        migration = sources.Converted(version, label, name, (), "", "SELECT 1", None, True, ())
        match = FILE_NAME.match(emit.file_name(migration))
        assert match is not None and int(match["number"] or match["date"] + match["time"]) == version


def test_statements_outside_a_transaction_by_dialect():
    assert statements.outside_transaction("-- x\ncreate unique index concurrently i on t (a);", "postgresql").startswith("CREATE UNIQUE INDEX")
    assert statements.outside_transaction("CREATE INDEX i ON t (a);", "postgresql") is None
    assert statements.outside_transaction("VACUUM;", "sqlite") == "VACUUM"
    assert statements.outside_transaction("CREATE INDEX CONCURRENTLY i ON t (a);", "mysql") is None


def test_the_command_line_offers_every_tool():
    from migrund.arguments import IMPORT_TOOLS

    assert IMPORT_TOOLS == sources.TOOLS
