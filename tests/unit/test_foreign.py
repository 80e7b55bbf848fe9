"""What migrund says about files in the migrations folder that are not migrations."""
from __future__ import annotations

import pytest

from migrund.foreign import advice, no_migrations


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("1_create_users.up.sql", "golang-migrate"),
        ("000001_create_users.down.sql", "golang-migrate"),
        ("V1__init.sql", "Flyway"),
        ("V1.2.3__add_index.sql", "Flyway"),
        ("R__views.sql", "Flyway"),
        ("00001_create_users.sql", "goose or dbmate"),
        ("20230101120000_create_users.sql", "goose or dbmate"),
        ("schema.sql", "plain SQL"),
        ("20250101000000_users.yam", "rename it to .yaml"),
        ("20250101000000_users.json", "rename it to .yaml"),
        ("20250101000000_users.txt", "rename it to .yaml"),
        ("README.md", "move it out"),
    ],
)
def test_each_kind_of_file_gets_its_advice(name, says):
    assert says in advice(name)


def test_a_folder_without_migrations_names_a_few_files_and_counts_the_rest():
    text = no_migrations("migrations", ["a.sql", "b.sql", "c.sql", "d.sql", "e.sql"])
    assert "5 file(s) but no migration" in text and "a.sql, b.sql, c.sql and 2 more" in text
