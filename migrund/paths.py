"""Where migrund keeps per-host state (SPEC 3: the state folder)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path


def hostname() -> str:
    """This host's name, as ``socket.gethostname()`` gives it (uname; importing socket costs more)."""
    return os.uname().nodename


def state_dir() -> Path:
    """``$STATE_DIRECTORY``, else ``$XDG_STATE_HOME/migrund``, else ``~/.local/state/migrund``."""
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        # systemd may pass several folders separated by colons; the first is ours.
        return Path(systemd.split(":")[0])
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg:
        return Path(xdg) / "migrund"
    return Path.home() / ".local" / "state" / "migrund"


def state_file(config_name: str, anchor: Path, suffix: str) -> Path:
    """``<state folder>/<config name>-<hash><suffix>``, the hash taken of ``anchor``'s absolute path."""
    digest = hashlib.sha256(str(anchor.absolute()).encode()).hexdigest()[:8]
    return state_dir() / f"{config_name}-{digest}{suffix}"
