"""File watching for the daemon: which changes ask for a reconcile, and which files are still being written."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Iterable

# Reading a file (ours included) is not a change.
_NOT_CHANGES = frozenset({"opened", "closed_no_write"})


class Watcher:
    """Watches the migrations folder and the config file; calls ``on_change(path)`` per relevant event.

    On Linux (inotify) it also tracks files opened for writing and not yet closed, so the
    daemon can wait for a writer that pauses longer than the debounce period.
    """

    def __init__(self, migrations_dir: Path, config_file: Path, ignored: Iterable[Path], on_change: Callable[[str], None]) -> None:
        from watchdog.observers import Observer

        self.migrations_dir = os.path.abspath(migrations_dir)
        self.config_file = os.path.abspath(config_file)
        self.ignored = tuple(os.path.abspath(p) for p in ignored)
        self.on_change = on_change
        self._writing: dict[str, float] = {}
        self._guard = threading.Lock()
        self._observer = Observer()
        self.tracks_writers = type(self._observer).__name__ == "InotifyObserver"
        handler: Any = _Handler(self._event)  # duck-typed: a subclass would import watchdog.events early
        # A folder that does not exist yet is awaited in its nearest existing parent; once it
        # appears, the daemon starts a new watcher on it (``waiting_for_folder``).
        self.waiting_for_folder = not os.path.isdir(self.migrations_dir)
        if self.waiting_for_folder:
            parent = os.path.dirname(self.migrations_dir)
            while not os.path.isdir(parent) and parent != os.path.dirname(parent):
                parent = os.path.dirname(parent)
            self._observer.schedule(handler, parent, recursive=False)
        else:
            self._observer.schedule(handler, self.migrations_dir, recursive=True)
        config_dir = os.path.dirname(self.config_file)
        if not _inside(config_dir, self.migrations_dir):
            self._observer.schedule(handler, config_dir, recursive=False)
        self._observer.daemon = True

    def start(self) -> None:
        """Start watching (a background thread)."""
        self._observer.start()

    def stop(self) -> None:
        """Stop watching."""
        self._observer.stop()
        self._observer.join(timeout=5)

    def being_written(self, older_than_ignored: float) -> list[str]:
        """Files opened for writing and not yet closed; entries older than ``older_than_ignored`` seconds are dropped."""
        now = time.monotonic()
        with self._guard:
            for path, since in list(self._writing.items()):
                if now - since > older_than_ignored:
                    del self._writing[path]  # a lost close event must not block forever
            return sorted(self._writing)

    def _relevant(self, path: str) -> bool:
        if not path or any(path == p or path.startswith(p + ".") or path.startswith(p + "-") for p in self.ignored):
            return False
        if path == self.config_file:
            return True
        return _inside(path, self.migrations_dir) and "__pycache__" not in path

    def _event(self, event: Any) -> None:
        if event.event_type in _NOT_CHANGES:
            return
        paths = [p for p in (os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", "") or "")) if self._relevant(p)]
        if not paths:
            return
        if self.tracks_writers and not event.is_directory:
            self._track(event.event_type, paths)
        self.on_change(paths[-1])

    def _track(self, kind: str, paths: list[str]) -> None:
        with self._guard:
            if kind == "modified":  # a write: the file stays "being written" until its writer closes it
                self._writing.setdefault(paths[0], time.monotonic())
            elif kind != "attrib":  # closed after writing, deleted, or moved (a rename publishes a complete file)
                for path in paths:
                    self._writing.pop(path, None)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _Handler:
    """The watchdog event handler: forwards every event."""

    def __init__(self, forward: Callable[[Any], None]) -> None:
        self.forward = forward

    def dispatch(self, event: Any) -> None:
        """watchdog's entry point."""
        self.forward(event)
