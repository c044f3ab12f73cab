"""The common paths: each customer's first (or last) touchpoints as a sequence, the most
common sequences, and the step-to-step links between them (what a Sankey draws).

Per customer, the touchpoints in the paths (`in_path` steps) in time order, consecutive
repeats collapsed when asked, then cut to `steps` touchpoints from an anchor:

- `start`: from the journey's first touchpoint; converted = made a purchase;
- `first_purchase`: from the first purchase on (buyers only); converted = bought again
  ("paths that lead to a second purchase");
- `no_purchase`: the last touchpoints of journeys without a purchase ("paths that end
  without a purchase"); converted = never.

Touchpoints on fewer than `min_share` of the journeys, or beyond the `max_nodes` most used,
become "Other" (and repeats of "Other" collapse). Every path has its customers, share of all
journeys and conversion; every link its step-to-step conversion (of the customers at its
source touchpoint at that step, the share that went on to its target) and overall
conversion (of all journeys).

Paths are counted, not listed, where only their numbers are shown: each customer's
sequences become one small integer column per position (`positions`, stored per data
version for all dates), and `path_counts` counts the customers per distinct beginning
before any path is made (a million customers have some sixty thousand distinct first five
touchpoints); `customer_paths` gives each customer's path for the lists behind a path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from analytics import definitions as rules
from analytics.errors import ConfigError

ANCHORS = ("start", "first_purchase", "no_purchase")
OTHER = "Other"

PATHS_SCHEMA = pl.Schema(
    {
        "path": pl.List(pl.String()),
        "customers": pl.Int64(),
        "share": pl.Float64(),
        "conversion": pl.Float64(),
    }
)
LINKS_SCHEMA = pl.Schema(
    {
        "step": pl.Int64(),  # the link goes from touchpoint `step` to touchpoint `step + 1`
        "source": pl.String(),
        "target": pl.String(),
        "customers": pl.Int64(),
        "conversion_step": pl.Float64(),
        "conversion_overall": pl.Float64(),
        "converted": pl.Float64(),  # share of the link's customers who converted
        "detractors": pl.Float64(),  # share of the link's customers with a detractor answer
    }
)


@dataclass(frozen=True)
class PathOptions:
    """How journeys become paths."""

    steps: int = 5
    collapse: bool = True
    anchor: str = "start"
    min_share: float = 0.02
    max_nodes: int = 12

    def __post_init__(self) -> None:
        if self.anchor not in ANCHORS:
            raise ConfigError(
                f"Unknown path anchor '{self.anchor}'. Choose one of: {', '.join(ANCHORS)}."
            )
        if not 2 <= self.steps <= 20:
            raise ConfigError(f"Paths need 2 to 20 steps; got {self.steps}.")
        if not 0 <= self.min_share < 1 or self.max_nodes < 1:
            raise ConfigError(
                "Rare touchpoints are grouped by a share from 0 to 1 and a number of "
                f"touchpoints of at least 1; got {self.min_share} and {self.max_nodes}."
            )


LONGEST = 20  # touchpoints kept per customer and anchor: the most steps a path may have
SEQUENCES = ("start", "start_raw", "after", "after_raw", "end", "end_raw")


def sequences(
    steps: pl.DataFrame,
    purchase_stage: str = "purchase",
    columns: Sequence[str] = SEQUENCES,
) -> pl.DataFrame:
    """Each customer's touchpoints from every anchor, cut to `LONGEST` (what paths are made
    of, by way of their `positions`): customer_id; `start`, `start_raw` (from
    the first touchpoint, repeats collapsed or kept); `after`, `after_raw` (from the first
    purchase, buyers only); `end`, `end_raw` (the last ones, of journeys without a
    purchase) — those of them in `columns`; bought, bought_again, detractor (any NPS
    detractor answer)."""
    unhappy = (
        steps.filter(pl.col("nps") <= rules.DETRACTOR_TO)
        .select("customer_id", detractor=pl.lit(True))
        .unique()
    )
    ordered = (
        steps.filter(pl.col("in_path"))
        .group_by("customer_id", maintain_order=True)
        .agg("touchpoint", bought=pl.col("stage") == purchase_stage)
        .join(unhappy, on="customer_id", how="left")
    )
    first = pl.col("bought").list.arg_max()
    every = pl.col("touchpoint")
    after = every.list.slice(first)
    bought, never = pl.col("bought").list.any(), ~pl.col("bought").list.any()
    cut = {
        "start": _collapse(every, True).list.head(LONGEST),
        "start_raw": every.list.head(LONGEST),
        "after": pl.when(bought).then(_collapse(after, True).list.head(LONGEST)),
        "after_raw": pl.when(bought).then(after.list.head(LONGEST)),
        "end": pl.when(never).then(_collapse(every, True).list.tail(LONGEST)),
        "end_raw": pl.when(never).then(every.list.tail(LONGEST)),
    }
    return ordered.select(
        "customer_id",
        *(cut[c].alias(c) for c in columns),
        bought=pl.col("bought").list.any(),
        bought_again=pl.col("bought").list.slice(first + 1).list.any(),
        detractor=pl.col("detractor").fill_null(False),
    )


FROM_END = ("end", "end_raw")  # the last touchpoints: their positions count back from the end
# A path counted is one text, a character per touchpoint: the touchpoint's code (its place
# in the names) from this character on. Texts group far faster than lists, and "Other"
# repeats collapse with one replace.
KEY_BASE = 0x10000


@dataclass(frozen=True)
class PathCounts:
    """Customers per path (`path_counts`): `counts` holds key (the path, a character per
    touchpoint: `names[ord(c) - KEY_BASE]`), converted, detractor and customers."""

    counts: pl.DataFrame
    names: tuple[str, ...]


def positions(
    sequences: pl.DataFrame,
    columns: Sequence[str] = SEQUENCES,
    longest: int = LONGEST,
    names: Sequence[str] | None = None,
) -> pl.DataFrame:
    """`sequences` with each of its sequence `columns` as one column per position,
    `<column>_1` to `<column>_<longest>` (null past the sequence's end; for `end` and
    `end_raw`, counted back from the last touchpoint), touchpoints as an enum that holds
    "Other" too (or `names`, which must hold every touchpoint of `sequences`); the other
    columns as they are. What paths are cut from: a million customers' paths are then
    grouped on a few small integer columns, not on lists of text (stored per data version
    for all dates)."""
    present = [c for c in columns if c in sequences.columns]
    touchpoint = pl.Enum(sorted(touchpoint_names(sequences, present)) if names is None else names)

    def at(column: str, place: int) -> pl.Expr:
        index = -place if column in FROM_END else place - 1
        return (
            pl.col(column)
            .list.get(index, null_on_oob=True)
            .cast(touchpoint)
            .alias(f"{column}_{place}")
        )

    return sequences.select(
        pl.exclude(present), *(at(c, i) for c in present for i in range(1, longest + 1))
    )


def touchpoint_names(sequences: pl.DataFrame, columns: Sequence[str] = SEQUENCES) -> set[str]:
    """Every touchpoint in `sequences`' sequence `columns`, and "Other"."""
    names = {OTHER}
    for column in columns:
        if column in sequences.columns:
            names.update(sequences[column].explode().drop_nulls().unique().to_list())
    return names


def sequence_column(options: PathOptions) -> str:
    """The `sequences` column a path of these options is cut from."""
    column = {"start": "start", "first_purchase": "after", "no_purchase": "end"}[options.anchor]
    return column if options.collapse else f"{column}_raw"


def position_columns(options: PathOptions) -> list[str]:
    """The `positions` columns a path of these options reads: its touchpoints (in path
    order), bought, bought_again and detractor."""
    return [*_places(options), "bought", "bought_again", "detractor"]


def _places(options: PathOptions) -> list[str]:
    column = sequence_column(options)
    places = [f"{column}_{i}" for i in range(1, options.steps + 1)]
    return places[::-1] if column in FROM_END else places


def journey_paths(
    steps: pl.DataFrame, options: PathOptions, purchase_stage: str = "purchase"
) -> pl.DataFrame:
    """Each customer's path from the anchor: customer_id, path (list of touchpoints, rare
    ones as "Other"), converted (bool), detractor (any NPS detractor answer in view)."""
    return customer_paths(step_positions(steps, options, purchase_stage), options)


def journey_path_counts(
    steps: pl.DataFrame, options: PathOptions, purchase_stage: str = "purchase"
) -> PathCounts:
    """`journey_paths` counted: what `path_table` and `link_table` read."""
    return path_counts(step_positions(steps, options, purchase_stage), options)


def step_positions(steps: pl.DataFrame, options: PathOptions, purchase_stage: str) -> pl.DataFrame:
    """The `positions` the steps' paths of these options are cut from (only what they
    read)."""
    column = [sequence_column(options)]
    return positions(sequences(steps, purchase_stage, column), column, options.steps)


def customer_paths(cut: pl.DataFrame, options: PathOptions) -> pl.DataFrame:
    """`journey_paths` from the customers' `positions` (customer_id and at least the
    `position_columns`)."""
    chosen = _chosen(cut, options).with_columns(customers=pl.lit(1, pl.Int64))
    names = _names(cut, options)
    keyed = _keyed(chosen, names, options)
    return keyed.select(
        "customer_id", "converted", "detractor", path=_decoded_path(pl.col("key"), names)
    ).select("customer_id", "path", "converted", "detractor")


def path_counts(cut: pl.DataFrame, options: PathOptions) -> PathCounts:
    """The customers per path, conversion and detractor answer of `customer_paths`, from
    the customers' `positions` (at least the `position_columns`) without a path per
    customer: they are counted per distinct beginning (some sixty thousand for a million
    customers' first five touchpoints) before any path is made."""
    names = _names(cut, options)
    counted = _counted(_chosen(cut, options), _places(options), len(names))
    counts = (
        _keyed(counted, names, options)
        .group_by("key", "converted", "detractor")  # "Other" joins some paths
        .agg(pl.col("customers").sum())
    )
    return PathCounts(counts, names)


def _names(cut: pl.DataFrame, options: PathOptions) -> tuple[str, ...]:
    """The touchpoints the positions' codes stand for."""
    dtype = cut.schema[_places(options)[0]]
    assert isinstance(dtype, pl.Enum), "paths are cut from `positions`"
    return tuple(dtype.categories.to_list())


def _chosen(cut: pl.DataFrame, options: PathOptions) -> pl.DataFrame:
    """The journeys that have a path from the anchor (a sequence holds one touchpoint at
    least), with their touchpoints' positions (as codes: their place in the names),
    `converted` and `detractor`."""
    places = _places(options)
    converted = {
        "start": pl.col("bought"),
        "first_purchase": pl.col("bought_again"),
        "no_purchase": pl.lit(False),
    }[options.anchor]
    first = places[-1] if options.anchor == "no_purchase" else places[0]
    ids = ["customer_id"] if "customer_id" in cut.columns else []
    codes = (pl.col(p).to_physical().cast(pl.UInt32) for p in places)
    return cut.filter(pl.col(first).is_not_null()).select(
        *ids, *codes, "detractor", converted=converted
    )


def _counted(chosen: pl.DataFrame, places: list[str], names: int) -> pl.DataFrame:
    """`chosen`'s customers per distinct positions, converted and detractor (customers).
    Where they fit, the positions and flags are packed into one integer first: a million
    rows group several times faster on one integer than on many columns."""
    width = names.bit_length()  # a code + 1 (0: no touchpoint there)
    flags = len(places) * width
    if flags + 2 > 64:
        return chosen.group_by(*places, "converted", "detractor").agg(
            customers=pl.len().cast(pl.Int64)
        )
    field = [pl.lit(1 << (width * i), pl.UInt64) for i in range(len(places))]
    packed = pl.sum_horizontal(
        *(
            (pl.col(p).cast(pl.UInt64) + 1).fill_null(0) * f
            for p, f in zip(places, field, strict=True)
        ),
        pl.col("converted").cast(pl.UInt64) * pl.lit(1 << flags, pl.UInt64),
        pl.col("detractor").cast(pl.UInt64) * pl.lit(1 << (flags + 1), pl.UInt64),
    )
    counted = chosen.group_by(_packed=packed).agg(customers=pl.len().cast(pl.Int64))

    def unpacked(f: pl.Expr, size: int) -> pl.Expr:
        return (pl.col("_packed") // f) % pl.lit(1 << size, pl.UInt64)

    code = [unpacked(f, width) for f in field]
    return counted.select(
        *(
            pl.when(c > 0).then(c - 1).cast(pl.UInt32).alias(p)
            for c, p in zip(code, places, strict=True)
        ),
        converted=unpacked(pl.lit(1 << flags, pl.UInt64), 1) == 1,
        detractor=unpacked(pl.lit(1 << (flags + 1), pl.UInt64), 1) == 1,
        customers="customers",
    )


def _keyed(chosen: pl.DataFrame, names: tuple[str, ...], options: PathOptions) -> pl.DataFrame:
    """`chosen` (positions and the `customers` each row stands for) with its positions as
    one `key`: the touchpoints on too few journeys as "Other", repeats of "Other"
    collapsed when repeats are."""
    places = _places(options)
    kept = set(_common_nodes(chosen, places, names, options))
    characters = _characters(names)
    other = characters[names.index(OTHER)]
    # One lookup both groups the rare touchpoints and spells each code as its character.
    spelled = pl.Series([c if n in kept else other for n, c in zip(names, characters, strict=True)])
    key = pl.concat_str([pl.lit(spelled).gather(pl.col(p)) for p in places], ignore_nulls=True)
    if options.collapse:
        # The sequences are collapsed already: only where grouping made "Other" follow
        # "Other" is there anything left to collapse.
        key = key.str.replace_all(f"{re.escape(other)}{{2,}}", other)
    return chosen.select(pl.exclude(places), key=key)


def _characters(names: tuple[str, ...]) -> list[str]:
    return [chr(KEY_BASE + i) for i in range(len(names))]


def _decoded_name(character: pl.Expr, names: tuple[str, ...]) -> pl.Expr:
    """A key's character as its touchpoint's name."""
    return character.replace_strict(_characters(names), list(names), return_dtype=pl.String)


def _decoded_path(key: pl.Expr, names: tuple[str, ...]) -> pl.Expr:
    """A key as the list of its touchpoints' names."""
    return key.str.split("").list.eval(_decoded_name(pl.element(), names))


def _common_nodes(
    chosen: pl.DataFrame, places: list[str], names: tuple[str, ...], options: PathOptions
) -> list[str]:
    """Touchpoints on at least `min_share` of the journeys, the `max_nodes` most used
    (`chosen`: positions as codes of `names`, and the `customers` each row stands for). A
    journey counts for a touchpoint at its first position holding it."""
    if chosen.is_empty():
        return []
    journeys = int(chosen["customers"].sum())
    firsts = [
        chosen.filter(
            pl.all_horizontal(
                pl.col(place).is_not_null(),
                *(pl.col(place).ne_missing(pl.col(before)) for before in places[:i]),
            )
        ).select(node=pl.col(place), customers="customers")
        for i, place in enumerate(places)
    ]
    used = (
        pl.concat(firsts)
        .group_by("node")
        .agg(journeys=pl.col("customers").sum())
        .with_columns(node=pl.lit(pl.Series(names, dtype=pl.String)).gather(pl.col("node")))
        .filter(pl.col("journeys") >= options.min_share * journeys)
        .sort(["journeys", "node"], descending=[True, False])
        .head(options.max_nodes)
    )
    return [str(n) for n in used["node"].to_list()]


def _collapse(path: pl.Expr, collapse: bool) -> pl.Expr:
    if not collapse:
        return path
    return path.list.eval(pl.element().filter(pl.element().ne_missing(pl.element().shift(1))))


def path_table(counted: PathCounts, limit: int = 20) -> pl.DataFrame:
    """The `limit` most common paths (`PATHS_SCHEMA`) of `path_counts`, most customers
    first."""
    counts, names = counted.counts, counted.names
    total = counts["customers"].sum()
    if total == 0:
        return pl.DataFrame(schema=PATHS_SCHEMA)
    per = counts.group_by("key").agg(pl.col("customers").sum(), conversion=_share_of("converted"))
    if 0 < limit < per.height:  # ties are broken by name: name only those that can be shown
        least = per["customers"].top_k(limit).min()
        per = per.filter(pl.col("customers") >= least)
    return (
        per.with_columns(path=_decoded_path(pl.col("key"), names))
        .with_columns(share=pl.col("customers") / total, _text=pl.col("path").list.join(" > "))
        .sort(["customers", "_text"], descending=[True, False])
        .head(limit)
        .select(PATHS_SCHEMA.names())
        .cast(PATHS_SCHEMA)
    )


def link_table(counted: PathCounts) -> pl.DataFrame:
    """Every link between consecutive touchpoints of `path_counts`' paths (`LINKS_SCHEMA`)."""
    counts, names = counted.counts, counted.names
    total = counts["customers"].sum()
    if total == 0:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    # Split once: taking the n-th of a list is far quicker than the n-th character of a text.
    split = counts.with_columns(pl.col("key").str.split(""))
    longest = int(split.select(pl.col("key").list.len().max()).item() or 0)
    parts = []
    for step in range(1, longest):
        pairs = split.select(
            "customers",
            "converted",
            "detractor",
            source=pl.col("key").list.get(step - 1, null_on_oob=True),
            target=pl.col("key").list.get(step, null_on_oob=True),
        ).filter(pl.col("source").is_not_null())
        at_source = pairs.group_by("source").agg(at_source=pl.col("customers").sum())
        parts.append(
            pairs.drop_nulls("target")
            .group_by("source", "target")
            .agg(
                pl.col("customers").sum(),
                converted=_share_of("converted"),
                detractors=_share_of("detractor"),
            )
            .join(at_source, on="source")
            .with_columns(step=pl.lit(step, pl.Int64))
        )
    if not parts:
        return pl.DataFrame(schema=LINKS_SCHEMA)
    return (
        pl.concat(parts)
        .with_columns(
            _decoded_name(pl.col("source"), names),
            _decoded_name(pl.col("target"), names),
            conversion_step=pl.col("customers") / pl.col("at_source"),
            conversion_overall=pl.col("customers") / total,
        )
        .sort(["step", "customers", "source", "target"], descending=[False, True, False, False])
        .select(LINKS_SCHEMA.names())
        .cast(LINKS_SCHEMA)
    )


def _share_of(flag: str) -> pl.Expr:
    """The share of the customers counted whose `flag` is true (a mean over customers)."""
    return pl.col("customers").filter(pl.col(flag)).sum() / pl.col("customers").sum()
