"""Files migrund writes: private to their owner (0600) and replaced atomically."""
from __future__ import annotations

import os
import re
from pathlib import Path


def read_regular(path: Path, *, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else OSError.

    Opened without blocking: a FIFO or device put where a file belongs can never hang the read.
    """
    import errno
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return os.read(fd, limit + 1)
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a file only its owner can read (0600, whatever the umask); no symlink followed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` through a 0600 temporary file in the same folder, renamed over it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_private(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


_TEMP = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.tmp$")


def sweep_stale_temps(folder: Path) -> None:
    """Remove the ``.<name>.<pid>.tmp`` files that processes killed mid-write left in ``folder``."""
    from .paths import pid_running

    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match and int(match["pid"]) != os.getpid() and not pid_running(int(match["pid"])) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
            except OSError:
                pass
