"""The comments a user sees: a user who sees every comment gets the stored ones narrowed by
their days alone, the very rows the datasets name for them; limited users get the ones of
their responses and tickets. The Themes tab's tables follow alike."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics import feedback
from analytics.feedback import views
from analytics.filters import Filters
from analytics.warehouse import Access, QueryGateway

LAST = "2025-Q4"
RANGES = [
    (None, None),
    (date(2023, 1, 1), date(2025, 12, 31)),
    (date(2025, 10, 1), date(2025, 12, 31)),
    (date(2024, 2, 29), date(2024, 3, 1)),
]


@pytest.fixture(scope="module")
def sample(sample_warehouse):
    feedback.refresh(sample_warehouse)
    return QueryGateway(sample_warehouse), feedback.current(sample_warehouse)


def _named_by_the_datasets(gateway, stored, filters, since, until):
    """The comments as every user got them before: the ids the datasets name, joined."""
    ids = views._visible_ids(gateway, stored, filters, since, until)
    return (
        pl.scan_parquet(stored.comments_path)
        .join(ids.lazy(), on="id", how="semi")
        .with_columns(nps_group=views.nps_group(), theme=pl.col("theme").fill_null(views.OTHER_ID))
        .collect()
    )


@pytest.mark.parametrize(("since", "until"), RANGES)
def test_everyone_gets_the_comments_the_datasets_name(sample, since, until, monkeypatch):
    gateway, stored = sample
    filters = Filters(start=since, end=until)
    expected = _named_by_the_datasets(gateway, stored, filters, since, until)
    monkeypatch.setattr(views, "_visible_ids", _not_called)
    for user in (gateway, gateway.scoped(Access(mask_pii=True, min_group=5))):
        assert_frame_equal(views.comments(user, stored, filters), expected)
    assert expected.height > 0


@pytest.mark.parametrize(
    ("access", "filters"),
    [
        (Access(limits=(("country", ("Germany",)),), min_group=5), Filters()),
        (Access(limits=(("channel", ("email",)),)), Filters(start=date(2025, 1, 1))),
        (Access(), Filters(plan=("Premium",))),
    ],
)
def test_limited_users_get_the_comments_of_their_rows(sample, access, filters):
    gateway, stored = sample
    user = gateway.scoped(access)
    found = views.comments(user, stored, filters)
    expected = _named_by_the_datasets(user, stored, filters, filters.start, filters.end)
    assert_frame_equal(found, expected)
    assert 0 < found.height < views.comments(gateway, stored, Filters()).height


@pytest.mark.parametrize("group", [None, "detractor", "tickets"])
def test_the_themes_tab_counts_the_same_comments_on_either_path(sample, group, monkeypatch):
    gateway, stored = sample
    sidebar = Filters(start=date(2023, 1, 1), end=date(2025, 12, 31))
    tables = {
        "themes": lambda: views.theme_table(gateway, stored, sidebar, quarter=LAST, group=group),
        "examples": lambda: views.theme_examples(gateway, stored, sidebar, group=group),
        "trend": lambda: views.theme_trend(gateway, stored, sidebar, group=group),
        "monthly": lambda: views.theme_trend(gateway, stored, sidebar, period="month", group=group),
        "groups": lambda: views.themes_by_group(gateway, stored, sidebar),
        "sentiment": lambda: views.sentiment_trend(gateway, stored, sidebar),
    }  # fmt: skip
    fast = {name: table() for name, table in tables.items()}
    # The same tables when the datasets name every comment (as they did for everyone).
    monkeypatch.setattr(views, "_sees_every_comment", lambda *args: False)
    for name, table in tables.items():
        assert_frame_equal(fast[name], table(), check_exact=True)
    # Periods are labelled after grouping: the counts of every comment labelled one by one.
    found = views.comments(gateway, stored, sidebar)
    if group is not None:
        found = found.filter(views.in_group(group))
    year = pl.col("at").dt.year().cast(pl.String)
    for name, label in (
        ("trend", year + "-Q" + pl.col("at").dt.quarter().cast(pl.String)),
        ("monthly", pl.col("at").dt.strftime("%Y-%m")),
    ):
        one_by_one = found.group_by(label.alias("period"), "theme").agg(n=pl.len())
        shown = fast[name].join(one_by_one, on=["period", "theme"], how="left")
        assert shown["comments"].to_list() == shown["n"].fill_null(0).to_list()
        assert set(fast[name]["period"]) == set(one_by_one["period"])


def test_comments_of_other_data_versions_are_named_by_the_datasets(sample, monkeypatch):
    gateway, stored = sample
    older = views.StoredFeedback(
        stored.folder,
        stored.key,
        stored.meta | {"versions": {"surveys": -1, "tickets": None}},
        stored.settings,
    )
    assert not views._sees_every_comment(gateway, older, Filters())
    assert views._sees_every_comment(gateway, stored, Filters(start=date(2024, 1, 1)))
    assert not views._sees_every_comment(gateway, stored, Filters(region=("EMEA",)))


def _not_called(*args, **kwargs):
    raise AssertionError("the datasets were asked which comments are this user's")
