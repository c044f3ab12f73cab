"""Filters: from URL parameters (never raising for bad links), and bound SQL for every dataset."""

from datetime import date, datetime

import polars as pl
import pytest

from analytics.contract import DATASETS
from analytics.errors import ConfigError
from analytics.filters import DIMENSIONS, Filters, data_range, dimension_values, scoped_rows
from analytics.warehouse import QueryGateway

INJECTION = "EMEA' OR 1=1 --"


def _commit(warehouse, name, rows):
    schema = DATASETS[name].schema
    frame = pl.DataFrame(
        [{column: row.get(column) for column in schema} for row in rows], schema=schema
    )
    warehouse.commit(name, frame, mode="replace", metadata={})


@pytest.fixture
def gateway(warehouse):
    """Two customers in EMEA and AMER, one without a region; their orders, surveys, tickets."""
    _commit(
        warehouse,
        "customers",
        [
            {"customer_id": "A", "region": "EMEA", "plan": "pro"},
            {"customer_id": "B", "region": "AMER", "plan": "basic"},
            {"customer_id": "C", "region": None, "plan": "pro"},
        ],
    )
    _commit(
        warehouse,
        "orders",
        [
            {"order_id": "o1", "customer_id": "A", "order_date": date(2025, 2, 1), "amount": 1.0},
            {"order_id": "o2", "customer_id": "B", "order_date": date(2025, 2, 28), "amount": 2.0,
             "product_category": "books", "channel": "web"},
            {"order_id": "o3", "customer_id": "C", "order_date": date(2025, 3, 1), "amount": 3.0,
             "channel": "app"},
        ],
    )  # fmt: skip
    _commit(
        warehouse,
        "surveys",
        [
            {"response_id": "s1", "customer_id": "A", "nps": 9,
             "responded_at": datetime(2025, 2, 28, 23, 30)},
            {"response_id": "s2", "customer_id": "B", "nps": 3, "channel": "web",
             "responded_at": datetime(2025, 3, 1, 0, 0)},
            {"response_id": "s3", "customer_id": None, "nps": 10,
             "responded_at": datetime(2025, 2, 10, 8, 0)},
        ],
    )  # fmt: skip
    _commit(
        warehouse,
        "tickets",
        [
            {"ticket_id": "t1", "customer_id": "A", "opened_at": datetime(2025, 2, 3, 9, 0)},
            {"ticket_id": "t2", "customer_id": "B", "opened_at": datetime(2025, 2, 4, 9, 0)},
        ],
    )
    return QueryGateway(warehouse)


def _ids(gateway, dataset_name, filters, **kwargs):
    sql, params = scoped_rows(dataset_name, filters, **kwargs)
    key = DATASETS[dataset_name].key
    return sorted(gateway.query(sql, params)[key].to_list())


# ----- from_query -------------------------------------------------------------------------

KNOWN = {"region": ["AMER", "EMEA"], "plan": ["basic", "pro"]}

FROM_QUERY_CASES = [
    # (params, known, expected filters, fragments of each notice)
    ({}, None, Filters(), []),
    ({"unrelated": ["x"]}, None, Filters(), []),
    (
        {"from": ["2025-01-01"], "to": ["2025-03-31"]},
        None,
        Filters(start=date(2025, 1, 1), end=date(2025, 3, 31)),
        [],
    ),
    ({"from": ["2025-13-01"]}, None, Filters(), ["'2025-13-01'"]),
    (
        {"from": ["yesterday"], "to": ["2025-03-31"]},
        None,
        Filters(end=date(2025, 3, 31)),
        ["'yesterday'"],
    ),
    ({"from": ["2025-03-01"], "to": ["2025-01-01"]}, None, Filters(), ["2025-01-01"]),
    (
        {"from": ["bad"], "to": ["worse"]},
        None,
        Filters(),
        ["'bad'", "'worse'"],
    ),
    ({"from": [""], "to": [""]}, None, Filters(), []),
    ({"region": ["EMEA", "Mars"]}, KNOWN, Filters(region=("EMEA",)), ["'Mars'"]),
    ({"region": ["EMEA", "EMEA", ""]}, KNOWN, Filters(region=("EMEA",)), []),
    ({"region": [INJECTION]}, KNOWN, Filters(), [INJECTION]),
    ({"country": ["GB"]}, KNOWN, Filters(country=("GB",)), []),  # nothing known: kept
    ({"region": ["Mars"]}, None, Filters(region=("Mars",)), []),  # no `known`: kept
    (
        {"plan": ["pro", "gold"], "channel": ["web"], "from": ["2025-02-01"]},
        KNOWN,
        Filters(start=date(2025, 2, 1), plan=("pro",), channel=("web",)),
        ["'gold'"],
    ),
]


@pytest.mark.parametrize(("params", "known", "expected", "notices"), FROM_QUERY_CASES)
def test_from_query(params, known, expected, notices):
    filters, got = Filters.from_query(params, known)
    assert filters == expected
    assert len(got) == len(notices)
    for notice, fragment in zip(got, notices, strict=True):
        assert fragment in notice


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(start=date(2025, 1, 1)),
        Filters(start=date(2025, 1, 1), end=date(2025, 1, 1), region=("EMEA", "AMER")),
        Filters(plan=("pro",), channel=("web",), product_category=("books",)),
    ],
)
def test_to_query_round_trips(filters):
    assert Filters.from_query(filters.to_query()) == (filters, [])


def test_a_reversed_range_built_in_code_is_a_config_error():
    with pytest.raises(ConfigError, match="starts after it ends"):
        Filters(start=date(2025, 2, 1), end=date(2025, 1, 1))


# ----- which datasets a filter narrows ------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "dataset_name", "ignored"),
    [
        (Filters(product_category=("books",)), "surveys", ["Product category"]),
        (Filters(product_category=("books",)), "tickets", ["Product category"]),
        (Filters(product_category=("books",)), "orders", []),
        (Filters(channel=("web",)), "surveys", []),
        (Filters(channel=("web",)), "customers", ["Channel"]),
        (Filters(region=("EMEA",), plan=("pro",)), "tickets", []),
        (Filters(region=("EMEA",), channel=("web",), product_category=("x",)), "tickets",
         ["Product category"]),
    ],
)  # fmt: skip
def test_ignored_by_names_dimensions_a_dataset_cannot_be_narrowed_by(
    filters, dataset_name, ignored
):
    assert filters.ignored_by(dataset_name) == ignored


def test_dimensions_are_the_documented_ones():
    assert list(DIMENSIONS) == [
        "region",
        "country",
        "plan",
        "acquisition_channel",
        "channel",
        "product_category",
        "segment",
        "cluster",
    ]
    assert set(DIMENSIONS["channel"].datasets) == {"orders", "surveys", "tickets", "events"}
    assert DIMENSIONS["product_category"].datasets == ("orders",)


# ----- scoped_rows ----------------------------------------------------------------------------


def test_region_narrows_every_dataset_through_the_customer(gateway):
    emea = Filters(region=("EMEA",))
    assert _ids(gateway, "customers", emea) == ["A"]
    assert _ids(gateway, "orders", emea) == ["o1"]
    assert _ids(gateway, "surveys", emea) == ["s1"]  # s3 has no customer: not in any region
    assert _ids(gateway, "tickets", emea) == ["t1"]
    assert _ids(gateway, "orders", Filters(region=("EMEA", "AMER"))) == ["o1", "o2"]


def test_record_dimensions_narrow_the_datasets_that_carry_them(gateway):
    assert _ids(gateway, "orders", Filters(product_category=("books",))) == ["o2"]
    web = Filters(channel=("web",))
    assert _ids(gateway, "orders", web) == ["o2"]
    assert _ids(gateway, "surveys", web) == ["s2"]
    assert _ids(gateway, "tickets", web) == []


# Regression (fixed): scoped_rows binds f_<dimension> even for a dataset the dimension does not
# apply to; the SQL never uses it and DuckDB refuses the excess parameter, so the query raises
# instead of leaving the dataset un-narrowed
@pytest.mark.parametrize(
    ("dataset_name", "filters"),
    [
        ("surveys", Filters(product_category=("books",))),
        ("tickets", Filters(product_category=("books",))),
        ("customers", Filters(channel=("web",))),
    ],
)
def test_a_dimension_a_dataset_lacks_leaves_it_un_narrowed(gateway, dataset_name, filters):
    assert filters.ignored_by(dataset_name)
    assert _ids(gateway, dataset_name, filters) == _ids(gateway, dataset_name, Filters())


def test_days_are_inclusive_and_cover_the_whole_last_day(gateway):
    february = {"since": date(2025, 2, 1), "until": date(2025, 2, 28)}
    assert _ids(gateway, "orders", Filters(), **february) == ["o1", "o2"]
    # 23:30 on the last day is inside; midnight on the next day is not.
    assert _ids(gateway, "surveys", Filters(), **february) == ["s1", "s3"]
    assert _ids(gateway, "surveys", Filters(), since=date(2025, 3, 1)) == ["s2"]
    assert _ids(gateway, "orders", Filters(), skip=(date(2025, 2, 1), date(2025, 2, 28))) == [
        "o2",
        "o3",
    ]


def test_breakdown_group_of_a_customer_without_the_attribute_is_not_set(gateway):
    sql, params = scoped_rows("orders", Filters(), by="region")
    frame = gateway.query(sql, params).sort("order_id")
    assert frame["grp"].to_list() == ["EMEA", "AMER", "(not set)"]
    sql, params = scoped_rows("surveys", Filters(), by="region")
    frame = gateway.query(sql, params).sort("response_id")
    assert frame["grp"].to_list() == ["EMEA", "AMER", "(not set)"]


@pytest.mark.parametrize(
    ("dataset_name", "filters"),
    [
        (name, filters)
        for name in ("customers", "orders", "surveys", "tickets")
        for filters in (
            Filters(region=(INJECTION,)),
            Filters(plan=("pro') OR ('1'='1",)),
            Filters(channel=(INJECTION,)),
            Filters(product_category=("x'; DROP TABLE orders; --",)),
        )
        if not filters.ignored_by(name)
    ],
)
def test_filter_values_are_bound_never_spliced(gateway, dataset_name, filters):
    sql, params = scoped_rows(dataset_name, filters)
    for values in filters.selections().values():
        for value in values:
            assert value not in sql
    assert gateway.query(sql, params).height == 0
    assert gateway.query("SELECT count(*) AS n FROM orders").item() == 3  # nothing dropped


def test_injection_in_a_region_value_returns_nothing(gateway):
    sql, params = scoped_rows("orders", Filters(region=(INJECTION,)))
    assert INJECTION in [
        v for values in params.values() if isinstance(values, list) for v in values
    ]
    assert gateway.query(sql, params).height == 0


@pytest.mark.parametrize("by", ["password", "region; DROP TABLE orders", "customer_id"])
def test_an_unknown_dimension_is_a_config_error(by):
    with pytest.raises(ConfigError, match="Cannot break down or filter by"):
        scoped_rows("orders", Filters(), by=by)
    with pytest.raises(ConfigError, match="Cannot break down or filter by"):
        Filters().narrowed(by, "x")


def test_breaking_down_a_dataset_by_a_column_it_lacks_is_a_config_error():
    with pytest.raises(ConfigError, match="no such column"):
        scoped_rows("surveys", Filters(), by="product_category")


def test_narrowed_replaces_the_dimension_with_one_value():
    filters = Filters(region=("EMEA", "AMER"), plan=("pro",)).narrowed("region", "APAC")
    assert filters == Filters(region=("APAC",), plan=("pro",))


def test_dimension_values_lists_present_values_sorted_without_nulls(gateway):
    values = dimension_values(gateway)
    assert values["region"] == ["AMER", "EMEA"]
    assert values["plan"] == ["basic", "pro"]
    assert values["channel"] == ["app", "web"]
    assert values["product_category"] == ["books"]
    assert values["country"] == []


def test_data_range_spans_the_named_datasets(gateway, warehouse):
    assert data_range(gateway, ["orders"]) == (date(2025, 2, 1), date(2025, 3, 1))
    assert data_range(gateway, ["surveys", "tickets"]) == (date(2025, 2, 3), date(2025, 3, 1))
    assert data_range(gateway, ["events"]) is None
