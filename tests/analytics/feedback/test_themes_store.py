"""Themes on fixture comments, the analyst's dictionary, the stored analysis (incremental on
append, stable theme ids), and the sample company's planted truths."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from analytics import feedback
from analytics.errors import ConfigError
from analytics.feedback import sentiment, store, themes, views
from analytics.feedback.settings import FeedbackSettings, parse_keywords
from analytics.ingest.pipeline import ingest
from analytics.warehouse import QueryGateway, Warehouse

SUBJECT_COMMENTS = {
    "delivery": [
        "The parcel was delayed again", "Courier lost my package", "Delivery took two weeks",
        "Shipping was slow and tracking never updated", "My order arrived late",
        "Package arrived damaged and late", "Still waiting for delivery",
    ],
    "price": [
        "Too expensive for what you get", "Prices went up again", "Not worth the money",
        "Cheaper elsewhere", "Great value for the price", "Overpriced and not worth it",
        "Discount code did not work at checkout price",
    ],
    "support": [
        "Support was rude", "Waited an hour on the phone for support", "Nobody answered my email",
        "Friendly and helpful support staff", "Support agent solved it quickly",
        "Customer service never replied", "The support call was useless",
    ],
}  # fmt: skip


def corpus(copies: int = 4) -> list[str]:
    """Each comment written a few times with small variations (as people do)."""
    texts = []
    for items in SUBJECT_COMMENTS.values():
        for text in items:
            texts += [text, text + ".", text + "!", text.lower()][:copies]
    return texts


def test_themes_group_comments_about_one_subject_and_name_them():
    model = themes.fit_themes(corpus())
    index, _ = themes.assign(model, corpus(1))
    by_subject = {}
    position = 0
    for subject, items in SUBJECT_COMMENTS.items():
        by_subject[subject] = index[position : position + len(items)].tolist()
        position += len(items)
    # Each subject's comments share one theme, a different one per subject.
    main = {s: max(set(v), key=v.count) for s, v in by_subject.items()}
    assert len(set(main.values())) == 3
    for subject, assigned in by_subject.items():
        assert assigned.count(main[subject]) >= len(assigned) - 1, (subject, assigned)
        assert model.labels[main[subject]].split(" · ")[0] == subject


def test_a_fixed_number_of_themes_and_clear_refusals():
    model = themes.fit_themes(corpus(), k=3)
    assert model.k == 3 and [k for k, *_ in model.k_scores] == [3]
    assert themes.fit_themes(corpus(), k=3).labels == model.labels  # seeded: the same again
    with pytest.raises(ConfigError, match="Choose 2 to 30 themes; got 1"):
        themes.fit_themes(corpus(), k=1)
    with pytest.raises(ConfigError, match="at least 20 differently worded comments; there are 3"):
        themes.fit_themes(["late parcel", "late parcel!", "rude support", "cheap price"])


def test_the_dictionary_wins_for_what_it_matches_first_listed_first():
    texts = pl.Series("text", ["The parcel was late", "Prices went up", "Late refund", None])
    matched = themes.dictionary_matches(
        texts, {"Refunds": ("refund",), "Delivery": ("late", "parcel")}
    )
    assert matched.to_list() == ["Delivery", None, "Refunds", None]
    assert parse_keywords(" late,  Late , parcel ,, slow  delivery") == (
        "late", "parcel", "slow delivery"
    )  # fmt: skip
    with pytest.raises(ConfigError, match="The dictionary theme 'Empty' has no keywords"):
        FeedbackSettings(dictionary={"Empty": ("  ",)})


SURVEYS_HEADER = b"response_id,customer_id,responded_at,nps,comment\n"


def _surveys(start: int, rows: list[tuple[int, str]]) -> bytes:
    lines = [
        f"R{start + i},C{(start + i) % 7},2025-0{1 + i % 6}-1{i % 9} 10:00:00,{nps},{text}\n"
        for i, (nps, text) in enumerate(rows)
    ]
    return SURVEYS_HEADER + "".join(lines).encode()


def _load(warehouse: Warehouse, content: bytes, mode: str = "append") -> None:
    result = ingest(
        content, dataset_name="surveys", warehouse=warehouse, file_name="s.csv", user="t",
        mode=mode,
    )  # fmt: skip
    assert result.loaded, result.message


def _rows() -> list[tuple[int, str]]:
    rows = []
    for subject, items in SUBJECT_COMMENTS.items():
        score = 3 if subject != "price" else 7
        rows += [(score, text) for text in items for _ in range(3)]
    return rows


def test_an_append_scores_only_new_texts_and_keeps_the_themes(warehouse, monkeypatch):
    _load(warehouse, _surveys(0, _rows()), mode="replace")
    store.refresh(warehouse)
    first = store.current(warehouse)
    assert first is not None and first.meta["comments"] == 63
    assert first.meta["texts_scored"] == 21 and first.meta["model"]["reused"] is False

    scored: list[str] = []
    real = sentiment.score

    def counting(text: str) -> float:
        scored.append(text)
        return real(text)

    monkeypatch.setattr(sentiment, "score", counting)
    _load(warehouse, _surveys(100, [(2, "The courier was late again"), (9, "Support was rude")]))
    store.refresh(warehouse)
    second = store.current(warehouse)
    assert second is not None and second.key != first.key
    assert scored == ["The courier was late again"]  # "Support was rude" was scored before
    assert second.meta["model"] == {"reused": True, "new_comments": 2}
    assert second.meta["themes"] == first.meta["themes"]
    before = pl.read_parquet(first.comments_path).select("id", "theme")
    after = pl.read_parquet(second.comments_path).select("id", "theme")
    assert after.join(before, on="id").filter(pl.col("theme") != pl.col("theme_right")).is_empty()
    late = after.filter(pl.col("id") == "R100")["theme"].item()
    delivery = next(t["id"] for t in first.meta["themes"] if t["label"].startswith("delivery"))
    assert late == delivery


def test_many_new_comments_refit_and_matching_themes_keep_their_ids(warehouse):
    _load(warehouse, _surveys(0, _rows()), mode="replace")
    store.refresh(warehouse)
    first = store.current(warehouse)
    _load(warehouse, _surveys(200, _rows()))  # doubles the comments: refit
    store.refresh(warehouse)
    second = store.current(warehouse)
    assert second.meta["model"]["reused"] is False
    ids = {t["label"].split(" · ")[0]: t["id"] for t in first.meta["themes"]}
    again = {t["label"].split(" · ")[0]: t["id"] for t in second.meta["themes"]}
    assert again == ids


def test_dictionary_settings_are_saved_audited_and_rebuild(warehouse):
    from analytics import audit

    _load(warehouse, _surveys(0, _rows()), mode="replace")
    store.refresh(warehouse)
    chosen = FeedbackSettings(dictionary={"Couriers": ("courier", "tracking")})
    assert store.change_settings(warehouse, chosen, "ana", {"set": "Couriers"})
    assert not store.change_settings(warehouse, chosen, "ana", {"set": "Couriers"})
    assert feedback.load_settings(warehouse.root) == chosen
    assert store.current(warehouse) is None  # a new build is due
    store.refresh(warehouse)
    stored = store.current(warehouse)
    table = views.theme_table(QueryGateway(warehouse), stored)
    couriers = table.filter(pl.col("theme") == "d:Couriers").row(0, named=True)
    assert couriers["label"] == "Couriers" and couriers["comments"] == 6
    assert audit.read_log(warehouse.root, newest=1)["event"].item() == "settings_change"


# ----- the sample company's planted truths ----------------------------------------------


@pytest.fixture(scope="module")
def sample_feedback(sample_warehouse):
    store.refresh(sample_warehouse)
    stored = store.current(sample_warehouse)
    assert stored is not None
    return QueryGateway(sample_warehouse), stored


DELIVERY = re.compile(r"late|delay|deliver|parcel|package|courier|shipping|tracking", re.I)


@pytest.mark.slow
def test_the_planted_delivery_theme_is_its_own_theme(sample_feedback):
    gateway, stored = sample_feedback
    found = views.comments(gateway, stored, views.EVERYONE).with_columns(
        delivery=pl.col("text").str.contains(DELIVERY.pattern.join(["(?i)(", ")"]))
    )
    per_theme = found.group_by("theme").agg(n=pl.len(), delivery=pl.col("delivery").sum())
    best = per_theme.sort("delivery", descending=True).row(0, named=True)
    label = stored.labels()[best["theme"]]
    assert label.startswith("delivery")
    # Nearly every comment matching the planted pattern is in that theme, and nothing there
    # is about anything but delivery (late or on time).
    assert best["delivery"] >= 0.9 * found["delivery"].sum()
    assert (
        found.filter(pl.col("theme") == best["theme"])["text"]
        .str.contains(r"(?i)late|delay|deliver|parcel|package|courier|shipping|tracking|arriv")
        .all()
    )


@pytest.mark.slow
def test_delivery_is_the_fastest_growing_detractor_theme_of_the_incident_quarter(
    sample_feedback,
):
    gateway, stored = sample_feedback
    table = views.theme_table(gateway, stored, quarter="2025-Q2", group="detractor")
    top = table.row(0, named=True)
    assert top["label"].startswith("delivery")
    assert top["change"] == pytest.approx(top["share"] - top["share_previous"])
    assert top["share_previous"] < 0.3 < 0.5 < top["share"] and top["p_value"] < 1e-4


@pytest.mark.slow
def test_the_planted_driver_weights_come_out_in_order(sample_feedback):
    gateway, _ = sample_feedback
    model = views.driver_table(gateway, target="nps")
    ratings = [d for d in model.table["driver"].to_list() if d.startswith("attr_")]
    assert ratings == [
        "attr_delivery_speed_rating",
        "attr_product_quality_rating",
        "attr_value_for_money_rating",
        "attr_website_ease_rating",
    ]
    first = model.table.row(0, named=True)
    assert first["driver"] == "attr_delivery_speed_rating" and first["quadrant"] == "fix first"
    assert model.table["importance"].sum() == pytest.approx(1.0)
    assert 0.5 < model.r2 < 0.7


@pytest.mark.slow
def test_sentiment_and_nps_per_quarter_follow_the_incident(sample_feedback):
    gateway, stored = sample_feedback
    trend = views.sentiment_trend(gateway, stored, period="quarter")
    by = {r["period"]: r for r in trend.iter_rows(named=True)}
    assert round(by["2025-Q1"]["nps"], 1) == 28.4 and round(by["2025-Q2"]["nps"], 1) == 11.9
    assert by["2025-Q1"]["responses"] == 973 and by["2025-Q2"]["responses"] == 1059
    assert by["2025-Q2"]["sentiment"] < by["2025-Q1"]["sentiment"] - 0.1
    assert json.dumps(trend.columns) == json.dumps(
        ["period", "comments", "sentiment", "positive", "negative", "responses", "nps", "hidden"]
    )


def test_viewers_see_no_email_or_phone_written_into_a_comment(warehouse):
    from analytics.warehouse import Access

    rows = [(2, "Call me on +44 20 7946 0958 or at jane.doe@example.com about order 12345")]
    rows += [(9, f"Great service on 2025-03-0{i}") for i in range(1, 6)]
    _load(warehouse, _surveys(0, rows), mode="replace")
    store.refresh(warehouse)
    stored = store.current(warehouse)
    analyst = QueryGateway(warehouse)
    viewer = analyst.scoped(Access(mask_pii=True, min_group=2))

    said = viewer.query("SELECT comment FROM surveys ORDER BY response_id")["comment"].to_list()
    assert said[0] == "Call me on [phone] or at [email] about order 12345"
    assert said[1] == "Great service on 2025-03-01"  # a date is not a phone number
    shown, why = views.verbatims(viewer, stored, search="call")
    assert (shown.height, why) == (0, "fewer than 2 comments")
    shown, why = views.verbatims(viewer, stored, search="jane")  # searched as shown
    assert (shown.height, why) == (0, None)
    shown, why = views.verbatims(viewer, stored)
    assert why is None
    assert "Call me on [phone] or at [email] about order 12345" in shown["text"].to_list()
    plain, _ = views.verbatims(analyst, stored, search="jane")
    assert plain["text"].to_list() == [rows[0][1]]


@pytest.mark.slow
def test_theme_trends_per_quarter_agree_with_the_quarter_comparison(sample_feedback):
    gateway, stored = sample_feedback
    trend = views.theme_trend(gateway, stored, period="quarter", group="detractor")
    compared = views.theme_table(gateway, stored, quarter="2025-Q2", group="detractor")
    for row in compared.filter(pl.col("comments") > 0).iter_rows(named=True):
        same = trend.filter((pl.col("period") == "2025-Q2") & (pl.col("theme") == row["theme"]))
        assert same.select("comments", "share", "change", "p_value").row(0) == pytest.approx(
            (row["comments"], row["share"], row["change"], row["p_value"])
        )
    shares = trend.group_by("period").agg(pl.col("share").sum())["share"]
    assert shares.to_list() == pytest.approx([1.0] * shares.len())
    first = trend.filter(pl.col("period") == trend["period"].min())
    assert first["change"].is_null().all() and first["p_value"].is_null().all()


def test_ticket_texts_are_read_with_the_survey_comments(warehouse):
    _load(warehouse, _surveys(0, _rows()), mode="replace")
    tickets = (
        b"ticket_id,customer_id,opened_at,description,satisfaction\n"
        b"900,C1,2025-02-03 09:00:00,My parcel is lost and the courier never came,1\n"
        b"901,C2,2025-02-04 09:00:00,,5\n"
        b"902,C3,2025-02-05 09:00:00,Thanks for the friendly help,5\n"
    )
    loaded = ingest(tickets, dataset_name="tickets", warehouse=warehouse, file_name="t.csv",
                    user="t")  # fmt: skip
    assert loaded.loaded, loaded.message
    store.refresh(warehouse)
    stored = store.current(warehouse)
    found = views.comments(QueryGateway(warehouse), stored, views.EVERYONE)
    mine = found.filter(pl.col("source") == "ticket").sort("id")
    assert mine["id"].to_list() == ["T:900", "T:902"]  # the blank one is no comment
    assert mine["csat"].to_list() == [1, 5] and mine["nps"].is_null().all()
    assert mine["sentiment"][0] < -0.05 < 0.05 < mine["sentiment"][1]
    delivery = next(t["id"] for t in stored.meta["themes"] if t["label"].startswith("delivery"))
    assert mine["theme"][0] == delivery

    # The tickets as a group of their own: only their texts count.
    gateway = QueryGateway(warehouse)
    table = views.theme_table(gateway, stored, group=views.TICKETS)
    assert table["comments"].sum() == 2 and table["share"].sum() == pytest.approx(1.0)
    shown, _ = views.verbatims(gateway, stored, group=views.TICKETS)
    assert sorted(shown["id"].to_list()) == ["T:900", "T:902"]
    with pytest.raises(ConfigError, match="Comments are grouped as detractor, passive, "):
        views.theme_table(gateway, stored, group="buyers")


@pytest.mark.slow
def test_each_theme_has_its_most_written_comments_as_examples(sample_feedback):
    from analytics.warehouse import Access

    gateway, stored = sample_feedback
    examples = views.theme_examples(gateway, stored, group="detractor")
    labels = stored.labels()
    delivery = next(r for r in examples.iter_rows(named=True) if labels.get(r["theme"], "")
                    .startswith("delivery"))  # fmt: skip
    assert len(delivery["examples"]) == 3
    assert all(DELIVERY.search(text) for text in delivery["examples"])
    found = views.comments(gateway, stored, views.EVERYONE).filter(
        (pl.col("nps_group") == "detractor") & (pl.col("theme") == delivery["theme"])
    )
    most = found["text"].value_counts(sort=True)["count"][0]
    assert found["text"].to_list().count(delivery["examples"][0]) == most
    strict = gateway.scoped(Access(mask_pii=True, min_group=10_000))
    assert views.theme_examples(strict, stored).is_empty()
