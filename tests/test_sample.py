"""The sample company: exports that map onto the contract, determinism, and the planted truths.

Truths are computed straight from the exported files with Polars, read back with the header
synonyms of `analytics.contract`, so they hold for what an analyst actually loads.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import contract
from analytics.errors import ConfigError
from analytics.sample import (
    DELIVERY_THEME_PATTERN,
    GROUPS,
    PROSPECT,
    RATING_ATTRIBUTES,
    SAMPLE_FILES,
    STAGES,
    TOUCHPOINT_STAGE,
    SampleFile,
    planted_groups,
    sample_company,
    write_sample_company,
)
from analytics.sample import vocabulary as vocab

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data" / "sample"
README = COMMITTED / "README.md"

CSV_OPTIONS: dict[str, dict[str, object]] = {
    "crm_customers.csv": {},
    "shop_orders.csv": {"separator": ";"},
    "survey_export.csv": {"skip_rows_after_header": 2},
    "helpdesk_tickets.csv": {},
}


# --- reading the exports back onto the contract --------------------------------------------


def _target(header: str, ds: contract.Dataset) -> list[str]:
    """Columns of `ds` whose name or synonyms equal `header` after normalisation."""
    folded = contract.normalise_header(header)
    return [
        col.name
        for col in ds.columns
        if folded in {contract.normalise_header(s) for s in (col.name, *col.synonyms)}
    ]


def _cast(expr: pl.Expr, col: contract.Column) -> pl.Expr:
    if col.kind == "date":
        return expr.str.to_date("%Y-%m-%d")
    if col.kind == "datetime":
        return expr.str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
    return expr.cast(col.dtype, strict=True)


def read_export(path: Path) -> pl.DataFrame:
    """An export as canonical columns; unmapped headers become `attr_` integer ratings."""
    ds = contract.dataset(SAMPLE_FILES[path.name])
    if path.suffix == ".parquet":
        raw = pl.read_parquet(path)
        return raw.with_columns(pl.col("occurred_at").dt.cast_time_unit("us"))
    raw = pl.read_csv(path, infer_schema=False, **CSV_OPTIONS[path.name])
    exprs = []
    for header in raw.columns:
        targets = _target(header, ds)
        if not targets:
            exprs.append(pl.col(header).cast(pl.Int64).alias(contract.attribute_name(header)))
            continue
        col = ds.column(targets[0])
        expr = pl.col(header)
        if ds.name == "orders" and col.name == "status":
            expr = expr.replace_strict(contract.STATUS_SYNONYMS)
        exprs.append(_cast(expr, col).alias(col.name))
    return raw.select(exprs)


@pytest.fixture(scope="session")
def small_files(tmp_path_factory: pytest.TempPathFactory) -> list[SampleFile]:
    return write_sample_company(tmp_path_factory.mktemp("small"), customers=300)


@pytest.fixture(scope="session")
def default_files(tmp_path_factory: pytest.TempPathFactory) -> list[SampleFile]:
    return write_sample_company(tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="session")
def company(default_files: list[SampleFile]) -> dict[str, pl.DataFrame]:
    """The default sample company as an analyst loads it: dataset name -> canonical frame."""
    return {f.dataset: read_export(f.path) for f in default_files}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- API, validation, determinism ----------------------------------------------------------


def test_sample_files_are_in_load_order_and_name_contract_datasets() -> None:
    assert list(SAMPLE_FILES.items()) == [
        ("crm_customers.csv", "customers"),
        ("shop_orders.csv", "orders"),
        ("survey_export.csv", "surveys"),
        ("helpdesk_tickets.csv", "tickets"),
        ("touchpoint_events.parquet", "events"),
    ]
    assert sorted(SAMPLE_FILES.values()) == sorted(contract.DATASETS)


def test_write_returns_every_file_in_load_order(small_files: list[SampleFile]) -> None:
    assert [(f.path.name, f.dataset) for f in small_files] == list(SAMPLE_FILES.items())
    assert all(f.path.is_file() for f in small_files)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"customers": 3},
            "The 'customers' parameter of write_sample_company must be an int in the range "
            "[50, 5000000]. Got 3 instead.",
        ),
        (
            {"customers": 5_000_001},
            "The 'customers' parameter of write_sample_company must be an int in the range "
            "[50, 5000000]. Got 5000001 instead.",
        ),
        (
            {"customers": 300.0},
            "The 'customers' parameter of write_sample_company must be an int in the range "
            "[50, 5000000]. Got 300.0 instead.",
        ),
        (
            {"customers": True},
            "The 'customers' parameter of write_sample_company must be an int in the range "
            "[50, 5000000]. Got True instead.",
        ),
        (
            {"seed": -1},
            "The 'seed' parameter of write_sample_company must be an int in the range "
            "[0, inf). Got -1 instead.",
        ),
        (
            {"years": 1},
            "The 'years' parameter of write_sample_company must be an int in the range "
            "[2, 10]. Got 1 instead.",
        ),
        (
            {"end": "2025-12-31"},
            "The 'end' parameter of write_sample_company must be an instance of "
            "'datetime.date'. Got '2025-12-31' instead.",
        ),
    ],
)
def test_write_sample_company_rejects_bad_arguments(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        write_sample_company(tmp_path, **kwargs)
    assert str(info.value) == message
    assert not list(tmp_path.iterdir())


def test_validation_names_the_function_called() -> None:
    with pytest.raises(ConfigError, match=r"^The 'customers' parameter of planted_groups "):
        planted_groups(3)
    with pytest.raises(ConfigError, match=r"^The 'seed' parameter of sample_company "):
        sample_company(seed=-5)


def test_same_seed_gives_byte_identical_files(
    tmp_path: Path, small_files: list[SampleFile]
) -> None:
    again = write_sample_company(tmp_path / "again", customers=300)
    other = write_sample_company(tmp_path / "other", customers=300, seed=8)
    for first, second, third in zip(small_files, again, other, strict=True):
        assert _sha256(first.path) == _sha256(second.path), first.path.name
        assert _sha256(first.path) != _sha256(third.path), first.path.name


def test_exports_read_back_equal_the_canonical_frames(small_files: list[SampleFile]) -> None:
    frames = sample_company(customers=300)
    for f in small_files:
        expected = getattr(frames, f.dataset)
        assert_frame_equal(read_export(f.path), expected, check_column_order=False)


def test_planted_groups_are_the_ones_behind_the_company() -> None:
    groups = planted_groups(300)
    assert groups.columns == ["customer_id", "group", "acquisition_channel"]
    assert_frame_equal(groups, sample_company(customers=300).groups)
    assert set(planted_groups(2000)["group"]) == {g.name for g in GROUPS} | {PROSPECT}


# --- headers and values follow the contract ------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLE_FILES))
def test_every_header_maps_to_one_column_or_is_a_rating_attribute(
    name: str, small_files: list[SampleFile]
) -> None:
    path = next(f.path for f in small_files if f.path.name == name)
    ds = contract.dataset(SAMPLE_FILES[name])
    headers = (
        pl.read_parquet_schema(path).names()
        if path.suffix == ".parquet"
        else pl.read_csv(path, n_rows=0, **CSV_OPTIONS[name]).columns
    )
    mapped = {}
    for header in headers:
        targets = _target(header, ds)
        assert len(targets) <= 1, f"{header!r} is ambiguous: {targets}"
        if targets:
            mapped[header] = targets[0]
        else:
            assert header in RATING_ATTRIBUTES, f"{header!r} maps to no {ds.name} column"
    assert len(set(mapped.values())) == len(mapped), "two headers map onto one column"
    assert set(ds.required) - {ds.key if ds.derive_key else ""} <= set(mapped.values())


def test_rating_attributes_are_no_survey_synonym() -> None:
    for header in RATING_ATTRIBUTES:
        for ds in contract.DATASETS.values():
            assert _target(header, ds) == [], (header, ds.name)


@pytest.mark.parametrize("name", list(SAMPLE_FILES))
def test_values_respect_the_contract_rules(name: str, small_files: list[SampleFile]) -> None:
    path = next(f.path for f in small_files if f.path.name == name)
    ds = contract.dataset(SAMPLE_FILES[name])
    frame = read_export(path)
    for col in ds.columns:
        if col.name not in frame.columns:
            continue
        values = frame[col.name].drop_nulls()
        if col.minimum is not None:
            assert values.min() >= col.minimum, col.name
        if col.maximum is not None:
            assert values.max() <= col.maximum, col.name
        if col.allowed:
            assert set(values) <= set(col.allowed), col.name
        if col.required:
            assert frame[col.name].null_count() == 0, col.name
    if ds.key in frame.columns:
        assert frame[ds.key].is_unique().all()
    if ds.at_least_one_of:
        assert (
            frame.select(pl.any_horizontal(pl.col(ds.at_least_one_of).is_not_null()))
            .to_series()
            .all()
        )


def test_shop_writes_shop_status_words(small_files: list[SampleFile]) -> None:
    orders = pl.read_csv(small_files[1].path, separator=";", infer_schema=False)
    assert set(orders["Order Status"]) <= {"delivered", "shipped", "refunded", "canceled"}
    assert set(orders["Order Status"]) <= set(contract.STATUS_SYNONYMS)
    assert orders["Total"].str.contains(r"^\d+\.\d\d$").all()


def test_survey_export_has_the_qualtrics_layout(small_files: list[SampleFile]) -> None:
    raw = small_files[2].path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfResponseId,RecordedDate,ExternalReference,Q1_NPS,")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()[:3]))
    assert rows[1][3] == "How likely are you to recommend us to a friend or colleague?"
    import_ids = [json.loads(cell)["ImportId"] for cell in rows[2]]
    assert import_ids[:4] == ["_recordId", "recordedDate", "externalDataReference", "QID1"]
    surveys = read_export(small_files[2].path)
    assert surveys["response_id"].str.contains(r"^R_[0-9A-Za-z]{15}$").all()


def test_events_carry_stage_and_touchpoint_of_the_journey_map(
    small_files: list[SampleFile],
) -> None:
    events = read_export(small_files[4].path)
    assert events.columns == ["customer_id", "occurred_at", "touchpoint", "stage", "channel"]
    pairs = set(events.select("touchpoint", "stage").unique().iter_rows())
    assert pairs == set(TOUCHPOINT_STAGE.items())
    assert tuple(dict.fromkeys(TOUCHPOINT_STAGE.values())) == STAGES


def test_comment_vocabulary_keeps_the_delivery_theme_apart() -> None:
    late = vocab.LATE_DELIVERY_COMMENTS + vocab.LATE_DELIVERY_PASSIVE_COMMENTS
    assert all(DELIVERY_THEME_PATTERN.search(c) for c in late)
    others = [c for pool in vocab.DETRACTOR_COMMENTS.values() for c in pool]
    others += [*vocab.PASSIVE_COMMENTS, *vocab.DETRACTOR_SUFFIXES]
    assert not [c for c in others if DELIVERY_THEME_PATTERN.search(c)]


# --- planted truths (default company, read back from the exports) -------------------------

Q1, Q2, Q3 = date(2025, 1, 1), date(2025, 4, 1), date(2025, 7, 1)
END = date(2025, 12, 31)
NPS = 100 * ((pl.col("nps") >= 9).mean() - (pl.col("nps") <= 6).mean())


def _quarterly(frame: pl.DataFrame, column: str, **aggs: pl.Expr) -> dict[date, dict[str, Any]]:
    """Aggregates per calendar quarter of `column`: quarter start -> {name: value}."""
    quarter = pl.col(column).dt.truncate("1q").dt.date().alias("quarter")
    return {
        row["quarter"]: row for row in frame.group_by(quarter).agg(**aggs).iter_rows(named=True)
    }


def _nps_by_quarter(surveys: pl.DataFrame) -> pl.DataFrame:
    """NPS per quarter with its standard error (points) and the change from the quarter before."""
    answered = surveys.filter(pl.col("nps").is_not_null())
    score = (pl.col("nps") >= 9).cast(pl.Int8) - (pl.col("nps") <= 6).cast(pl.Int8)
    rows = _quarterly(answered, "responded_at", n=pl.len(), nps=NPS, var=score.var())
    return (
        pl.DataFrame(list(rows.values()))
        .sort("quarter")
        .with_columns(se=100 * (pl.col("var") / pl.col("n")).sqrt())
        .with_columns(
            change=pl.col("nps").diff(),
            z=pl.col("nps").diff() / (pl.col("se") ** 2 + pl.col("se").shift() ** 2).sqrt(),
        )
    )


def _group_profiles(orders: pl.DataFrame) -> pl.DataFrame:
    """Per planted group: customers and median orders, order value, recency; % inactive 6m."""
    rfm = orders.group_by("customer_id").agg(
        orders=pl.len(), order_value=pl.col("amount").mean(), last=pl.col("order_date").max()
    )
    return (
        planted_groups()
        .join(rfm, on="customer_id", how="left")
        .group_by("group")
        .agg(
            customers=pl.len(),
            median_orders=pl.col("orders").median(),
            median_order_value=pl.col("order_value").median().round(0),
            median_recency_days=(pl.lit(END) - pl.col("last")).dt.total_days().median(),
            inactive_6m_pct=(100 * (pl.col("last") < Q3).mean()).round(1),
        )
    )


def metrics(c: dict[str, pl.DataFrame]) -> dict[str, float]:
    """The numbers `data/sample/README.md` quotes, from the default company's exports."""
    surveys, orders, tickets = c["surveys"], c["orders"], c["tickets"]
    out: dict[str, float] = {name: frame.height for name, frame in c.items()}
    out["responses"] = out.pop("surveys")

    nps = {row["quarter"]: row for row in _nps_by_quarter(surveys).iter_rows(named=True)}
    for q, key in ((Q1, "q1"), (Q2, "q2"), (Q3, "q3")):
        out[f"nps_2025{key}"] = round(nps[q]["nps"], 1)
    out["responses_2025q1"], out["responses_2025q2"] = nps[Q1]["n"], nps[Q2]["n"]
    out["anonymous_pct"] = round(100 * surveys["customer_id"].null_count() / surveys.height, 1)

    is_theme = pl.col("comment").str.contains(DELIVERY_THEME_PATTERN.pattern)
    detractors = surveys.filter(pl.col("nps") <= 6, pl.col("comment").is_not_null())
    themes = _quarterly(detractors, "responded_at", pct=100 * is_theme.mean())
    delivery = (pl.col("category") == "Delivery").mean()
    topics = _quarterly(tickets, "opened_at", pct=100 * delivery, n=pl.len())
    for q, key in ((Q1, "q1"), (Q2, "q2")):
        out[f"delivery_comments_pct_2025{key}"] = round(themes[q]["pct"], 1)
        out[f"delivery_tickets_pct_2025{key}"] = round(topics[q]["pct"], 1)
        out[f"tickets_2025{key}"] = topics[q]["n"]

    reached = (
        c["events"]
        .join(c["customers"].select("customer_id", "acquisition_channel"), on="customer_id")
        .with_columns(paid_social=pl.col("acquisition_channel") == "Paid Social")
        .group_by("paid_social", "stage")
        .agg(pl.col("customer_id").n_unique())
        .pivot("stage", index="paid_social", values="customer_id")
    )
    for row in reached.iter_rows(named=True):
        key = "paid_social" if row["paid_social"] else "others"
        c2p = 100 * row["purchase"] / row["consideration"]
        a2c = 100 * row["consideration"] / row["awareness"]
        out[f"consideration_to_purchase_pct_{key}"] = round(c2p, 1)
        out[f"awareness_to_consideration_pct_{key}"] = round(a2c, 1)

    months = orders.filter(pl.col("order_date").dt.year() == 2025)["order_date"].dt.month()
    per_month = months.value_counts().sort(months.name)["count"].to_list()
    mean = sum(per_month) / 12
    out["nov_dec_vs_mean_2025"] = round(sum(per_month[10:]) / 2 / mean, 2)
    out["jun_aug_vs_mean_2025"] = round(sum(per_month[5:8]) / 3 / mean, 2)

    last = orders.group_by("customer_id").agg(last=pl.col("order_date").max())["last"]
    out["buyers"] = last.len()
    out["inactive_6m_pct"] = round(100 * (last < Q3).sum() / last.len(), 1)
    for row in _group_profiles(orders).iter_rows(named=True):
        for key, value in row.items():
            if key != "group" and value is not None:
                out[f"{row['group']}_{key}"] = value
    return out


@pytest.fixture(scope="session")
def numbers(company: dict[str, pl.DataFrame]) -> dict[str, float]:
    return metrics(company)


EXPECTED: dict[str, float] = {
    "customers": 20000,
    "orders": 57761,
    "responses": 12410,
    "tickets": 4762,
    "events": 202837,
    "nps_2025q1": 28.4,
    "nps_2025q2": 11.9,
    "nps_2025q3": 34.2,
    "responses_2025q1": 973,
    "responses_2025q2": 1059,
    "anonymous_pct": 17.4,
    "delivery_comments_pct_2025q1": 18.2,
    "delivery_comments_pct_2025q2": 46.9,
    "delivery_tickets_pct_2025q1": 19.0,
    "tickets_2025q1": 480,
    "delivery_tickets_pct_2025q2": 53.8,
    "tickets_2025q2": 889,
    "consideration_to_purchase_pct_others": 93.1,
    "awareness_to_consideration_pct_others": 93.2,
    "consideration_to_purchase_pct_paid_social": 41.5,
    "awareness_to_consideration_pct_paid_social": 92.1,
    "nov_dec_vs_mean_2025": 1.68,
    "jun_aug_vs_mean_2025": 0.72,
    "buyers": 15629,
    "inactive_6m_pct": 56.7,
    "champions_customers": 1370,
    "champions_median_orders": 8.0,
    "champions_median_order_value": 124.0,
    "champions_median_recency_days": 38.0,
    "champions_inactive_6m_pct": 17.7,
    "loyal_customers": 3114,
    "loyal_median_orders": 4.0,
    "loyal_median_order_value": 64.0,
    "loyal_median_recency_days": 90.0,
    "loyal_inactive_6m_pct": 34.1,
    "big_spenders_customers": 1235,
    "big_spenders_median_orders": 2.0,
    "big_spenders_median_order_value": 369.0,
    "big_spenders_median_recency_days": 218.0,
    "big_spenders_inactive_6m_pct": 55.7,
    "bargain_hunters_customers": 2513,
    "bargain_hunters_median_orders": 4.0,
    "bargain_hunters_median_order_value": 21.0,
    "bargain_hunters_median_recency_days": 89.0,
    "bargain_hunters_inactive_6m_pct": 31.2,
    "lapsed_customers": 2733,
    "lapsed_median_orders": 3.0,
    "lapsed_median_order_value": 54.0,
    "lapsed_median_recency_days": 493.0,
    "lapsed_inactive_6m_pct": 100.0,
    "one_and_done_customers": 3453,
    "one_and_done_median_orders": 1.0,
    "one_and_done_median_order_value": 38.0,
    "one_and_done_median_recency_days": 546.0,
    "one_and_done_inactive_6m_pct": 97.2,
    "new_customers": 1211,
    "new_median_orders": 1.0,
    "new_median_order_value": 53.0,
    "new_median_recency_days": 21.0,
    "new_inactive_6m_pct": 0.0,
    "prospect_customers": 4371,
}


def test_nps_drops_in_the_incident_quarter_and_only_wobbles_elsewhere(
    company: dict[str, pl.DataFrame],
) -> None:
    nps = _nps_by_quarter(company["surveys"])
    incident = nps.filter(pl.col("quarter") == Q2).row(0, named=True)
    assert incident["change"] <= -15
    assert incident["z"] <= -4  # clearly significant, not noise
    assert incident["n"] >= 800
    others = nps.filter(~pl.col("quarter").is_in([Q2, Q3]))["change"].drop_nulls()
    assert others.abs().max() <= 6


@pytest.mark.parametrize("seed", range(4))
def test_nps_drop_holds_for_other_seeds(seed: int) -> None:
    c = sample_company(seed=seed)
    nps = _nps_by_quarter(c.surveys)
    assert c.incident_start == Q2
    assert nps.filter(pl.col("quarter") == Q2)["change"].item() <= -12


def test_detractor_comments_turn_to_late_delivery(numbers: dict[str, float]) -> None:
    assert numbers["delivery_comments_pct_2025q2"] >= 2 * numbers["delivery_comments_pct_2025q1"]
    assert numbers["delivery_comments_pct_2025q2"] >= 40


def test_delivery_tickets_rise_in_the_incident_quarter(numbers: dict[str, float]) -> None:
    assert numbers["delivery_tickets_pct_2025q2"] >= 2.5 * numbers["delivery_tickets_pct_2025q1"]
    assert numbers["tickets_2025q2"] > numbers["tickets_2025q1"]


def test_paid_social_drops_off_between_consideration_and_purchase(
    numbers: dict[str, float],
) -> None:
    assert numbers["consideration_to_purchase_pct_paid_social"] <= 50
    assert numbers["consideration_to_purchase_pct_others"] >= 85
    # ... while every channel reaches consideration at the same rate.
    paid_social = numbers["awareness_to_consideration_pct_paid_social"]
    assert abs(paid_social - numbers["awareness_to_consideration_pct_others"]) <= 3


def test_orders_peak_in_november_december_and_dip_in_summer(numbers: dict[str, float]) -> None:
    assert numbers["nov_dec_vs_mean_2025"] >= 1.4
    assert numbers["jun_aug_vs_mean_2025"] <= 0.85


def test_behavioural_groups_have_distinct_rfm_profiles(company: dict[str, pl.DataFrame]) -> None:
    profile = {
        row["group"]: row for row in _group_profiles(company["orders"]).iter_rows(named=True)
    }
    buyers = {g: p for g, p in profile.items() if g != PROSPECT}
    assert set(buyers) == {g.name for g in GROUPS}
    assert profile[PROSPECT]["median_orders"] is None  # prospects never buy
    by = {key: sorted(buyers, key=lambda g: buyers[g][key]) for key in next(iter(buyers.values()))}
    assert by["median_orders"][-1] == "champions"
    assert by["median_order_value"][-1] == "big_spenders"
    assert by["median_order_value"][0] == "bargain_hunters"
    assert by["median_recency_days"][:2] == ["new", "champions"]
    assert set(by["median_recency_days"][-2:]) == {"lapsed", "one_and_done"}
    assert buyers["one_and_done"]["median_orders"] == 1
    assert buyers["lapsed"]["inactive_6m_pct"] == 100
    assert buyers["new"]["inactive_6m_pct"] == 0
    signed_up = company["customers"].join(planted_groups(), on="customer_id")
    new = signed_up.filter(pl.col("group") == "new")["signup_date"]
    assert new.min() >= date(2025, 10, 3)


def test_customers_churn_and_repeat_like_bg_nbd(
    company: dict[str, pl.DataFrame], numbers: dict[str, float]
) -> None:
    orders = company["orders"]
    per_customer = orders.group_by("customer_id").agg(
        n=pl.len(), cv=pl.col("amount").std() / pl.col("amount").mean()
    )
    assert 35 <= numbers["inactive_6m_pct"] <= 70
    assert 0.4 <= (per_customer["n"] >= 2).mean() <= 0.8
    # Gamma-Gamma: order values vary around each customer's own mean with CV 1/sqrt(6).
    within = per_customer.filter(pl.col("n") >= 8)["cv"].median()
    assert math.isclose(within, 6**-0.5, abs_tol=0.05)
    status = orders["status"].value_counts(normalize=True).sort("status")
    assert status["proportion"].to_list() == pytest.approx([0.03, 0.91, 0.06], abs=0.015)


def test_delivery_speed_drives_nps_most_and_website_ease_not_at_all(
    company: dict[str, pl.DataFrame],
) -> None:
    attributes = [contract.attribute_name(h) for h in RATING_ATTRIBUTES]
    rated = company["surveys"].drop_nulls(["nps", *attributes])
    delivery, quality, value, website = (rated.select(pl.corr("nps", a)).item() for a in attributes)
    assert delivery > quality > value > 0.2
    assert abs(website) < 0.05


def test_anonymous_responses_and_partial_scores(
    company: dict[str, pl.DataFrame], numbers: dict[str, float]
) -> None:
    assert 10 <= numbers["anonymous_pct"] <= 20
    scores = company["surveys"].select(pl.col("nps", "csat", "ces").is_not_null())
    assert scores.select(pl.any_horizontal(pl.all())).to_series().all()
    assert 0 < scores.select(pl.all_horizontal(pl.all())).to_series().mean() < 0.5


def test_metrics_match_the_readme(numbers: dict[str, float]) -> None:
    assert numbers == EXPECTED
    text = README.read_text()
    rows = {m[1]: m[0] for m in re.finditer(r"^\| `(\w+)` \|.*$", text, re.MULTILINE)}
    missing = []
    for key, value in EXPECTED.items():
        group = next((g for g in rows if key.startswith(g + "_")), None)
        where = rows[group] if group else text
        if not re.search(rf"(?<![\d.,]){re.escape(f'{value:,}')}(?![\d,]|\.\d)", where):
            missing.append(key)
    assert not missing, f"data/sample/README.md does not quote {missing}"


# --- the committed copy --------------------------------------------------------------------


REGENERATE = "regenerate with `make sample` (write_sample_company(Path('data/sample')))"


def test_committed_sample_is_what_the_generator_writes(default_files: list[SampleFile]) -> None:
    committed = sorted(p.name for p in COMMITTED.iterdir() if p.name != "README.md")
    assert committed == sorted(SAMPLE_FILES), REGENERATE
    for f in default_files:
        assert _sha256(COMMITTED / f.path.name) == _sha256(f.path), f"{f.path.name}: {REGENERATE}"
    assert sum((COMMITTED / name).stat().st_size for name in SAMPLE_FILES) < 10_000_000
