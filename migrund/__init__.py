"""migrund keeps a database at a declared schema version.

Names are imported on first use so that ``migrund --help`` stays fast.
"""
from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"
__all__ = ["DatabaseManager", "MigrationError", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "DatabaseManager":
        from .api import DatabaseManager

        return DatabaseManager
    if name == "MigrationError":
        from .errors import MigrationError

        return MigrationError
    raise AttributeError(f"module 'migrund' has no attribute {name!r}")
