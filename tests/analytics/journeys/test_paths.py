"""Paths counted from the customers' positions are the paths of the definition: for any
journeys and options, the path and link tables equal the ones a plain per-customer reading
of docs/journeys.md gives (each customer's touchpoints cut from the anchor, rare ones as
"Other", repeats of "Other" collapsed), and so does every customer's own path."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.journeys.paths import (
    ANCHORS,
    OTHER,
    PathOptions,
    customer_paths,
    journey_path_counts,
    link_table,
    path_table,
    positions,
    sequence_column,
    sequences,
)

# Enough touchpoints that long paths do not fit in one integer (the paths' other way).
TOUCHPOINTS = (
    "Ad",
    "Blog",
    "Cart",
    "Deal",
    "Mail",
    OTHER,
    "Purchase",
    *(f"T{i}" for i in range(10)),
)


@st.composite
def journeys(draw: st.DrawFn) -> pl.DataFrame:
    """Steps of a few customers: touchpoints in order, purchases in the purchase stage, some
    out of the paths, some with an NPS answer."""
    rows = []
    for customer in range(draw(st.integers(1, 12))):
        for _ in range(draw(st.integers(1, 24))):
            touchpoint = draw(st.sampled_from(TOUCHPOINTS))
            rows.append(
                {
                    "customer_id": f"C{customer:02d}",
                    "touchpoint": touchpoint,
                    "stage": "purchase" if touchpoint == "Purchase" else None,
                    "in_path": draw(st.booleans()) or draw(st.booleans()),
                    "nps": draw(st.one_of(st.none(), st.integers(0, 10))),
                }
            )
    schema = {"customer_id": pl.String, "touchpoint": pl.String, "stage": pl.String,
              "in_path": pl.Boolean, "nps": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


options = st.builds(
    PathOptions,
    steps=st.integers(2, 20),
    collapse=st.booleans(),
    anchor=st.sampled_from(ANCHORS),
    min_share=st.sampled_from([0.0, 0.1, 0.3, 0.6]),
    max_nodes=st.integers(1, 8),
)


def by_definition(
    cut: pl.DataFrame, chosen: PathOptions
) -> list[tuple[str, list[str], bool, bool]]:
    """Each customer's path read plainly: customer, path, converted, detractor."""
    journeys = []
    for row in cut.sort("customer_id").iter_rows(named=True):
        sequence = row[sequence_column(chosen)]
        if sequence is None:
            continue
        tail = chosen.anchor == "no_purchase"
        path = sequence[-chosen.steps :] if tail else sequence[: chosen.steps]
        converted = {"start": row["bought"], "first_purchase": row["bought_again"]}
        journeys.append((row["customer_id"], path, converted.get(chosen.anchor, False),
                         row["detractor"]))  # fmt: skip
    used = Counter(node for _, path, _, _ in journeys for node in set(path))
    ranked = sorted(used.items(), key=lambda item: (-item[1], item[0]))
    kept = [n for n, c in ranked if c >= chosen.min_share * len(journeys)][: chosen.max_nodes]

    def grouped(path: list[str]) -> list[str]:
        path = [node if node in kept else OTHER for node in path]
        if chosen.collapse and any(a == b == OTHER for a, b in itertools.pairwise(path)):
            path = [n for i, n in enumerate(path) if i == 0 or n != path[i - 1]]
        return path

    return [(c, grouped(p), converted, unhappy) for c, p, converted, unhappy in journeys]


def tables_by_definition(
    paths: list[tuple[str, list[str], bool, bool]], limit: int
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    total = len(paths)
    customers: Counter[tuple[str, ...]] = Counter()
    converted: Counter[tuple[str, ...]] = Counter()
    for _, path, bought, _ in paths:
        customers[tuple(path)] += 1
        converted[tuple(path)] += bought
    ranked = sorted(customers, key=lambda p: (-customers[p], " > ".join(p)))[:limit]
    table = [(list(p), customers[p], customers[p] / total, converted[p] / customers[p])
             for p in ranked]  # fmt: skip
    links = []
    for step in range(1, max((len(p) for _, p, _, _ in paths), default=0)):
        at_source: Counter[str] = Counter(p[step - 1] for _, p, _, _ in paths if len(p) >= step)
        pairs: dict[tuple[str, str], list[tuple[bool, bool]]] = {}
        for _, path, bought, unhappy in paths:
            if len(path) > step:
                pairs.setdefault((path[step - 1], path[step]), []).append((bought, unhappy))
        for (source, target), who in pairs.items():
            n = len(who)
            links.append((step, source, target, n, n / at_source[source], n / total,
                          sum(b for b, _ in who) / n, sum(u for _, u in who) / n))  # fmt: skip
    links.sort(key=lambda link: (link[0], -link[3], link[1], link[2]))
    return table, links


def same(rows: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]) -> bool:
    """Rows equal, shares to the last bits or so: Polars divides by a constant as a product
    with its reciprocal (3 / 5 is 0.6000000000000001 there), as the tables always have."""

    def equal(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-15)
        return a == b

    return len(rows) == len(expected) and all(
        len(r) == len(e) and all(equal(a, b) for a, b in zip(r, e, strict=True))
        for r, e in zip(rows, expected, strict=True)
    )


@settings(max_examples=100, deadline=None)
@given(steps=journeys(), chosen=options, limit=st.integers(1, 6))
def test_counted_paths_are_the_paths_of_the_definition(steps, chosen, limit):
    cut = sequences(steps)
    expected = by_definition(cut, chosen)
    paths, links = tables_by_definition(expected, limit)

    counted = journey_path_counts(steps, chosen)

    assert same(path_table(counted, limit).rows(), paths)
    assert same(link_table(counted).rows(), links)
    own = customer_paths(positions(cut), chosen).sort("customer_id")
    assert own.rows() == expected


def test_a_path_longer_than_anyone_s_journey_counts_what_there_is():
    steps = pl.DataFrame(
        {"customer_id": ["A", "A", "B"], "touchpoint": ["Ad", "Purchase", "Ad"],
         "stage": [None, "purchase", None], "in_path": [True, True, True], "nps": [None, 3, None]}
    )  # fmt: skip
    counted = journey_path_counts(steps, PathOptions(steps=9, min_share=0.0))

    assert path_table(counted).rows() == [
        (["Ad"], 1, 0.5, 0.0),
        (["Ad", "Purchase"], 1, 0.5, 1.0),
    ]
    assert link_table(counted).rows() == [(1, "Ad", "Purchase", 1, 0.5, 0.5, 1.0, 1.0)]
