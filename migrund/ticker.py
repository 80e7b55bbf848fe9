"""A live line on a terminal for runs that take a while: which migration and step run, and for how long.

Only on a terminal (stderr), only in text mode, and only once a run has gone on for
``DELAY`` seconds: short runs and pipes see the ordinary lines alone. The line is cleared
before any other output and redrawn after it.
"""
from __future__ import annotations

import os
import sys
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, TextIO

DELAY = 2.0  # seconds before the line appears
PERIOD = 0.25


def wanted(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that can redraw a line."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


class Ticker:
    """The live line: fed the runner's events, drawn by a thread of its own."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.drawn = False
        self.count = 0
        self.current: Optional[dict[str, Any]] = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="migrund-ticker", daemon=True)
        self.thread.start()

    def event(self, event: Any) -> None:
        """Follow a runner event (start, step, done)."""
        with self.lock:
            if event.kind == "start":
                self.count += 1
                self.current = {"verb": "applying" if event.direction == "up" else "rolling back", "version": event.version,
                                "name": event.name, "steps": event.steps, "step": 1, "since": time.monotonic()}
            elif event.kind == "step" and self.current is not None:
                self.current["step"] = event.step
            elif event.kind == "done":
                self.current = None

    def clear(self) -> None:
        """Take the line off the screen (before other output)."""
        with self.lock:
            self._erase()

    def stop(self) -> None:
        """End the thread and leave the screen without the line."""
        self.stopped.set()
        self.thread.join(1)
        self.clear()

    def line(self, now: float) -> Optional[str]:
        """The text to show at ``now``, or None."""
        if self.current is None or now - self.started < DELAY:
            return None
        c = self.current
        steps = f", step {c['step']} of {c['steps']}" if c["steps"] > 1 else ""
        return (f"{c['verb']} {c['version']} {c['name']}{steps}: {now - c['since']:.1f} s"
                f" (migration {self.count} of this run, {now - self.started:.0f} s in all)")

    def _erase(self) -> None:
        if self.drawn:
            self._write("\r\x1b[K")
            self.drawn = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.stopped.set()

    def _loop(self) -> None:
        while not self.stopped.wait(PERIOD):
            with self.lock:
                text = self.line(time.monotonic())
                if text is None:
                    self._erase()
                    continue
                width = _columns() - 1
                self._write("\r\x1b[K" + text[:width])
                self.drawn = True


def _columns() -> int:
    try:
        return os.get_terminal_size(sys.__stderr__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
