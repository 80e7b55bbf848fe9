"""sd_notify: tell systemd about readiness, status, liveness and stopping (no libsystemd needed)."""
from __future__ import annotations

import os
import socket

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping, Optional


class Notifier:
    """Sends ``KEY=value`` datagrams to ``$NOTIFY_SOCKET``; does nothing when it is unset."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        # A leading "@" names a socket in the abstract namespace (systemd's own convention).
        self.address: Optional[str] = "\0" + address[1:] if address.startswith("@") else (address or None)
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_seconds: Optional[float] = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 and mine else None
        self._socket: Optional[socket.socket] = None

    def send(self, **fields: str) -> None:
        """Send one message, e.g. ``send(READY="1", STATUS="idle")``; errors are ignored."""
        if self.address is None:
            return
        message = "\n".join(f"{key}={value}" for key, value in fields.items()).encode()
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto(message, self.address)
        except OSError:
            pass  # systemd gone or socket unreachable: supervision is best effort, never fatal
