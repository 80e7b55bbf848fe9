"""Finding and connecting a driver, imported only when first needed (the contract is in ``contract``)."""
from __future__ import annotations

import importlib

from ..dburl import DatabaseURL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional

    from .contract import Driver


def never() -> bool:
    """The default ``should_stop``: waiting is never cut short."""
    return False


def driver_class(dialect: str) -> Any:
    """The driver class for ``dialect``, imported only now (its database library later still)."""
    from ..engines import locate

    where = locate(dialect)
    if where is None:
        from ..errors import ConfigError

        raise ConfigError(f"no installed package provides the database engine {dialect!r}", key="database.url")
    module_name, _, class_name = where.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def load_driver(url: DatabaseURL, *, create: bool, schema: Optional[str] = None) -> Driver:
    """Connect with the driver for ``url``'s dialect (``schema``: PostgreSQL's ``database.schema``)."""
    return driver_class(url.dialect).connect(url, create=create, schema=schema)
