"""What a customer's support tickets say about each survey answer: the tickets they opened in
the `TICKET_WINDOW_DAYS` before it, and whether one of them waited more than
`SLOW_REPLY_HOURS` for a first reply. Two of the key drivers (`analytics.feedback.views`).

Finding them takes a join of every response with its customer's tickets in a time window:
seconds for two million responses. A response's facts depend on the surveys and the tickets
alone, so the feedback build (`store.refresh`) stores them per response (`PART`) and the
drivers read them by response id, unless a user's access narrows the tickets themselves.
"""

from __future__ import annotations

import polars as pl

from analytics.contract import DATASETS
from analytics.warehouse import Access, QueryGateway

TICKET_WINDOW_DAYS = 90
SLOW_REPLY_HOURS = 24
PART = "ticket_facts.parquet"  # feedback-<key>.ticket_facts.parquet: response_id and the facts
FACTS = ("tickets_before", "slow_reply")

_WINDOW = f"INTERVAL {TICKET_WINDOW_DAYS} DAY"
# The facts of the responses `r` (null for anonymous ones), from the `tickets` dataset.
FACTS_SQL = f"""
    CASE WHEN r.customer_id IS NULL THEN NULL ELSE (
        SELECT count(*) FROM tickets t WHERE t.customer_id = r.customer_id
        AND t.opened_at < r.responded_at AND t.opened_at >= r.responded_at - {_WINDOW}
    ) END AS tickets_before,
    CASE WHEN r.customer_id IS NULL THEN NULL ELSE coalesce((
        SELECT max(CASE WHEN t.first_response_at IS NULL
            OR t.first_response_at > t.opened_at + INTERVAL {SLOW_REPLY_HOURS} HOUR
            THEN 1 ELSE 0 END)
        FROM tickets t WHERE t.customer_id = r.customer_id
        AND t.opened_at < r.responded_at AND t.opened_at >= r.responded_at - {_WINDOW}
    ), 0) END AS slow_reply
"""


def ticket_facts(gateway: QueryGateway) -> pl.DataFrame:
    """Every survey response's `response_id` and `FACTS`, read through `gateway` as it is
    (pass an unrestricted one: the facts stored for everyone)."""
    return gateway.query(f"SELECT r.response_id, {FACTS_SQL} FROM surveys r")


def narrows_tickets(access: Access) -> bool:
    """Whether `access` hides some of a visible customer's tickets (a limit on a column of
    the tickets other than the customer), so that their stored facts would count tickets
    this user may not see. Limits on customers hide whole customers: the responses of a
    visible customer keep every ticket of theirs."""
    columns = DATASETS["tickets"].column_names
    return any(column in columns and column != "customer_id" for column, _ in access.limits)
