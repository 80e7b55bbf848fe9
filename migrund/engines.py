"""Which database engines exist: the three built in, and any package that registers one.

A third-party engine is a package with an entry point in the ``migrund.drivers`` group:
its name is the URL scheme (and dialect), its value ``module:DriverClass``. The built-in
engines are registered there too; this table only spares every run the cost of reading
the installed packages' metadata for them (a test keeps the two the same).
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

GROUP = "migrund.drivers"

BUILT_IN = {
    "sqlite": "migrund.drivers.sqlite:SQLiteDriver",
    "postgresql": "migrund.drivers.postgresql:PostgreSQLDriver",
    "mysql": "migrund.drivers.mysql:MySQLDriver",
}


def locate(dialect: str) -> Optional[str]:
    """``module:Class`` of the driver for ``dialect``, or None when no installed package provides one."""
    if dialect in BUILT_IN:
        return BUILT_IN[dialect]
    from importlib.metadata import entry_points

    for point in entry_points(group=GROUP, name=dialect):
        return point.value
    return None
