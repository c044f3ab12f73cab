"""Journeys made from an earlier build after appends equal journeys built in full.

A small random company (events, orders, survey answers with comments, tickets) takes random
sequences of loads: appends of each source, at the end of the data or anywhere in it, by
customers known or new; replaces; rollbacks. After each, `journeys.refresh` makes the build
(from the one before when the data only appended to it), and every part is compared with a
full build of the same data in a scratch warehouse.
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from analytics import builds, journeys
from analytics.contract import DATASETS
from analytics.journeys import steps, store, update
from analytics.warehouse import QueryGateway, Warehouse
from tests.scratch_warehouse import built_in_full
from tests.slow_properties import slow_examples

FIRST = datetime(2024, 1, 1)
TOUCHPOINTS = [
    "Social ad", "Homepage visit", "Product page", "Add to cart", "Checkout", "Welcome email",
    "Support contact", "Product review", "Mystery page", None,
]  # fmt: skip
COMMENTS = [None, "Great service, thank you", "The delivery was late and support was rude", "ok"]


class Company:
    """Random rows of the journeys' sources; ids never repeat, customers do."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.made = 0
        self.customers = 8

    def rows(self, name: str, n: int, start: datetime, days: int) -> pl.DataFrame:
        rng = self.rng
        ids = [f"{name[0]}{self.made + i}" for i in range(n)]
        self.made += n
        if rng.random() < 0.3:
            self.customers += 2  # customers new to the journeys
        who = [rng.choice([None, *(f"C{k:02d}" for k in range(self.customers))]) for _ in ids]
        # Whole hours, so that moments repeat: ties are broken as a full build breaks them.
        at = [start + timedelta(hours=rng.randrange(24 * days)) for _ in ids]
        columns: dict[str, list[object]] = {"customer_id": who}

        def pick(*values: object) -> list[object]:
            return [rng.choice(values) for _ in ids]

        if name == "events":
            columns |= {
                "event_id": ids,
                "occurred_at": at,
                "touchpoint": pick(*TOUCHPOINTS),
                "stage": pick(None, None, "Loyalty", "nonsense"),
            }
        elif name == "orders":
            columns |= {
                "order_id": ids,
                "order_date": [a.date() for a in at],
                "amount": [10.0] * n,
                "status": pick("completed", "completed", "returned"),
            }
        elif name == "surveys":
            columns |= {
                "response_id": ids,
                "responded_at": at,
                "nps": pick(None, 0, 5, 7, 9, 10),
                "csat": pick(None, 1, 3, 5),
                "comment": pick(*COMMENTS),
            }
        else:
            columns |= {"ticket_id": ids, "opened_at": at}
        schema = DATASETS[name].schema
        return pl.DataFrame(
            {c: pl.Series(c, columns.get(c, [None] * n), dtype=t) for c, t in schema.items()}
        )


SOURCES = ("events", "orders", "surveys", "tickets")
LOADS = st.lists(
    st.tuples(
        st.sampled_from(["at the end", "at the end", "anywhere", "replace", "rollback"]),
        st.sampled_from(SOURCES),
    ),
    min_size=1,
    max_size=5,
)


def _load(warehouse: Warehouse, company: Company, what: str, name: str) -> None:
    rng = company.rng
    version = warehouse.version(name)
    if what == "rollback" and version:
        warehouse.rollback(name, rng.randrange(version), user="test")
    elif what == "replace" or version is None:
        rows = company.rows(name, 30, FIRST, 400)
        warehouse.commit(name, rows, mode="replace", metadata={})
    elif what == "at the end":  # after everything so far: the earlier quarters are kept
        rows = company.rows(name, rng.randrange(1, 8), FIRST + timedelta(days=400), 60)
        warehouse.commit(name, rows, mode="append", metadata={})
    else:
        rows = company.rows(name, rng.randrange(1, 8), FIRST, 460)
        warehouse.commit(name, rows, mode="append", metadata={})


def _start(tmp: Path, seed: int) -> tuple[Warehouse, Company]:
    warehouse, company = Warehouse(tmp / "w"), Company(seed)
    for name in SOURCES:
        warehouse.commit(name, company.rows(name, 40, FIRST, 400), mode="replace", metadata={})
    journeys.refresh(warehouse)
    return warehouse, company


def _full_build(warehouse: Warehouse, scratch: Path) -> Warehouse:
    return built_in_full(warehouse, scratch, journeys.refresh)


def _normal(frame: pl.DataFrame, part: str) -> pl.DataFrame:
    """A part in one order: the tables of everyone as built (their order is part of them),
    the others sorted (parts made with group-bys come in any order)."""
    if part in ("funnels", "measures"):
        return frame
    if part == "steps":  # a customer's steps in time order, ties by their content
        keys = ["customer_id", "at", "source", "touchpoint"]
        return frame.sort([*keys, *(c for c in frame.columns if c not in keys)], nulls_last=True)
    if isinstance(frame.schema.get("start_1"), pl.Enum):
        frame = frame.with_columns(pl.selectors.by_dtype(pl.Enum).cast(pl.String))
    return frame.sort(frame.columns, nulls_last=True)


def assert_same_as_full(warehouse: Warehouse, scratch: Path) -> dict[str, object]:
    full = _full_build(warehouse, scratch)
    mine, theirs = journeys.current(warehouse), journeys.current(full)
    assert mine is not None and theirs is not None
    for key in ("versions", "steps", "customers", "first", "last", "ranges", "stages"):
        assert mine.meta[key] == theirs.meta[key], key
    for part in store.PARTS:
        a, b = pl.read_parquet(mine.path(part)), pl.read_parquet(theirs.path(part))
        assert a.schema == b.schema, part  # the positions' enum included
        assert_frame_equal(_normal(a, part), _normal(b, part), rel_tol=1e-9, abs_tol=1e-12)
    steps = pl.read_parquet(mine.steps_path)
    assert steps.select(pl.col("customer_id").diff().min() >= 0).item() in (True, None)
    return mine.meta


@slow_examples(12)
@given(seed=st.integers(0, 10_000), loads=LOADS)
def test_journeys_made_from_an_earlier_build_equal_full_builds(tmp_path_factory, seed, loads):
    tmp = tmp_path_factory.mktemp("journeys-update")
    warehouse, company = _start(tmp, seed)
    for what, name in loads:
        _load(warehouse, company, what, name)
        journeys.refresh(warehouse)
        assert_same_as_full(warehouse, tmp / "full")


# ----- which loads are made from the build before --------------------------------------------


@pytest.fixture
def started(tmp_path) -> tuple[Warehouse, Company]:
    return _start(tmp_path, 5)


def test_an_append_at_the_end_keeps_the_earlier_quarters_and_every_other_customer(
    started, tmp_path, monkeypatch
):
    warehouse, company = started
    before = journeys.current(warehouse)
    assert before is not None
    rows = company.rows("orders", 5, FIRST + timedelta(days=420), 10)
    warehouse.commit("orders", rows, mode="append", metadata={})
    counted: list[object] = []
    tally = store.totals.tally

    def spy(steps, reach, touched, reactions, groups, stages, ranges):
        counted.extend(ranges)
        return tally(steps, reach, touched, reactions, groups, stages, ranges)

    monkeypatch.setattr(store.totals, "tally", spy)
    journeys.refresh(warehouse)
    monkeypatch.undo()
    meta = assert_same_as_full(warehouse, tmp_path / "full")

    assert meta["updated_from"] == before.meta["versions"]
    # All dates and the quarter of the appended orders (2025-Q1) counted; the rest kept.
    assert [(r[0] and r[0].isoformat(), r[1] and r[1].isoformat()) for r in counted] == [
        (None, None),
        ("2025-01-01", "2025-03-31"),
    ]


@pytest.mark.parametrize("load", ["replace", "rollback"])
def test_a_replace_or_a_rollback_is_built_in_full(started, tmp_path, load):
    warehouse, company = started
    _load(warehouse, company, "at the end", "events")
    journeys.refresh(warehouse)
    _load(warehouse, company, load, "events")
    journeys.refresh(warehouse)

    assert assert_same_as_full(warehouse, tmp_path / "full")["updated_from"] is None


@settings(max_examples=60, deadline=None)
@given(
    kept=st.lists(st.integers(0, 30), max_size=60),
    fresh=st.lists(st.integers(0, 40), max_size=15),
    cuts=st.lists(st.integers(0, 31), max_size=4),
    moved=st.booleans(),
)
def test_steps_are_merged_as_a_sort_would_order_them(tmp_path_factory, kept, fresh, cuts, moved):
    """Whatever the parts (whole customers each, some with none), keys moved or not: the
    earlier steps but the touched customers', and theirs, in customer order, each customer's
    steps in their order; a part no touched customer falls in is linked, not written."""
    tmp = tmp_path_factory.mktemp("merge")
    source = pl.DataFrame(
        {"customer_id": sorted(kept), "at": range(len(kept)), "touchpoint": ["a"] * len(kept)},
        schema={"customer_id": pl.UInt32, "at": pl.Int64, "touchpoint": pl.String},
    )
    with builds.parquet_parts(tmp / "steps") as written:
        for low, high in itertools.pairwise([0, *sorted(cuts), 32]):  # customers low to high-1
            written.write(source.filter(pl.col("customer_id").is_between(low, high - 1)))
    shift = np.arange(31, dtype=np.uint32) * 2 if moved else None  # new customers between
    keys_now = source["customer_id"].to_numpy() if shift is None else shift[source["customer_id"]]
    touched = np.unique(np.array(fresh, dtype=np.uint32))
    new = pl.DataFrame(
        {
            "customer_id": fresh,
            "at": [-i for i in range(len(fresh))],
            "touchpoint": ["b"] * len(fresh),
        },
        schema=source.schema,
    )
    update._write_merged(tmp / "steps", shift, touched, new, tmp / "merged")

    expected = (
        pl.concat([source.with_columns(customer_id=pl.Series(keys_now, dtype=pl.UInt32)), new])
        .filter(~pl.col("customer_id").is_in(touched) | (pl.col("touchpoint") == "b"))
        .sort("customer_id", maintain_order=True)
    )
    assert_frame_equal(pl.read_parquet(tmp / "merged"), expected)
    before, after = builds.parts_of(tmp / "steps"), builds.parts_of(tmp / "merged")
    assert len(after) == len(before)
    below = -1  # a touched customer goes in the first part whose last key is theirs or past it
    for number, (old, new_part) in enumerate(zip(before, after, strict=True)):
        keys = pl.read_parquet(old)["customer_id"]
        top = keys.max() if keys.len() else below
        holds_one = any(below < t <= top for t in touched)
        untouched = shift is None and number < len(before) - 1 and not holds_one
        assert (old.stat().st_ino == new_part.stat().st_ino) == untouched, number
        below = top


# ----- a full build a batch of customers at a time ---------------------------------------------


@slow_examples(15)
@given(seed=st.integers(0, 10_000), rows=st.integers(1, 90), loads=LOADS)
def test_a_full_build_in_batches_equals_one_in_one_batch(tmp_path_factory, seed, rows, loads):
    """Whatever the batches (down to a customer each), the steps and every part are those of
    the build that merges every customer at once."""
    tmp = tmp_path_factory.mktemp("journeys-batches")
    warehouse, company = _start(tmp, seed)
    for what, name in loads:
        _load(warehouse, company, what, name)
    merged: list[int] = []
    merge = steps.merge_steps

    def counting(events, orders, surveys, tickets, settings):
        merged.append(1)
        return merge(events, orders, surveys, tickets, settings)

    with (
        patch.object(steps, "BATCH_ROWS", rows),
        patch.object(steps, "merge_steps", counting),
    ):
        built = built_in_full(warehouse, tmp / "batches", journeys.refresh)
    gateway = QueryGateway(warehouse)
    source_rows = sum(gateway.query(f"SELECT count(*) FROM {n}").item() for n in SOURCES)
    customers = pl.read_parquet(journeys.current(built).path("customers")).height
    batches = -(-source_rows // rows)
    if batches > 1 and customers > 1:  # whole customers, as many in each but the last
        batches = -(-customers // -(-customers // batches))
    assert len(merged) == (batches if customers > 1 else 1)
    assert_same_as_full(built, tmp / "one")
