"""Where migrund keeps per-host state (the state folder)."""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator


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


@contextmanager
def private_workdir(purpose: str) -> Iterator[Path]:
    """A 0700 folder for secrets and scratch files (``<state folder>/work/<pid>-<purpose>``), removed on exit.

    Folders that a killed migrund left behind (their pid no longer running) are swept
    first, so credentials never pile up in a shared temp folder.
    """
    import shutil

    root = _work_root()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(root, 0o700)
    sweep_workdirs()
    folder = root / f"{os.getpid()}-{purpose}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _work_root() -> Path:
    return state_dir() / "work"


def sweep_workdirs() -> None:
    """Remove the work folders of processes that are gone."""
    try:
        entries = list(os.scandir(_work_root()))
    except OSError:
        return
    for entry in entries:
        pid = entry.name.partition("-")[0]
        if pid.isascii() and pid.isdigit() and not pid_running(int(pid)):
            import shutil  # only when there is something to remove: with bz2 and lzma, 2 ms a run

            shutil.rmtree(entry.path, ignore_errors=True)


def pid_running(pid: Any) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
