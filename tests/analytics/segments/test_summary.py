"""The segment table: the cells the build stores for a user who sees every customer are the
cells computed from every customer, and a limited user's come from their customers alone."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import segments
from analytics.filters import Filters
from analytics.segments import summary
from analytics.warehouse import Access, QueryGateway

GERMANY = Access(limits=(("country", ("Germany",)),), mask_pii=True, min_group=5)


@pytest.fixture(scope="module")
def built(small_company):
    segments.refresh(small_company)
    return QueryGateway(small_company), segments.current(small_company)


@pytest.mark.parametrize("method", ["rfm", "cluster"])
def test_the_stored_cells_are_every_customers_cells(built, method):
    gateway, seg = built
    stored = summary.stored_cells(seg, method)
    computed = summary.summary_cells(gateway, seg, Filters(), method)
    assert_frame_equal(stored, computed, check_row_order=False)
    # By hand: customers and revenue per segment of the stored customers.
    people = segments.segment_customers(gateway, seg, method=method)
    counted = people.group_by("segment").agg(n=pl.len(), revenue=pl.col("revenue").sum())
    joined = stored.join(counted, on="segment")
    assert joined.height == stored.height == counted.height
    assert joined["customers"].to_list() == joined["n"].to_list()
    by_hand = joined["revenue_right"].to_list()
    assert joined["revenue"].to_list() == pytest.approx(by_hand, rel=1e-12)
    assert stored["customers"].sum() == people.height


@pytest.mark.parametrize("method", ["rfm", "cluster"])
@pytest.mark.parametrize("hides", [False, True])
def test_a_user_who_sees_everyone_gets_the_stored_table(built, method, hides, monkeypatch):
    gateway, seg = built
    smallest = int(summary.stored_cells(seg, method)["customers"].min())
    minimum = smallest + 1 if hides else 0
    user = gateway.scoped(Access(mask_pii=True, min_group=minimum))
    computed = summary.protected_summary(
        summary.summary_cells(user, seg, Filters(), method), seg, minimum
    )
    monkeypatch.setattr(summary, "summary_cells", _not_called)
    table = segments.segment_summary(user, seg, Filters(), method)
    assert_frame_equal(table, computed)
    assert table["hidden"].is_not_null().sum() == (2 if hides else 0)  # and one to protect it


@pytest.mark.parametrize(
    ("access", "filters"),
    [
        (GERMANY, Filters()),
        (Access(), Filters(plan=("Premium",))),
        (GERMANY, Filters(channel=("app",))),
    ],
)
def test_limited_users_and_chosen_dimensions_get_their_own_customers(built, access, filters):
    gateway, seg = built
    user = gateway.scoped(access)
    table = segments.segment_summary(user, seg, filters)
    theirs = segments.segment_customers(user, seg, filters)
    expected = theirs.group_by("segment").agg(n=pl.len())
    shown = table.filter(pl.col("hidden").is_null()).join(expected, on="segment")
    assert shown["customers"].to_list() == shown["n"].to_list()
    everyone = segments.segment_customers(gateway, seg)
    assert table["customers"].sum() <= theirs.height < everyone.height
    assert_frame_equal(
        table,
        summary.protected_summary(
            summary.summary_cells(user, seg, filters, "rfm"), seg, access.min_group
        ),
    )


def _not_called(*args, **kwargs):
    raise AssertionError("a user who sees every customer reads the stored cells")
