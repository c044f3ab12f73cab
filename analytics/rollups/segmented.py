"""The months per segment of a new segmentation, carried over from an earlier one's instead of
built again from every row.

A rollup keeps its months sums (and the orders' monthly, quarterly and yearly customer counts)
per RFM segment and cluster of a segmentation (`layout.segments_part`). Every load makes a new
segmentation, and its parts used to be built from every row: 12-15 s at 10M orders, while an
append of 10k orders moves about 1 % of the customers to another segment or cluster.

Every value of these parts is a sum over customers of what their own rows give under their own
segment and cluster: the sums of their rows, and for the counts whether they were active,
retained, repeat or new in a period (from their own history). So when the data only appends
rows to the data an earlier rollup's parts per an earlier segmentation summed (or is that
data), the new parts are the earlier ones plus, for the customers whose segment or cluster
changed or who have appended rows (`moved`), what their rows give now under their new labels,
minus what their rows gave then under the old ones. Rows without a customer id (no segment)
are counted on both sides, so that appended ones add up too. The customers' attributes are
the same on both sides: the rollups of other customers' versions are never a source.

The parts are written whole, the sums merged per group: a group whose rows all moved away is
left out, as a full build leaves it out. The months sums per segment count their rows
(`rows`) for that; every counts row has an active customer. Earlier parts without `rows`
(written by an earlier release), or a segmentation that moved more than `MOST_MOVED` of the
customers, are built in full instead. `tests/analytics/rollups/test_segmented.py` checks
over random sequences of loads that the carried parts equal a full build's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl

from analytics.contract import DATASETS
from analytics.periods import Grain
from analytics.rollups.layout import (
    CUSTOMER_ATTRIBUTES,
    SEGMENTS_PART,
    Family,
    Rollup,
    segments_part,
)
from analytics.rollups.sql import counts_sql, sql_string, sums_sql
from analytics.rollups.update import kept_rollups
from analytics.warehouse import SEGMENTS_FOLDER, QueryGateway, Workspace

MOST_MOVED = 0.25  # beyond this share of customers moved, a full build is as quick
ROWS = "rows"  # the months sums per segment: rows summed, so that empty groups are known

# Customers whose RFM segment or cluster differs between two segmentations' customers
# tables (or who are in only one of them).
_MOVED_SQL = """
CREATE OR REPLACE TEMP TABLE moved AS
SELECT customer_id
FROM (SELECT customer_id, rfm_segment, cluster_name FROM read_parquet({new})) n
FULL JOIN (SELECT customer_id, rfm_segment, cluster_name FROM read_parquet({old})) o
USING (customer_id)
WHERE n.rfm_segment IS DISTINCT FROM o.rfm_segment
   OR n.cluster_name IS DISTINCT FROM o.cluster_name
"""


def part_sql(family: Family, kind: str, segments: Path) -> str:
    """The SQL of a part per segment of the segmentation whose customers table is
    `segments`: `kind` "months" (sums) or "counts_<grain>" (the orders' customer counts)."""
    if kind == "months":
        return sums_sql(family, "m", str(segments))
    grain: Grain = kind.removeprefix("counts_")  # type: ignore[assignment]
    return counts_sql(None, grain, str(segments))


def kind_of(part: str) -> str:
    """ "counts_month_segments_1a2b..." -> "counts_month"."""
    return part.split(SEGMENTS_PART)[0]


def carried(gateway: QueryGateway, rollup: Rollup, parts: Sequence[str], segments: Path) -> bool:
    """Write `rollup`'s `parts` per segment of `segments` (a segmentation's customers table)
    from a kept rollup's parts per an earlier segmentation; False when none can be (they
    are then built in full). `gateway` reads the rollup's versions."""
    kinds = [kind_of(part) for part in parts]
    for old, earlier, added in _sources(gateway, rollup, kinds, segments):
        with gateway.workspace() as workspace:
            if _carry(workspace, gateway, rollup, kinds, (old, earlier), segments, added):
                return True
    return False


def _sources(
    gateway: QueryGateway, rollup: Rollup, kinds: list[str], segments: Path
) -> Iterator[tuple[Rollup, Path, tuple[str, ...]]]:
    """Kept rollups of the family (this one first) with every part of `kinds` per an earlier
    segmentation still kept, whose data this rollup's only appends to: each with that
    segmentation's customers table and the files appended since."""
    warehouse = gateway.warehouse
    family = rollup.family
    version = dict(rollup.versions)[family]
    assert version is not None
    folder = warehouse.root / SEGMENTS_FOLDER
    tables = sorted(
        (p for p in folder.glob("segments-*.customers.parquet") if p != segments),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in kept_rollups(warehouse, rollup.folder, family, dict(rollup.versions)):
        old_version = dict(old.versions)[family]
        assert old_version is not None
        added = () if old_version == version else warehouse.appended(family, old_version, version)
        if added is None:
            continue
        for table in tables:
            names = [segments_part(table, kind) for kind in kinds]
            if old.has(*names) and all(_counted(old, name) for name in names):
                yield old, table, added


def _counted(rollup: Rollup, part: str) -> bool:
    """Whether the part tells empty groups apart: counts, or sums with their `ROWS`."""
    schema = pl.read_parquet_schema(rollup.path(part))
    return "active" in schema or ROWS in schema


def _carry(
    workspace: Workspace,
    gateway: QueryGateway,
    rollup: Rollup,
    kinds: list[str],
    source: tuple[Rollup, Path],
    segments: Path,
    added: tuple[str, ...],
) -> bool:
    old, earlier = source
    family = rollup.family
    workspace.execute(
        _MOVED_SQL.format(new=sql_string(str(segments)), old=sql_string(str(earlier)))
    )
    if added:
        workspace.load("appended", family, files=added, columns=("customer_id",))
        workspace.execute(
            "INSERT INTO moved SELECT DISTINCT customer_id FROM appended "
            "WHERE customer_id IS NOT NULL AND customer_id NOT IN (SELECT customer_id FROM moved)"
        )
    moved = workspace.query("SELECT count(*) FROM moved").item()
    everyone = workspace.query(
        f"SELECT count(*) FROM read_parquet({sql_string(str(segments))})"
    ).item()
    if moved > MOST_MOVED * max(everyone, 1):
        return False
    theirs = "customer_id IS NULL OR customer_id IN (SELECT customer_id FROM moved)"
    workspace.load(
        "customers",
        "customers",
        columns=("customer_id", *CUSTOMER_ATTRIBUTES),
        where="customer_id IN (SELECT customer_id FROM moved)",
    )
    # Their rows then: the earlier data's files, under the dataset's name for the parts' SQL
    # (only the columns it names).
    old_version = dict(old.versions)[family]
    assert old_version is not None
    named = set(re.findall(r"\w+", " ".join(part_sql(family, kind, earlier) for kind in kinds)))
    columns = tuple(c for c in DATASETS[family].column_names if c in named)
    workspace.load(
        family,
        family,
        files=tuple(gateway.warehouse.files(family, old_version)),
        columns=columns,
        where=theirs,
    )
    for i, kind in enumerate(kinds):
        workspace.execute(f"CREATE TEMP TABLE minus_{i} AS {part_sql(family, kind, earlier)}")
    # Their rows now: those and the appended ones.
    if added:
        workspace.load("appended", family, files=added, columns=columns, where=theirs)
        workspace.execute(f"INSERT INTO {family} BY NAME SELECT * FROM appended")
    for i, kind in enumerate(kinds):
        workspace.execute(f"CREATE TEMP TABLE plus_{i} AS {part_sql(family, kind, segments)}")
    for i, kind in enumerate(kinds):
        before = segments_part(earlier, kind)
        target = rollup.path(segments_part(segments, kind))
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        sql = _merged_sql(pl.read_parquet_schema(old.path(before)), f"plus_{i}", f"minus_{i}")
        workspace.write_parquet(sql, partial, {"files": old.files(before)})
        os.replace(partial, target)
    return True


def _merged_sql(schema: Mapping[str, pl.DataType], plus: str, minus: str) -> str:
    """The earlier part's sums (`$files`) plus the sums of `plus` minus those of `minus`, per
    group, empty groups left out, in a full build's types. Not sorted as a full build sorts
    them: readers sum over groups in any order, and sorting a million groups again took
    longer than summing them."""
    measures = [c for c, t in schema.items() if t.is_numeric() and c != "m"]
    keys = [c for c in schema if c not in measures]
    negated = ", ".join([*keys, *(f"-{c} AS {c}" for c in measures)])
    sums = ", ".join(
        f"CAST(sum({c}) AS {'DOUBLE' if schema[c].is_float() else 'BIGINT'}) AS {c}"
        for c in measures
    )
    present = ROWS if ROWS in measures else "active"
    return (
        f"SELECT {', '.join(keys)}, {sums} FROM ("
        f"SELECT {', '.join(schema)} FROM read_parquet($files) "
        f"UNION ALL SELECT {', '.join(schema)} FROM {plus} "
        f"UNION ALL SELECT {negated} FROM {minus}"
        f") GROUP BY ALL HAVING sum({present}) > 0"
    )
