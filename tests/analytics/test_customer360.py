"""Customer 360 analytics against a hand-made company with hand-computed values.

- A1 Ada: orders O1 100.00 (completed), O2 50.50 (no status = completed), O3 30.00 returned,
  O4 20.00 cancelled -> 2 completed orders, revenue 150.50, AOV 75.25, first 1 Mar, last
  15 Apr 2024; surveys R1 NPS 3, R2 NPS 8, R3 CSAT only -> latest NPS 8 (R2, 2 May 18:30);
  tickets T1 resolved, T2 open; events E1, E2.
- A2 Grace (e-mail with `_`): O5 75.25. A10 "Acme 100% Cotton": O7 500.00. X9 is known only
  from orders (O6 40.00), Y7 only from events.
- The latest day with data is 1 Jul 2024 (Y7's event): A1's last order was 77 days before.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from analytics import rollups
from analytics.customer360 import (
    customer_orders,
    customer_profile,
    customer_timeline,
    find_customers,
)
from analytics.ingest.pipeline import ingest
from analytics.warehouse import QueryGateway, Warehouse

COMPANY: dict[str, bytes] = {
    "customers": (
        b"customer_id,signup_date,name,email,country,region,plan,acquisition_channel\n"
        b"A1,2024-01-10,Ada Lovelace,ada@example.com,GB,EMEA,Plus,Referral\n"
        b"A2,2024-02-01,Grace Hopper,grace_h@example.com,US,Americas,Basic,Search\n"
        b"A10,2024-03-01,Acme 100% Cotton,buyer@example.com,DE,EMEA,Premium,Events\n"
    ),
    "orders": (
        b"order_id,customer_id,order_date,amount,quantity,product,product_category,channel,status\n"
        b"O1,A1,2024-03-01,100.00,1,Tent,Outdoor,web,completed\n"
        b"O2,A1,2024-04-15,50.50,2,Socks,Apparel,app,\n"
        b"O3,A1,2024-05-01,30.00,1,Mug,Home,web,returned\n"
        b"O4,A1,2024-05-20,20.00,1,Cap,Apparel,web,cancelled\n"
        b"O5,A2,2024-02-10,75.25,1,Boots,Footwear,store,completed\n"
        b"O6,X9,2024-06-01,40.00,1,Lamp,Home,web,completed\n"
        b"O7,A10,2024-06-30,500.00,10,Towels,Home,web,completed\n"
    ),
    "surveys": (
        b"response_id,customer_id,responded_at,nps,csat,ces,comment,touchpoint,channel\n"
        b'R1,A1,2024-03-05 09:00:00,3,2,,"Tent arrived torn, ""not happy""",Delivery,email\n'
        b"R2,A1,2024-05-02 18:30:00,8,,,,Website,web\n"
        b"R3,A1,2024-06-10 12:00:00,,4,,Great help,Support,email\n"
        b"R4,,2024-06-11 12:00:00,10,,,Anonymous praise,Website,web\n"
    ),
    "tickets": (
        b"ticket_id,customer_id,opened_at,first_response_at,resolved_at,channel,category,"
        b"priority,status,csat\n"
        b"T1,A1,2024-05-02 10:00:00,2024-05-02 11:00:00,2024-05-03 04:30:00,email,Returns,"
        b"High,Closed,4\n"
        b"T2,A1,2024-06-20 08:00:00,,,phone,Delivery,Normal,Pending,\n"
        b"T3,A2,2024-02-12 08:00:00,,,email,Product,Low,Solved,5\n"
    ),
    "events": (
        b"customer_id,occurred_at,touchpoint,stage,channel,event_id\n"
        b"A1,2024-02-28 20:15:00,Product page,consideration,web,E1\n"
        b"A1,2024-03-01 08:00:00,Checkout,purchase,web,E2\n"
        b"Y7,2024-07-01 10:00:00,Social ad,awareness,social,E3\n"
    ),
}


@pytest.fixture
def gateway(warehouse: Warehouse) -> QueryGateway:
    for name, content in COMPANY.items():
        result = ingest(
            content, dataset_name=name, warehouse=warehouse, file_name="x.csv", user="t"
        )
        assert result.loaded, result.message
    return QueryGateway(warehouse)


def test_profile_of_a_customer_with_everything(gateway):
    profile = customer_profile(gateway, "A1")

    assert profile is not None
    assert (profile.customer_id, profile.in_crm, profile.display_name) == (
        "A1",
        True,
        "Ada Lovelace",
    )
    assert (profile.email, profile.country, profile.region, profile.plan) == (
        "ada@example.com",
        "GB",
        "EMEA",
        "Plus",
    )
    assert (profile.acquisition_channel, profile.signup_date) == ("Referral", date(2024, 1, 10))
    assert (profile.orders, profile.revenue, profile.aov) == (2, 150.50, 75.25)
    assert (profile.first_order, profile.last_order) == (date(2024, 3, 1), date(2024, 4, 15))
    assert (profile.returned_orders, profile.cancelled_orders) == (1, 1)
    assert (profile.as_of, profile.days_since_last_order) == (date(2024, 7, 1), 77)
    assert (profile.responses, profile.latest_nps) == (3, 8)
    assert profile.latest_nps_at == datetime(2024, 5, 2, 18, 30)
    assert (profile.tickets_open, profile.tickets_resolved, profile.tickets) == (1, 1, 2)
    assert profile.events == 2


def test_ticket_is_resolved_by_its_status_without_a_resolved_time(gateway):
    profile = customer_profile(gateway, "A2")

    assert profile is not None
    assert (profile.tickets_open, profile.tickets_resolved) == (0, 1)
    assert (profile.orders, profile.revenue, profile.responses, profile.latest_nps) == (
        1,
        75.25,
        0,
        None,
    )


def test_customer_known_only_from_orders_still_has_a_profile(gateway):
    profile = customer_profile(gateway, "X9")

    assert profile is not None
    assert (profile.in_crm, profile.name, profile.display_name, profile.country) == (
        False,
        None,
        "X9",
        None,
    )
    assert (profile.orders, profile.revenue, profile.last_order) == (1, 40.0, date(2024, 6, 1))
    assert profile.days_since_last_order == 30


def test_customer_known_only_from_events_has_no_value_yet(gateway):
    profile = customer_profile(gateway, "Y7")

    assert profile is not None
    assert (profile.in_crm, profile.events, profile.orders, profile.revenue) == (False, 1, 0, 0.0)
    assert (profile.aov, profile.last_order, profile.days_since_last_order) == (None, None, None)


@pytest.mark.parametrize("rollups_built", [False, True])
@pytest.mark.parametrize(
    ("last_event", "as_of", "days_since_last_order"),
    [
        ("2024-07-01 10:00:00", date(2024, 7, 1), 77),  # after the last order (30 June)
        ("2024-06-30 23:59:59", date(2024, 6, 30), 76),  # on the last order's day, later
        ("2024-01-05 09:00:00", date(2024, 6, 30), 76),  # before the other datasets end
        (None, date(2024, 6, 30), 76),  # no events at all
    ],
)
def test_as_of_is_the_last_day_with_data_events_included(
    warehouse, last_event, as_of, days_since_last_order, rollups_built
):
    # Customer 360 at scale read all 20M events for their last day; only those on or after
    # the other datasets' last day are read now, with the same answer in every case here.
    company = {k: v for k, v in COMPANY.items() if k != "events"}
    if last_event is not None:
        company["events"] = (
            b"customer_id,occurred_at,touchpoint,stage,channel,event_id\n"
            b"A1,2024-01-02 08:00:00,Social ad,awareness,social,E1\n"
            b"Y7," + last_event.encode() + b",Checkout,purchase,web,E2\n"
        )
    for name, content in company.items():
        result = ingest(
            content, dataset_name=name, warehouse=warehouse, file_name="x.csv", user="t"
        )
        assert result.loaded, result.message
    if rollups_built:
        rollups.refresh(warehouse)

    profile = customer_profile(QueryGateway(warehouse), "A1")

    assert profile is not None
    assert (profile.as_of, profile.days_since_last_order) == (as_of, days_since_last_order)


@pytest.mark.parametrize("customer_id", ["NOPE", "a1", "", "x' OR 1=1 --", "A1' --"])
def test_unknown_id_has_no_profile(gateway, customer_id):
    assert customer_profile(gateway, customer_id) is None


def test_timeline_holds_every_record_newest_first(gateway):
    timeline = customer_timeline(gateway, "A1")

    assert timeline.columns == ["at", "kind", "title", "detail", "amount", "score"]
    assert timeline.rows() == [
        (
            datetime(2024, 6, 20, 8),
            "ticket",
            "Ticket T2 · Delivery · Normal",
            "Pending · open",
            None,
            None,
        ),
        (
            datetime(2024, 6, 10, 12),
            "survey",
            "Survey · CSAT 4 · Support",
            "Great help",
            None,
            None,
        ),
        (datetime(2024, 5, 20), "order", "Order O4 · Apparel · cancelled", "Cap", 20.0, None),
        (
            datetime(2024, 5, 2, 18, 30),
            "survey",
            "Survey · NPS 8 (passive) · Website",
            None,
            None,
            8,
        ),
        (
            datetime(2024, 5, 2, 10),
            "ticket",
            "Ticket T1 · Returns · High",
            "Closed · resolved in 18.5 h",
            None,
            4,
        ),
        (datetime(2024, 5, 1), "order", "Order O3 · Home · returned", "Mug", 30.0, None),
        (datetime(2024, 4, 15), "order", "Order O2 · Apparel · completed", "2 × Socks", 50.5, None),
        (
            datetime(2024, 3, 5, 9),
            "survey",
            "Survey · NPS 3 (detractor) · CSAT 2 · Delivery",
            'Tent arrived torn, "not happy"',
            None,
            3,
        ),
        (datetime(2024, 3, 1, 8), "event", "Event · Checkout (purchase)", "web", None, None),
        (datetime(2024, 3, 1), "order", "Order O1 · Outdoor · completed", "Tent", 100.0, None),
        (
            datetime(2024, 2, 28, 20, 15),
            "event",
            "Event · Product page (consideration)",
            "web",
            None,
            None,
        ),
    ]


def test_timeline_of_an_unknown_customer_is_empty_with_its_columns(gateway):
    timeline = customer_timeline(gateway, "x' OR 1=1 --")

    assert timeline.is_empty()
    assert timeline.columns == ["at", "kind", "title", "detail", "amount", "score"]


def test_orders_of_a_customer_oldest_first_with_missing_status_completed(gateway):
    orders = customer_orders(gateway, "A1")

    assert orders.select("order_id", "order_date", "amount", "status").rows() == [
        ("O1", date(2024, 3, 1), 100.0, "completed"),
        ("O2", date(2024, 4, 15), 50.5, "completed"),
        ("O3", date(2024, 5, 1), 30.0, "returned"),
        ("O4", date(2024, 5, 20), 20.0, "cancelled"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Exact id first although A10 has more revenue; then id prefixes.
        ("a1", ["A1", "A10"]),
        (" A1 ", ["A1", "A10"]),
        ("a10", ["A10"]),
        ("x9", ["X9"]),  # known only from orders
        ("y7", ["Y7"]),  # known only from events
        ("lovelace", ["A1"]),
        ("GRACE_H@", ["A2"]),
        ("example.com", ["A10", "A1", "A2"]),  # by revenue
        ("", ["A10", "A1", "A2", "X9", "Y7"]),  # everyone, by revenue
        # Wildcards match literally: only the name with a % and the e-mail with an _.
        ("%", ["A10"]),
        ("_", ["A2"]),
        ("a_a", []),
        ("x' OR 1=1 --", []),
        ("'; DROP TABLE customers; --", []),
    ],
)
def test_find_customers(gateway, text, expected):
    assert find_customers(gateway, text)["customer_id"].to_list() == expected


def test_find_customers_figures_and_limit(gateway):
    found = find_customers(gateway, "", limit=2)

    assert found.columns == [
        "customer_id",
        "name",
        "email",
        "country",
        "region",
        "plan",
        "orders",
        "revenue",
        "last_order",
    ]
    assert found.rows() == [
        (
            "A10",
            "Acme 100% Cotton",
            "buyer@example.com",
            "DE",
            "EMEA",
            "Premium",
            1,
            500.0,
            date(2024, 6, 30),
        ),
        (
            "A1",
            "Ada Lovelace",
            "ada@example.com",
            "GB",
            "EMEA",
            "Plus",
            2,
            150.5,
            date(2024, 4, 15),
        ),
    ]
    with pytest.raises(ValueError, match="must be >= 1"):
        find_customers(gateway, "", limit=0)


def test_customer_only_in_orders_is_found_without_crm_details(gateway):
    row = find_customers(gateway, "X9").row(0, named=True)

    assert row == {
        "customer_id": "X9",
        "name": None,
        "email": None,
        "country": None,
        "region": None,
        "plan": None,
        "orders": 1,
        "revenue": 40.0,
        "last_order": date(2024, 6, 1),
    }


def test_works_when_exports_lack_optional_columns_and_datasets(warehouse):
    # The tiny company's style: customers with four columns, orders without product or status,
    # and no tickets or events at all.
    ingest(
        b"customer_id,name\nC1,Ada\n",
        dataset_name="customers",
        warehouse=warehouse,
        file_name="x.csv",
        user="t",
    )
    ingest(
        b"order_id,customer_id,order_date,amount\nO1,C1,2025-04-01,10.0\n",
        dataset_name="orders",
        warehouse=warehouse,
        file_name="x.csv",
        user="t",
    )
    gateway = QueryGateway(warehouse)

    profile = customer_profile(gateway, "C1")
    assert profile is not None
    assert (profile.email, profile.orders, profile.revenue, profile.tickets) == (None, 1, 10.0, 0)
    assert customer_timeline(gateway, "C1").rows() == [
        (datetime(2025, 4, 1), "order", "Order O1 · completed", None, 10.0, None)
    ]
    assert find_customers(gateway, "ada")["customer_id"].to_list() == ["C1"]
