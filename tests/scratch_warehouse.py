"""The same data in a scratch warehouse: what the tests of derived tables kept up to date
compare with, a build from nothing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from analytics.contract import DATASETS
from analytics.warehouse import Warehouse


def built_in_full(
    warehouse: Warehouse, scratch: Path, build: Callable[[Warehouse], object]
) -> Warehouse:
    """A warehouse at `scratch` holding `warehouse`'s datasets (their files hard-linked, no
    derived table), after `build` made its derived tables from nothing."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    for name in DATASETS:
        source = warehouse.table_path(name)
        if source.exists():
            shutil.copytree(source, scratch / source.name, copy_function=os.link)
    full = Warehouse(scratch)
    build(full)
    return full
