"""Scanning the migrations folder and reading files into definitions."""
from __future__ import annotations

import hashlib
import json

from migrund import loader


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_names_versions_and_ignores(tmp_path):
    write(tmp_path, "20250101000000_a.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "20250102_030405_b.yml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "20250103000000_c.py", "def up(conn, ctx):\n    pass\n")
    for junk in (".x.yaml", "a.yaml~", "b.swp", "c.tmp", "#d#"):
        write(tmp_path, junk, "junk")
    write(tmp_path, "README.md", "hello")
    write(tmp_path, "sub/20250104000000_nested.yaml", "up:\n  - sql: SELECT 1\n")
    found = loader.scan(tmp_path)
    assert list(found.files) == [20250101000000, 20250102030405, 20250103000000]
    assert [f.name for f in found.files.values()] == ["a", "b", "c"]
    assert found.problems == []
    assert len(found.warnings) == 1 and "README.md" in found.warnings[0]


def test_bad_versions_and_duplicates(tmp_path):
    write(tmp_path, "2025010100000-short.yaml", "up: []")
    write(tmp_path, "20250101000000_a.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "20250101_000000_b.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "00000000000000_zero.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "3_three.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "003_three_again.yaml", "up:\n  - sql: SELECT 1\n")
    found = loader.scan(tmp_path)
    assert any("2025010100000-short.yaml" in p and "bad version" in p for p in found.problems)
    assert any("20250101_000000_b.yaml" in p and "20250101000000_a.yaml" in p for p in found.problems)
    assert any("version 0" in p for p in found.problems)
    assert any("003_three_again.yaml" in p and "3_three.yaml" in p for p in found.problems)


def test_plain_numbers_are_versions_and_the_time_form_comes_first(tmp_path):
    write(tmp_path, "1_first.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "0002_second.yml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "1485949617_unix_time.yaml", "up:\n  - sql: SELECT 1\n")
    write(tmp_path, "20250101_120000_split.yaml", "up:\n  - sql: SELECT 1\n")  # the time form, not 20250101 + a name
    write(tmp_path, "9223372036854775807_largest.py", "def up(conn, ctx):\n    pass\n")
    found = loader.scan(tmp_path)
    assert found.problems == []
    assert {v: f.name for v, f in found.files.items()} == {
        1: "first", 2: "second", 1485949617: "unix_time", 20250101120000: "split", 2**63 - 1: "largest"}
    assert list(found.files) == sorted(found.files)


def test_checksum_is_file_then_hooks_in_first_reference_order(tmp_path):
    write(tmp_path, "hooks/one.py", "def a(c, x): pass\ndef b(c, x): pass\n")
    write(tmp_path, "hooks/two.py", "def a(c, x): pass\n")
    text = "up:\n  - python: hooks/two.py:a\n  - python: hooks/one.py:a\ndown:\n  - python: hooks/one.py:b\n"
    path = write(tmp_path, "20250101000000_h.yaml", text)
    source = loader.scan(tmp_path).files[20250101000000]
    assert source.hooks == ("hooks/two.py", "hooks/one.py")
    expected = hashlib.sha256(path.read_bytes() + (tmp_path / "hooks/two.py").read_bytes() + (tmp_path / "hooks/one.py").read_bytes())
    assert source.checksum == expected.hexdigest()
    assert list(source.body) == ["20250101000000_h.yaml", "hooks/two.py", "hooks/one.py"]


def test_hook_key_spelled_with_escapes_is_still_found(tmp_path):
    write(tmp_path, "hooks/h.py", "def go(c, x): pass\n")
    path = write(tmp_path, "20250101000000_h.yaml", 'up:\n  - "\\x70ython": hooks/h.py:go\n')
    source = loader.scan(tmp_path).files[20250101000000]
    assert source.hooks == ("hooks/h.py",)
    assert source.checksum != hashlib.sha256(path.read_bytes()).hexdigest()


def test_define_yaml_and_module(tmp_path):
    write(tmp_path, "20250101000000_a.yaml", "description: A\ndependencies: []\nrisky: true\nup:\n  - sql: SELECT 1\ndown:\n  - sql: SELECT 2\n")
    write(tmp_path, "20250102000000_b.py", "DESCRIPTION = 'B'\nDEPENDENCIES = [20250101000000]\nDATA_DESTRUCTIVE = True\nTRANSACTION = False\n"
          "def up(conn, ctx):\n    pass\n")
    found = loader.scan(tmp_path)
    problems: list[str] = []
    a = loader.define(found.files[20250101000000], tmp_path, "sqlite", found.files, problems=problems)
    b = loader.define(found.files[20250102000000], tmp_path, "sqlite", found.files, problems=problems)
    assert problems == []
    assert a.description == "A" and a.risky and a.down[0].sql == "SELECT 2"
    assert b.description == "B" and b.dependencies == (20250101000000,) and b.data_destructive and not b.transaction
    assert b.down is None and b.up[0].kind == "module"


def test_reading_runs_no_code(tmp_path):
    canary = tmp_path / "CANARY"
    write(tmp_path, "20250101000000_a.py", f"open({str(canary)!r}, 'w').close()\ndef up(conn, ctx):\n    pass\n")
    write(tmp_path, "hooks/h.py", f"open({str(canary)!r}, 'w').close()\ndef go(conn, ctx):\n    pass\n")
    write(tmp_path, "20250102000000_b.yaml", "up:\n  - python: hooks/h.py:go\n")
    found = loader.scan(tmp_path)
    problems: list[str] = []
    for source in found.files.values():
        loader.define(source, tmp_path, "sqlite", found.files, problems=problems)
    assert problems == [] and not canary.exists()


def test_steps_carry_their_statements_per_dialect_also_from_the_cache(tmp_path, monkeypatch):
    write(tmp_path, "hooks/h.py", "def go(conn, ctx):\n    pass\n")
    write(tmp_path, "20250101000000_a.yaml", (
        "up:\n"
        "  - sql: \"INSERT INTO t VALUES ('a;b'); SELECT 2\"\n"
        "  - sql:\n      postgresql: SELECT $$x;y$$; SELECT 3\n      default: SELECT 4; SELECT 5\n"
        "  - python: hooks/h.py:go\n"
    ))
    expected = {
        "sqlite": [("INSERT INTO t VALUES ('a;b')", "SELECT 2"), ("SELECT 4", "SELECT 5"), ()],
        "postgresql": [("INSERT INTO t VALUES ('a;b')", "SELECT 2"), ("SELECT $$x;y$$", "SELECT 3"), ()],
    }

    def define(dialect):
        found = loader.scan(tmp_path)
        problems: list[str] = []
        migration = loader.define(found.files[20250101000000], tmp_path, dialect, found.files, problems=problems, cache=found.cache)
        found.remember()
        assert problems == []
        return migration

    fresh = {dialect: define(dialect) for dialect in expected}
    for dialect, statements in expected.items():
        assert [step.statements for step in fresh[dialect].up] == statements

    def not_again(*args, **kwargs):
        raise AssertionError("a cached file was checked or split again")

    monkeypatch.setattr(loader, "schema_problems", not_again)
    monkeypatch.setattr(loader.sql, "split", not_again)
    for dialect in expected:  # both dialects' statements were kept in the one cache entry
        assert define(dialect) == fresh[dialect]


def test_an_edited_cache_entry_is_read_again(tmp_path):
    write(tmp_path, "20250101000000_a.yaml", "up:\n  - sql: SELECT 1; SELECT 2\n")

    def define():
        found = loader.scan(tmp_path)
        problems: list[str] = []
        migration = loader.define(found.files[20250101000000], tmp_path, "sqlite", found.files, problems=problems, cache=found.cache)
        found.remember()
        return migration, found.cache

    first, cache = define()
    (shard,) = cache.folder.iterdir()  # one entry: one shard file
    raw = json.loads(shard.read_text())
    assert len(raw) == 1
    for broken in (["not", "an", "entry"], {"doc": "text"}, {"doc": {"up": []}}):
        shard.write_text(json.dumps({key: broken for key in raw}))
        again, _ = define()
        assert again == first and again.up[0].statements == ("SELECT 1", "SELECT 2")


def test_the_parse_cache_reads_and_writes_only_the_shards_a_run_needs(tmp_path, monkeypatch):
    from migrund import cache as cache_module

    for n in range(1, 201):
        write(tmp_path, f"{20250101000000 + n}_m.yaml", f"up:\n  - sql: CREATE TABLE t{n} (id INTEGER)\n")

    def define_all(versions):
        found = loader.scan(tmp_path)
        for version in versions:
            assert loader.define(found.files[version], tmp_path, "sqlite", found.files, problems=[], cache=found.cache) is not None
        found.remember()
        return found.cache

    cache = define_all([20250101000000 + n for n in range(1, 201)])
    shards = sorted(cache.folder.iterdir())
    assert 100 < len(shards) <= 256 and sum(len(json.loads(p.read_text())) for p in shards) == 200
    reads, writes = [], []
    real_read, real_write = cache_module._read_trusted, cache_module.replace_private
    monkeypatch.setattr(cache_module, "_read_trusted", lambda path: reads.append(path) or real_read(path))
    monkeypatch.setattr(cache_module, "replace_private", lambda path, data: writes.append(path) or real_write(path, data))
    write(tmp_path, "20250102000000_new.yaml", "up:\n  - sql: CREATE TABLE fresh (id INTEGER)\n")
    again = define_all([20250102000000])  # a daemon pass: one new file among many
    assert len(reads) == 1 and writes == reads, "one shard read, the same one written"
    assert again.get(loader._CACHE_TAG + loader.scan(tmp_path).files[20250102000000].checksum) is not None


def test_a_file_larger_than_one_read_is_read_whole(tmp_path):
    rows = ",".join(f"({i})" for i in range(40_000))  # about 300 KB: several reads
    path = write(tmp_path, "20250101000000_big.yaml", f"up:\n  - sql: INSERT INTO t VALUES {rows}\n")
    source = loader.scan(tmp_path).files[20250101000000]
    assert source.data == path.read_bytes() and len(source.data) > 3 * loader._READ_SIZE
    assert source.checksum == hashlib.sha256(path.read_bytes()).hexdigest()
