"""Hypothesis settings of the property tests that build warehouses: each example loads data
and builds derived tables, so it takes seconds (no deadline, no complaint about slowness),
and a test's temporary folders come from pytest's function-scoped fixtures."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def slow_examples(examples: int) -> settings:
    """`examples` examples of a test that builds warehouses."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
