"""Configuration: defaults, relative paths, ${VAR} expansion, overrides, masking."""
from __future__ import annotations

from pathlib import Path

import pytest

from migrund import config
from migrund.dburl import parse_url
from migrund.redact import mask_url
from migrund.errors import ConfigError


def load_text(tmp_path: Path, text: str):
    path = tmp_path / "conf" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return config.load(str(path))


def test_defaults_and_relative_paths(tmp_path):
    settings = load_text(tmp_path, "database:\n  url: sqlite:///db/app.db\n")
    assert settings.url.path == tmp_path / "conf" / "db" / "app.db"
    assert settings.migrations_dir == tmp_path / "conf" / "migrations"
    assert settings.backup.dir == tmp_path / "conf" / "backups"
    assert settings.lock_path == tmp_path / "conf" / "db" / "app.db.migrund.lock"
    assert settings.target == "latest" and settings.lock_timeout == 60
    assert settings.daemon.status_file.name.startswith("app-") and settings.daemon.status_file.name.endswith(".status.json")


def test_server_lock_defaults_to_state_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "state"))
    settings = load_text(tmp_path, "database:\n  url: postgresql://u@h/db\n")
    assert settings.lock_path.parent == tmp_path / "state" and settings.lock_path.name.startswith("app-")


def test_expansion_with_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("DB_FILE", "x.db")
    monkeypatch.setenv("EMPTY", "")
    settings = load_text(tmp_path, "database:\n  url: sqlite:///${DB_FILE}\nlock:\n  path: ${EMPTY:-l.lock}\nbackup:\n  dir: ${UNSET_ONE:-bk}\n")
    assert settings.url.path.name == "x.db"
    assert settings.lock_path.name == "l.lock" and settings.backup.dir.name == "bk"
    with pytest.raises(ConfigError, match="UNSET_TWO"):
        load_text(tmp_path, "database:\n  url: ${UNSET_TWO}\n")


def test_environment_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("MIGRUND_DATABASE_URL", "sqlite:///other.db")
    monkeypatch.setenv("MIGRUND_TARGET", "0")
    settings = load_text(tmp_path, "database:\n  url: sqlite:///app.db\ntarget: latest\n")
    assert settings.url.path == tmp_path / "conf" / "other.db" and settings.target == "0"


def test_config_discovery(tmp_path, monkeypatch):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "migrund.yaml").write_text("database:\n  url: sqlite:///a.db\n")
    assert config.load(cwd=tmp_path).source == tmp_path / "config" / "migrund.yaml"
    monkeypatch.setenv("MIGRUND_CONFIG", str(tmp_path / "nope.yaml"))
    with pytest.raises(ConfigError, match="nope.yaml"):
        config.load(cwd=tmp_path)


def test_mask_url():
    assert mask_url("postgresql://app:hunter2@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert mask_url("see mysql://root:p%40ss@h/db now") == "see mysql://root:***@h/db now"
    assert mask_url("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"
    assert parse_url("postgres://u:pw@h:5/db?sslmode=require", Path("/")).query == {"sslmode": "require"}


def test_masked_config_for_hooks(tmp_path):
    settings = load_text(tmp_path, "database:\n  url: postgresql://u:topsecret@h/db\n")
    assert "topsecret" not in repr(settings.masked)


ODD_PASSWORDS = ["p@ss", "a:b/c#d e", "100%sure", "trailing@"]


@pytest.mark.parametrize("password", ODD_PASSWORDS)
@pytest.mark.parametrize("form", ["userinfo", "query"])
def test_no_public_object_shows_a_password(tmp_path, password, form):
    from urllib.parse import quote

    from migrund import DatabaseManager
    from migrund.redact import redact
    from migrund.errors import MigrationError

    encoded = quote(password, safe="")
    url = f"postgresql://app:{encoded}@db:5432/x" if form == "userinfo" else f"postgresql://app@db:5432/x?password={encoded}"
    settings = load_text(tmp_path, f"database:\n  url: '{url}'\n")
    manager = DatabaseManager(settings)
    shown = [repr(settings), str(settings), repr(settings.url), settings.url.masked(), repr(manager), repr(settings.masked),
             mask_url(url), redact(f"driver said: could not connect with password {password} ({url})"),
             str(MigrationError(f"failed for {url}").as_json())]
    for text in shown:
        assert password not in text and encoded not in text, text
    assert "***" in settings.url.masked()
