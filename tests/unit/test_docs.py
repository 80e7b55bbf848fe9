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
