"""Business rules, once: what counts as a completed order, a promoter, a satisfied answer.

Every query and every page reads these rules from here, as data and as the SQL fragments
built from it, so that a company that counts differently changes one line. The fragments
are code built from these constants, never from user input.
"""

from __future__ import annotations

from typing import Final

# Orders. An order whose status is one of these did not complete; a missing status is
# completed (exports often leave it empty).
COMPLETED: Final = "completed"
RETURNED: Final = "returned"
CANCELLED: Final = "cancelled"
NOT_COMPLETED: Final = (RETURNED, CANCELLED)

# Scores. NPS on 0-10: promoters score 9-10, detractors 0-6 (passives 7-8). CSAT on 1-5:
# satisfied answers score 4 or 5. CES on 1-7: lower means less effort.
NPS_SCALE: Final = (0, 10)
CSAT_SCALE: Final = (1, 5)
CES_SCALE: Final = (1, 7)
PROMOTER_FROM: Final = 9
DETRACTOR_TO: Final = 6
SATISFIED_FROM: Final = 4

# Ticket statuses that mean "done" even when an export has no resolved_at.
RESOLVED_STATUSES: Final = ("resolved", "closed", "solved", "done")


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def completed_sql(table: str = "") -> str:
    """SQL: the order (of table alias `table`, if any) completed."""
    prefix = f"{table}." if table else ""
    return f"coalesce({prefix}status, '{COMPLETED}') NOT IN ({_quoted(NOT_COMPLETED)})"


def returned_sql(table: str = "") -> str:
    """SQL: the order was returned (false, not null, when the status is missing)."""
    prefix = f"{table}." if table else ""
    return f"coalesce({prefix}status = '{RETURNED}', false)"


def promoter_sql(column: str = "nps") -> str:
    return f"{column} >= {PROMOTER_FROM}"


def detractor_sql(column: str = "nps") -> str:
    return f"{column} <= {DETRACTOR_TO}"


def satisfied_sql(column: str = "csat") -> str:
    return f"{column} >= {SATISFIED_FROM}"


COMPLETED_TEXT: Final = (
    f"*Completed* orders are those whose status is neither `{RETURNED}` nor `{CANCELLED}`; "
    "an order with no status counts as completed."
)
NPS_TEXT: Final = (
    f"promoters scoring {PROMOTER_FROM}–{NPS_SCALE[1]} − detractors scoring "
    f"{NPS_SCALE[0]}–{DETRACTOR_TO}"
)
SATISFIED_TEXT: Final = (
    f"scoring {SATISFIED_FROM}–{CSAT_SCALE[1]} (on {CSAT_SCALE[0]}–{CSAT_SCALE[1]})"
)


def sql_rules(table: str = "") -> dict[str, str]:
    """The rules as named SQL fragments for query templates (`{completed}`, `{returned}`,
    `{promoter}`, `{detractor}`, `{satisfied}`), on columns of table alias `table`."""
    prefix = f"{table}." if table else ""
    return {
        "completed": completed_sql(table),
        "returned": returned_sql(table),
        "promoter": promoter_sql(f"{prefix}nps"),
        "detractor": detractor_sql(f"{prefix}nps"),
        "satisfied": satisfied_sql(f"{prefix}csat"),
    }


def nps_group(score: int) -> str:
    """'promoter', 'passive' or 'detractor' for an NPS answer."""
    if score >= PROMOTER_FROM:
        return "promoter"
    return "detractor" if score <= DETRACTOR_TO else "passive"
