"""Customer 360: one customer's profile, value to date and every record on one timeline.

The end of the drill-down chain. A customer is known from any dataset: a CRM row, orders,
survey responses, tickets or touchpoint events (an order export may name customers the CRM
export lacks). Completed orders, promoters and the like are defined once, in
`analytics.definitions`.

The customer id and the search text are always bound parameters; the search matches with
`starts_with`/`contains`, never `LIKE`, so `%` and `_` in the text match literally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from analytics import by_customer, rollups
from analytics import definitions as rules
from analytics.warehouse import QueryGateway

# The business rules as the templates below use them, and the ticket statuses that mean
# "done" even when an export has no resolved_at (`analytics.definitions`).
_RULES = rules.sql_rules() | {
    "resolved_statuses": str(rules.RESOLVED_STATUSES),
    "returned_status": rules.RETURNED,
    "cancelled_status": rules.CANCELLED,
    "completed_status": rules.COMPLETED,
}

TIMELINE_SCHEMA = pl.Schema(
    {
        "at": pl.Datetime("us"),
        "kind": pl.String(),
        "title": pl.String(),
        "detail": pl.String(),
        "amount": pl.Float64(),
        "score": pl.Int64(),
    }
)

ORDERS_SCHEMA = pl.Schema(
    {
        "order_id": pl.String(),
        "order_date": pl.Date(),
        "amount": pl.Float64(),
        "status": pl.String(),
        "product": pl.String(),
        "product_category": pl.String(),
        "channel": pl.String(),
    }
)


# ----- search -----------------------------------------------------------------------------

_SEARCH_SQL = """
WITH ids AS (
    SELECT customer_id FROM customers
    WHERE starts_with(lower(customer_id), $needle)
       OR contains(lower(coalesce(name, '')), $needle)
       OR contains(lower(coalesce(email, '')), $needle)
    UNION SELECT customer_id FROM orders WHERE starts_with(lower(customer_id), $needle)
    UNION SELECT customer_id FROM surveys WHERE starts_with(lower(customer_id), $needle)
    UNION SELECT customer_id FROM tickets WHERE starts_with(lower(customer_id), $needle)
    UNION SELECT customer_id FROM events WHERE starts_with(lower(customer_id), $needle)
),
o AS (
    SELECT customer_id,
           count(*) FILTER (WHERE {completed}) AS orders,
           coalesce(sum(amount) FILTER (WHERE {completed}), 0) AS revenue,
           max(order_date) FILTER (WHERE {completed}) AS last_order
    FROM orders
    WHERE customer_id IN (SELECT customer_id FROM ids)
    GROUP BY customer_id
)
SELECT ids.customer_id, c.name, c.email, c.country, c.region, c.plan,
       coalesce(o.orders, 0) AS orders,
       CAST(coalesce(o.revenue, 0) AS DOUBLE) AS revenue,
       o.last_order
FROM ids
LEFT JOIN customers c ON c.customer_id = ids.customer_id
LEFT JOIN o ON o.customer_id = ids.customer_id
WHERE ids.customer_id IS NOT NULL
ORDER BY CASE WHEN lower(ids.customer_id) = $needle THEN 0
              WHEN starts_with(lower(ids.customer_id), $needle) THEN 1
              ELSE 2 END,
         revenue DESC, ids.customer_id
LIMIT $limit
"""


def find_customers(gateway: QueryGateway, text: str, *, limit: int = 50) -> pl.DataFrame:
    """Customers whose id starts with `text`, or whose name or e-mail contains it.

    Case-insensitive; the text is matched literally (`%` and `_` are not wildcards). Ids
    known only from orders, surveys, tickets or events are found by id too. An empty text
    lists every customer, highest revenue first.

    Parameters
    ----------
    gateway : QueryGateway
    text : str
        What the reader typed; surrounding whitespace is ignored.
    limit : int
        Rows returned at most.

    Returns
    -------
    pl.DataFrame
        `customer_id`, `name`, `email`, `country`, `region`, `plan` (null without a CRM row),
        `orders` and `revenue` of completed orders, `last_order` (date of the last completed
        order). An exact id match comes first, then id prefixes, then name and e-mail
        matches; within each, highest revenue first.
    """
    if limit < 1:
        raise ValueError(f"The 'limit' parameter of find_customers must be >= 1. Got {limit}.")
    sql = _SEARCH_SQL.format(**_RULES)
    return gateway.query(sql, {"needle": text.strip().lower(), "limit": limit})


# ----- profile ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerProfile:
    """Who a customer is and what they are worth to date.

    Contract columns of the customers dataset are None when the customer has no CRM row
    (`in_crm` is False) or the export lacked them. Order figures count completed orders;
    `as_of` is the latest day with data in any dataset, the reference for recency.
    """

    customer_id: str
    in_crm: bool
    signup_date: date | None
    name: str | None
    email: str | None
    phone: str | None
    country: str | None
    region: str | None
    city: str | None
    plan: str | None
    acquisition_channel: str | None
    birth_year: int | None
    gender: str | None
    orders: int
    revenue: float
    first_order: date | None
    last_order: date | None
    returned_orders: int
    cancelled_orders: int
    responses: int
    latest_nps: int | None
    latest_nps_at: datetime | None
    tickets_open: int
    tickets_resolved: int
    events: int
    as_of: date | None

    @property
    def display_name(self) -> str:
        return self.name or self.customer_id

    @property
    def aov(self) -> float | None:
        """Average completed order value; None without completed orders."""
        return self.revenue / self.orders if self.orders else None

    @property
    def days_since_last_order(self) -> int | None:
        """Days from the last completed order to the latest day with data."""
        if self.last_order is None or self.as_of is None:
            return None
        return (self.as_of - self.last_order).days

    @property
    def tickets(self) -> int:
        return self.tickets_open + self.tickets_resolved


_PROFILE_SQL = """
WITH c AS (SELECT * FROM customers WHERE customer_id = $id),
o AS (
    SELECT count(*) FILTER (WHERE {completed}) AS orders,
           CAST(coalesce(sum(amount) FILTER (WHERE {completed}), 0) AS DOUBLE) AS revenue,
           min(order_date) FILTER (WHERE {completed}) AS first_order,
           max(order_date) FILTER (WHERE {completed}) AS last_order,
           count(*) FILTER (WHERE status = '{returned_status}') AS returned_orders,
           count(*) FILTER (WHERE status = '{cancelled_status}') AS cancelled_orders,
           count(*) AS all_orders
    FROM orders WHERE customer_id = $id
),
s AS (
    SELECT count(*) AS responses,
           arg_max(nps, responded_at) FILTER (WHERE nps IS NOT NULL) AS latest_nps,
           max(responded_at) FILTER (WHERE nps IS NOT NULL) AS latest_nps_at
    FROM surveys WHERE customer_id = $id
),
t AS (
    SELECT count(*) FILTER (WHERE NOT resolved) AS tickets_open,
           count(*) FILTER (WHERE resolved) AS tickets_resolved
    FROM (
        SELECT resolved_at IS NOT NULL
               OR coalesce(lower(status) IN {resolved_statuses}, false) AS resolved
        FROM tickets WHERE customer_id = $id
    )
),
e AS (SELECT count(*) AS events FROM events WHERE customer_id = $id),
latest AS (SELECT CAST($as_of AS DATE) AS as_of)
SELECT c.customer_id IS NOT NULL AS in_crm,
       c.signup_date, c.name, c.email, c.phone, c.country, c.region, c.city, c.plan,
       c.acquisition_channel, c.birth_year, c.gender,
       o.*, s.*, t.*, e.*, latest.*
FROM o CROSS JOIN s CROSS JOIN t CROSS JOIN e CROSS JOIN latest
LEFT JOIN c ON true
"""


@dataclass(frozen=True)
class CustomerRecords:
    """One customer's rows of each dataset as the gateway shows them (narrowed and masked
    for its user), read once for the profile, the orders and the timeline; and the last day
    with any data, which "days since the last order" counts to."""

    customer_id: str
    rows: dict[str, pl.DataFrame]
    as_of: date | None


RECORD_DATASETS = by_customer.DATASETS

# The last day with events, asked only about events on or after `since` (the last day of the
# other datasets): the data files' statistics on occurred_at then skip every row group that
# ends before it, where the maximum of all 20M events would read them all. Exact: any event
# left out is older than `since`, which already counts.
_LAST_EVENT_DAY_SINCE_SQL = (
    "SELECT CAST(max(occurred_at) AS DATE) FROM events WHERE occurred_at >= $since"
)


def customer_records(gateway: QueryGateway, customer_id: str) -> CustomerRecords:
    """Read one customer's rows of every dataset: from the copies sorted by customer where
    they are built (`analytics.by_customer`), else each dataset scanned once."""
    sorted_copies = gateway.reading(by_customer.files_for(gateway))
    rows = {
        name: sorted_copies.query(
            f"SELECT * FROM {name} WHERE customer_id = $id", {"id": customer_id}
        )
        for name in RECORD_DATASETS
    }
    return CustomerRecords(customer_id, rows, _last_day_with_data(gateway))


def _last_day_with_data(gateway: QueryGateway) -> date | None:
    found = rollups.data_range(gateway, ["orders", "surveys", "tickets"])
    if found is None:
        last_event: date | None = gateway.query(
            "SELECT CAST(max(occurred_at) AS DATE) FROM events"
        ).item()
        return last_event
    later = gateway.query(_LAST_EVENT_DAY_SINCE_SQL, {"since": found[1]}).item()
    return found[1] if later is None else max(found[1], later)


def _records(
    gateway: QueryGateway, customer_id: str, records: CustomerRecords | None
) -> CustomerRecords:
    if records is not None and records.customer_id == customer_id:
        return records
    return customer_records(gateway, customer_id)


def customer_profile(
    gateway: QueryGateway, customer_id: str, records: CustomerRecords | None = None
) -> CustomerProfile | None:
    """The profile and value to date of one customer, or None when the id appears nowhere.

    Parameters
    ----------
    gateway : QueryGateway
    customer_id : str
        Matched exactly against `customer_id` of customers, orders (`order_date`, `amount`,
        `status`), surveys (`responded_at`, `nps`), tickets (`resolved_at`, `status`) and
        events.

    Returns
    -------
    CustomerProfile or None
        A ticket counts as resolved when it has `resolved_at` or a status of resolved,
        closed, solved or done; the latest NPS is that of the newest response with one.
    """
    found = _records(gateway, customer_id, records)
    sql = _PROFILE_SQL.format(**_RULES)
    params = {"id": customer_id, "as_of": found.as_of}
    row = gateway.query(sql, params, rows=found.rows).row(0, named=True)
    seen = row["all_orders"] + row["responses"] + row["tickets_open"] + row["tickets_resolved"]
    if not row["in_crm"] and seen + row["events"] == 0:
        return None
    return CustomerProfile(
        customer_id=customer_id,
        in_crm=bool(row["in_crm"]),
        signup_date=row["signup_date"],
        name=row["name"],
        email=row["email"],
        phone=row["phone"],
        country=row["country"],
        region=row["region"],
        city=row["city"],
        plan=row["plan"],
        acquisition_channel=row["acquisition_channel"],
        birth_year=row["birth_year"],
        gender=row["gender"],
        orders=int(row["orders"]),
        revenue=float(row["revenue"]),
        first_order=row["first_order"],
        last_order=row["last_order"],
        returned_orders=int(row["returned_orders"]),
        cancelled_orders=int(row["cancelled_orders"]),
        responses=int(row["responses"]),
        latest_nps=row["latest_nps"],
        latest_nps_at=row["latest_nps_at"],
        tickets_open=int(row["tickets_open"]),
        tickets_resolved=int(row["tickets_resolved"]),
        events=int(row["events"]),
        as_of=row["as_of"],
    )


# ----- orders and the timeline ------------------------------------------------------------


def customer_orders(
    gateway: QueryGateway, customer_id: str, records: CustomerRecords | None = None
) -> pl.DataFrame:
    """Every order of one customer, oldest first, with its status (missing = completed).

    Returns
    -------
    pl.DataFrame
        `order_id`, `order_date`, `amount`, `status`, `product`, `product_category`,
        `channel`.
    """
    frame = gateway.query(
        "SELECT order_id, order_date, CAST(amount AS DOUBLE) AS amount, "
        "coalesce(status, 'completed') AS status, product, product_category, channel "
        "FROM orders WHERE customer_id = $id ORDER BY order_date, order_id",
        {"id": customer_id},
        rows=_records(gateway, customer_id, records).rows,
    )
    return frame.cast(ORDERS_SCHEMA)


_TIMELINE_SQL = """
SELECT "at", kind, title, detail, amount, score FROM (
    SELECT CAST(order_date AS TIMESTAMP) AS "at", 'order' AS kind, 1 AS rank, order_id AS ref,
           concat_ws(' · ', 'Order ' || order_id, product_category,
                     coalesce(status, '{completed_status}')) AS title,
           CASE WHEN quantity > 1 THEN quantity || ' × ' || product ELSE product END AS detail,
           CAST(amount AS DOUBLE) AS amount, CAST(NULL AS BIGINT) AS score
    FROM orders WHERE customer_id = $id
    UNION ALL
    SELECT responded_at, 'survey', 2, response_id,
           concat_ws(' · ', 'Survey',
                     'NPS ' || nps || ' (' || CASE WHEN {promoter} THEN 'promoter'
                                                   WHEN {detractor} THEN 'detractor'
                                                   ELSE 'passive' END || ')',
                     'CSAT ' || csat, 'CES ' || ces, touchpoint),
           comment, NULL, CAST(nps AS BIGINT)
    FROM surveys WHERE customer_id = $id
    UNION ALL
    SELECT opened_at, 'ticket', 3, ticket_id,
           concat_ws(' · ', 'Ticket ' || ticket_id, category, priority),
           concat_ws(' · ', status,
                     CASE WHEN resolved_at >= opened_at
                          THEN 'resolved in '
                               || printf('%.1f', epoch(resolved_at - opened_at) / 3600.0) || ' h'
                          WHEN resolved_at IS NULL
                               AND NOT coalesce(lower(status) IN {resolved_statuses}, false)
                          THEN 'open' END),
           NULL, CAST(csat AS BIGINT)
    FROM tickets WHERE customer_id = $id
    UNION ALL
    SELECT occurred_at, 'event', 4, event_id,
           'Event · ' || touchpoint || coalesce(' (' || stage || ')', ''),
           channel, NULL, NULL
    FROM events WHERE customer_id = $id
)
ORDER BY "at" DESC, rank, ref DESC
"""


def customer_timeline(
    gateway: QueryGateway, customer_id: str, records: CustomerRecords | None = None
) -> pl.DataFrame:
    """Every record of one customer on one timeline, newest first.

    Parameters
    ----------
    gateway : QueryGateway
    customer_id : str
        Matched exactly against `customer_id` of orders, surveys, tickets and events.

    Returns
    -------
    pl.DataFrame
        `at` (orders at midnight of their day), `kind` (order, survey, ticket, event),
        `title` (e.g. "Order 100045 · Outdoor · completed", "Survey · NPS 3 (detractor)",
        "Ticket 40012 · Delivery · High", "Event · Checkout (purchase)"), `detail` (the
        product, the survey comment, the ticket's status and resolution time, the event's
        channel), `amount` (orders) and `score` (NPS of surveys, CSAT of tickets). Records
        at the same moment keep the order order, survey, ticket, event.
    """
    sql = _TIMELINE_SQL.format(**_RULES)
    found = _records(gateway, customer_id, records)
    return gateway.query(sql, {"id": customer_id}, rows=found.rows).cast(TIMELINE_SCHEMA)
