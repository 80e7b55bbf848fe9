"""Examples in the docs are run: an example that drifts from the code is a bug."""
from __future__ import annotations

import re
import shutil

from tests.helpers import REPO


def _python_blocks(path, section: str) -> list[str]:
    text = (REPO / path).read_text()
    body = text[text.index(section):]
    body = body[: body.find("\n## ", 1)] if "\n## " in body[1:] else body
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_the_python_api_example_runs_on_the_example_project(tmp_path, monkeypatch, capsys):
    for folder in ("config", "migrations"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.chdir(tmp_path)
    blocks = _python_blocks("docs/reference.md", "## Python API")
    assert blocks, "the reference shows the API"
    for block in blocks:
        exec(compile(block, "docs/reference.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "'version': 20251119013300" in printed and "4 " in printed and "[20251123120000]" in printed
    assert (tmp_path / "data").exists() and list((tmp_path / "migrations").glob("*_add_users.yaml"))


def _config_keys(node: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in node.get("properties", {}).items():
        if value.get("type") == "object" and "properties" in value:
            keys |= _config_keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def test_the_reference_names_every_config_key_and_no_other():
    import json

    schema = json.loads((REPO / "migrund" / "schemas" / "config.schema.json").read_text())
    text = (REPO / "docs" / "reference.md").read_text()
    table = text[text.index("| key | default | meaning |"):]
    table = table[: table.index("\n\n")]
    documented = set()
    for row in table.splitlines()[2:]:
        documented |= set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)?)`", row.split("|")[1]))
    assert documented == _config_keys(schema)


def test_the_migration_examples_in_the_reference_validate(sqlite_project):
    project = sqlite_project
    project.configure()
    text = (REPO / "docs" / "reference.md").read_text()
    yaml_example = re.search(r"### YAML\n\n```yaml\n(.*?)```", text, re.S)[1]
    module_example = re.search(r"### Python migrations \(module form\)\n\n```python\n(.*?)```", text, re.S)[1]
    project.write("20251101000000_base.yaml", "up:\n  - sql: CREATE TABLE base (id INTEGER)\n")
    project.write("hooks/backfill_users.py", "def up(conn, ctx):\n    pass\n")
    project.write("20251119013300_create_users.yaml", yaml_example)
    project.write("20251120000000_plans.py", module_example)
    result = project.run("validate", "--json")
    assert result.code == 0, result.err
    assert result.json["migrations"] == 3
