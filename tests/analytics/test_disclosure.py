"""Small-group hiding for viewers (`analytics.disclosure`): primary suppression on each value's
own count, complementary suppression against differencing, and every path that inherits it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from analytics import cli, disclosure, drill, kpis
from analytics.accounts import Account, AccountStore
from analytics.cohorts import cohort_customers, cohort_table
from analytics.disclosure import COMPLEMENTARY, Line, protect
from analytics.filters import Filters
from analytics.ingest.pipeline import ingest
from analytics.warehouse import Access, QueryGateway, Warehouse

FEW5 = "fewer than 5 responses"


# ----- the rule itself, on hand-made cells ------------------------------------------------


def reasons(counts, *, minimum=5, lines=(), line=None, eligible=None, hidden=None):
    """The `hidden` column for cells with these counts (one line `k`, unless `line` says)."""
    cells = pl.DataFrame(
        {
            "k": line or ["a"] * len(counts),
            "n": counts,
            "unit": ["responses"] * len(counts),
            "ok": eligible or [True] * len(counts),
            "already": hidden or [None] * len(counts),
        },
        schema_overrides={"already": pl.String},
    )
    marked = protect(
        cells,
        count="n",
        unit="unit",
        minimum=minimum,
        lines=lines,
        hidden="already" if hidden else None,
    )
    return marked["hidden"].to_list()


C = COMPLEMENTARY


@pytest.mark.parametrize(
    ("counts", "lines", "expected"),
    [
        # Primary only: 1 to 4 hidden; 0 is empty, not small; 5 is enough.
        ([0, 1, 4, 5], (), [None, FEW5, FEW5, None]),
        # A lone hidden cell: the smallest visible cell beside it goes too.
        ([3, 10, 12], (Line(("k",)),), [FEW5, C, None]),
        # Two hidden cells resting on 3 together are not enough: one more.
        ([1, 2, 10, 20], (Line(("k",)),), [FEW5, FEW5, C, None]),
        # Two hidden cells resting on 7 together protect each other.
        ([3, 4, 10], (Line(("k",)),), [FEW5, FEW5, None]),
        # The same customers may sit in both cells: the larger alone (4) is not enough.
        ([3, 4, 10], (Line(("k",), overlapping=True),), [FEW5, FEW5, C]),
        # Nothing visible left to hide: the total rests on 3 and is hidden itself.
        ([1, 2], (Line(("k",)),), [FEW5, FEW5]),
        # Empty cells are never hidden to protect others.
        ([3, 0, 0], (Line(("k",)),), [FEW5, None, None]),
        # Ties go to the earlier cell.
        ([3, 10, 10], (Line(("k",)),), [FEW5, C, None]),
    ],
)
def test_protect(counts, lines, expected):
    assert reasons(counts, lines=lines) == expected


def test_protect_hides_nothing_below_a_minimum_of_two():
    assert reasons([1, 3], minimum=0, lines=(Line(("k",)),)) == [None, None]
    assert reasons([1, 3], minimum=1, lines=(Line(("k",)),)) == [None, None]


def test_protect_revisits_lines_until_every_line_protects_its_cells():
    # Two lines each way (rows k, columns g): hiding a row's complement exposes a column.
    cells = pl.DataFrame(
        {
            "k": ["a", "a", "a", "b", "b", "b"],
            "g": ["x", "y", "z", "x", "y", "z"],
            "n": [3, 10, 12, 30, 40, 50],
            "unit": ["customers"] * 6,
        }
    )
    marked = protect(cells, count="n", unit="unit", minimum=5, lines=(Line(("k",)), Line(("g",))))

    few = "fewer than 5 customers"
    assert marked["hidden"].to_list() == [few, C, None, C, C, None]


def test_protect_only_hides_eligible_cells_and_keeps_earlier_reasons():
    assert reasons(
        [3, 10, 12], lines=(Line(("k",), eligible="ok"),), eligible=[True, False, True]
    ) == [
        FEW5,
        None,
        C,
    ]
    kept = reasons([8, 10, 12], lines=(Line(("k",)),), hidden=["set by hand", None, None])
    assert kept == ["set by hand", C, None]


def test_blank_nulls_the_values_of_hidden_cells_only():
    frame = pl.DataFrame({"value": [1.0, 2.0], "hidden": [None, "why"]})

    assert disclosure.blank(frame, ["value"])["value"].to_list() == [1.0, None]


# ----- the tiny company: primary suppression on every path --------------------------------


@pytest.fixture
def gateway(tiny_warehouse) -> QueryGateway:
    return QueryGateway(tiny_warehouse)


def test_each_value_is_hidden_on_its_own_count(gateway):
    spring = Filters(start=date(2025, 4, 1), end=date(2025, 5, 31))
    keys = ["orders", "active_customers", "nps", "csat", "tickets"]

    shown = kpis.trend(gateway.scoped(Access(min_group=3)), keys, spring, "month")
    hidden = kpis.trend(gateway.scoped(Access(min_group=4)), keys, spring, "month")

    # April: 3 active customers, 4 survey responses of which 4 with NPS and 3 with CSAT;
    # May: only a returned order (nothing to hide) and no responses; no tickets at all.
    def values(table):
        return {
            (r["kpi"], r["period"]): (r["value"], r["n"], r["hidden"]) for r in table.to_dicts()
        }

    few = "fewer than 4 customers"
    assert values(shown)[("orders", "2025-04")] == (3.0, None, None)
    assert values(hidden)[("orders", "2025-04")] == (None, None, few)
    assert values(hidden)[("active_customers", "2025-04")] == (None, None, few)
    assert values(hidden)[("orders", "2025-05")] == (0.0, None, None)
    assert values(hidden)[("nps", "2025-04")] == (25.0, 4, None)  # 4 NPS answers: enough
    assert values(hidden)[("csat", "2025-04")] == (None, None, "fewer than 4 responses")
    assert values(hidden)[("tickets", "2025-04")] == (0.0, None, None)
    may = hidden.filter((hidden["kpi"] == "orders") & (hidden["period"] == "2025-05")).row(
        0, named=True
    )
    assert may["previous"] is None and may["delta"] is None  # April's hidden value stays hidden


def test_the_scorecard_marks_hidden_values_with_their_reason(gateway):
    card = kpis.scorecard(
        gateway.scoped(Access(min_group=4)), Filters(), "quarter", keys=("orders", "nps", "csat")
    )

    assert card.select("kpi", "value", "hidden").rows() == [
        ("orders", None, "fewer than 4 customers"),
        ("nps", 25.0, None),
        ("csat", None, "fewer than 4 responses"),
    ]


def test_a_cohort_smaller_than_the_minimum_is_hidden_whole(gateway):
    table = cohort_table(gateway.scoped(Access(min_group=4)), Filters(), "month")

    few = "fewer than 4 customers"
    assert table.select(
        "cohort", "period_index", "size", "customers", "value", "hidden"
    ).rows() == [
        ("2025-04", 0, None, None, None, few),
        ("2025-04", 1, None, None, None, few),
    ]
    shown = cohort_table(gateway.scoped(Access(min_group=3)), Filters(), "month")
    assert shown.select("size", "value", "hidden").rows() == [(3, 100.0, None), (3, 0.0, None)]


def test_drill_lists_of_small_groups_are_hidden(gateway):
    small = drill.kpi_customers(
        gateway.scoped(Access(min_group=4)), "revenue", Filters(), "quarter", date(2025, 4, 1)
    )
    enough = drill.kpi_customers(
        gateway.scoped(Access(min_group=3)), "revenue", Filters(), "quarter", date(2025, 4, 1)
    )

    assert (small.hidden, small.customers.height, small.total) == (
        "fewer than 4 customers",
        0,
        0,
    )
    assert small.contribution_total is None
    assert (enough.hidden, enough.customers.height, enough.contribution_total) == (
        None,
        3,
        1379.75,
    )


def test_a_drill_list_of_fewer_customers_than_responses_is_hidden(gateway):
    # NPS in April rests on 4 responses (enough for a minimum of 4) from 3 known customers
    # and one anonymous response: four rows, enough to list.
    listed = drill.kpi_customers(
        gateway.scoped(Access(min_group=4)), "nps", Filters(), "month", date(2025, 4, 1)
    )
    assert (listed.hidden, listed.total) == (None, 4)
    # A minimum of 5 hides the value itself.
    hidden = drill.kpi_customers(
        gateway.scoped(Access(min_group=5)), "nps", Filters(), "month", date(2025, 4, 1)
    )
    assert (hidden.hidden, hidden.total) == (FEW5, 0)


def test_cohort_customer_lists_of_small_groups_are_hidden(gateway):
    hidden = cohort_customers(
        gateway.scoped(Access(min_group=4)), Filters(), "month", date(2025, 4, 1), 0
    )
    shown = cohort_customers(
        gateway.scoped(Access(min_group=3)), Filters(), "month", date(2025, 4, 1), 0
    )

    assert (hidden.height, shown.height) == (0, 3)


# ----- the reported case, exactly ---------------------------------------------------------
# A viewer limited to Germany asked for March 2024 by survey channel and read one
# respondent's CES: the group had 5 responses, but only 1 CES, 3 CSAT and 4 NPS answers.

CASE_CUSTOMERS = (
    b"customer_id,name,country\n"
    + b"".join(f"G{i},German {i},Germany\n".encode() for i in range(1, 7))
    + b"F1,French 1,France\n"
)
CASE_SURVEYS = (
    b"response_id,customer_id,responded_at,nps,csat,ces,channel\n"
    # Germany, email: NPS 9, 10, 10, 8 (75.0 of 4); CSAT 5, 4, 2 (66.7 % of 3); CES 2 (of 1).
    b"E1,G1,2024-03-04 10:00:00,9,5,,email\n"
    b"E2,G2,2024-03-05 10:00:00,10,4,,email\n"
    b"E3,G3,2024-03-06 10:00:00,10,2,,email\n"
    b"E4,G4,2024-03-07 10:00:00,8,,,email\n"
    b"E5,G5,2024-03-08 10:00:00,,,2,email\n"
    # Germany, web: 6 responses with every score.
    b"W1,G1,2024-03-11 10:00:00,10,5,1,web\n"
    b"W2,G2,2024-03-12 10:00:00,9,5,2,web\n"
    b"W3,G3,2024-03-13 10:00:00,7,4,3,web\n"
    b"W4,G4,2024-03-14 10:00:00,3,3,4,web\n"
    b"W5,G5,2024-03-15 10:00:00,6,2,5,web\n"
    b"W6,G6,2024-03-16 10:00:00,10,1,6,web\n"
    # France: outside the viewer's limit.
    b"F1,F1,2024-03-20 10:00:00,0,1,7,email\n"
)
CASE_ARGS = [
    "kpis",
    "--period",
    "month",
    "--by",
    "channel",
    "--kpi",
    "nps",
    "csat",
    "ces",
    "responses",
    "--from",
    "2024-03-01",
    "--to",
    "2024-03-31",
    "--format",
    "json",
]


@pytest.fixture
def case_warehouse(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    for name, content in (("customers", CASE_CUSTOMERS), ("surveys", CASE_SURVEYS)):
        result = ingest(content, dataset_name=name, warehouse=warehouse, file_name=f"{name}.csv")
        assert result.loaded, result.message
    store = AccountStore(tmp_path / "accounts.toml")
    store.add("vic", "viewer", "correct horse battery")
    store.set_limits("vic", {"country": ["Germany"]})
    store.add("ana", "analyst", "correct horse battery")
    return warehouse


def run_json(capsys, *args: str) -> dict[tuple[str, str | None], tuple]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, err
    return {(r["kpi"], r["group"]): (r["value"], r["n"], r["hidden"]) for r in json.loads(out)}


def test_the_reported_case_hides_each_score_on_its_own_count(case_warehouse, capsys):
    seen = run_json(capsys, *CASE_ARGS, "--as-user", "vic")

    assert seen == {
        ("nps", "email"): (None, None, FEW5),  # 4 NPS answers
        ("nps", "web"): (None, None, COMPLEMENTARY),  # the total minus web would give email
        ("csat", "email"): (None, None, FEW5),  # 3 CSAT answers
        ("csat", "web"): (None, None, COMPLEMENTARY),
        ("ces", "email"): (None, None, FEW5),  # 1 CES answer
        ("ces", "web"): (None, None, COMPLEMENTARY),
        ("responses", "email"): (5.0, None, None),
        ("responses", "web"): (6.0, None, None),
    }
    total = run_json(
        capsys, *[a for a in CASE_ARGS if a not in ("--by", "channel")], "--as-user", "vic"
    )
    assert total[("nps", None)] == (pytest.approx(100 * (6 - 2) / 10), 10, None)
    assert total[("ces", None)][1:] == (7, None)


@pytest.mark.parametrize("user", ["ana", None])
def test_analysts_and_the_local_user_see_every_value_of_the_case(case_warehouse, capsys, user):
    as_user = ["--as-user", user] if user else []
    seen = run_json(capsys, *CASE_ARGS, "--where", "country=Germany", *as_user)

    assert seen[("ces", "email")] == (2.0, 1, None)
    assert seen[("csat", "email")][:2] == (pytest.approx(200 / 3), 3)
    assert seen[("nps", "email")][:2] == (75.0, 4)
    assert seen[("responses", "email")] == (5.0, None, None)
    assert all(hidden is None for _, _, hidden in seen.values())


def test_the_case_offers_no_list_behind_a_hidden_value(case_warehouse):
    viewer = QueryGateway(case_warehouse).scoped(
        Account("vic", "viewer", "x", (("country", ("Germany",)),)).access(min_group=5)
    )
    march = Filters(start=date(2024, 3, 1), end=date(2024, 3, 31))

    web = drill.kpi_customers(
        viewer, "nps", march, "month", date(2024, 3, 1), by="channel", group="web"
    )
    everyone = drill.kpi_customers(viewer, "nps", march, "month", date(2024, 3, 1))

    assert (web.hidden, web.customers.height) == (COMPLEMENTARY, 0)
    assert (everyone.hidden, everyone.total) == (None, 6)  # G1-G6; F1 is outside the limit


# ----- the sample company, as the issue tried it ------------------------------------------


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    from analytics.bootstrap import load_sample_files
    from analytics.sample import write_sample_company

    root = tmp_path_factory.mktemp("sample4242")
    files = write_sample_company(root / "exports", customers=3_000, seed=4242)
    warehouse = Warehouse(root / "warehouse")
    load_sample_files(warehouse, files, user="tester")
    return warehouse


@pytest.mark.slow
def test_a_germany_viewer_of_the_3000_customer_sample(small_sample):
    viewer = QueryGateway(small_sample).scoped(
        Access(limits=(("country", ("Germany",)),), mask_pii=True, min_group=5)
    )
    analyst = QueryGateway(small_sample)
    april = Filters(start=date(2024, 4, 1), end=date(2024, 4, 30))
    keys = ["nps", "csat", "ces", "responses"]

    seen = kpis.trend(viewer, keys, april, "month", by="channel")
    truth = kpis.trend(analyst, keys, april.narrowed("country", "Germany"), "month", by="channel")

    # Email had 5 responses with 5 NPS answers, 2 CSAT and 1 CES; SMS 2 responses with 1 NPS,
    # 1 CSAT and 2 CES answers.
    assert truth.select("kpi", "group", "n").rows() == [
        ("nps", "email", 5),
        ("nps", "sms", 1),
        ("csat", "email", 2),
        ("csat", "sms", 1),
        ("ces", "email", 1),
        ("ces", "sms", 2),
        ("responses", "email", None),
        ("responses", "sms", None),
    ]
    assert seen.select("kpi", "group", "value", "hidden").rows() == [
        ("nps", "email", None, COMPLEMENTARY),  # 5 answers, but SMS's 1 would follow
        ("nps", "sms", None, FEW5),
        ("csat", "email", None, FEW5),
        ("csat", "sms", None, FEW5),
        ("ces", "email", None, FEW5),
        ("ces", "sms", None, FEW5),
        ("responses", "email", None, COMPLEMENTARY),
        ("responses", "sms", None, FEW5),
    ]
