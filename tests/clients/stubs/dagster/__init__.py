"""Minimal stand-in for Dagster (not installable here): ConfigurableResource as a pydantic model
and the few names dagster-census imports. dagster-census's own code runs unchanged."""
import logging
from typing import Any, NamedTuple

import pydantic

__version__ = "stub"


class Failure(Exception):
    pass


class ConfigurableResource(pydantic.BaseModel):
    pass


def get_dagster_logger():
    return logging.getLogger("dagster")


class TableColumn(NamedTuple):
    name: str
    type: Any = "unknown"


class TableSchema(NamedTuple):
    columns: Any = ()
