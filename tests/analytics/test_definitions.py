"""The business rules, once: their SQL fragments on hand-picked values, and no copies elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from analytics import definitions as rules

ANALYTICS = Path(__file__).resolve().parents[2] / "analytics"


def evaluate(fragment: str, **columns: object) -> object:
    names = ", ".join(f"$v{i} AS {name}" for i, name in enumerate(columns))
    params = {f"v{i}": value for i, value in enumerate(columns.values())}
    return duckdb.execute(f"SELECT {fragment} FROM (SELECT {names})", params).fetchone()[0]


@pytest.mark.parametrize(
    ("status", "completed", "returned"),
    [
        ("completed", True, False),
        (None, True, False),  # a missing status counts as completed
        ("returned", False, True),
        ("cancelled", False, False),
    ],
)
def test_order_rules(status, completed, returned):
    assert evaluate(rules.completed_sql(), status=status) is completed
    assert evaluate(rules.returned_sql(), status=status) is returned


@pytest.mark.parametrize(
    ("nps", "promoter", "detractor"),
    [
        (10, True, False),
        (9, True, False),
        (8, False, False),
        (7, False, False),
        (6, False, True),
        (0, False, True),
    ],
)
def test_nps_groups(nps, promoter, detractor):
    assert evaluate(rules.promoter_sql(), nps=nps) is promoter
    assert evaluate(rules.detractor_sql(), nps=nps) is detractor


@pytest.mark.parametrize(("csat", "satisfied"), [(5, True), (4, True), (3, False), (1, False)])
def test_satisfied_answers(csat, satisfied):
    assert evaluate(rules.satisfied_sql(), csat=csat) is satisfied


@pytest.mark.parametrize(
    ("score", "group"),
    [
        (10, "promoter"),
        (9, "promoter"),
        (8, "passive"),
        (7, "passive"),
        (6, "detractor"),
        (0, "detractor"),
    ],
)
def test_nps_group(score, group):
    assert rules.nps_group(score) == group


def test_fragments_take_a_table_alias():
    assert rules.sql_rules("d") == {
        "completed": "coalesce(d.status, 'completed') NOT IN ('returned', 'cancelled')",
        "returned": "coalesce(d.status = 'returned', false)",
        "promoter": "d.nps >= 9",
        "detractor": "d.nps <= 6",
        "satisfied": "d.csat >= 4",
    }


# What copies of the rules look like: a status list, or a score threshold in SQL.
COPIES = re.compile(r"'returned',\s*'cancelled'|\b(nps|csat)\s*(>=|<=|>|<)\s*\d")


def test_no_module_writes_the_rules_again():
    offenders = [
        f"{path.relative_to(ANALYTICS)}:{number}"
        for path in ANALYTICS.rglob("*.py")
        if path.name != "definitions.py" and "sample" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COPIES.search(line)
    ]
    assert offenders == []
