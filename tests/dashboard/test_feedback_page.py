"""Feedback page (AppTest): themes with growth (a theme's bar opens its comments), sentiment,
key drivers, verbatims, the dictionary editor, and the building and broken-settings states;
and the page's charts (`dashboard/charts/feedback.py`) on small frames."""

from __future__ import annotations

import polars as pl
from apptest_helpers import chart_options, click_chart, open_page, open_tab

from analytics import derived, feedback
from analytics.feedback.settings import SETTINGS_NAME
from analytics.ingest.pipeline import ingest
from dashboard.charts import feedback as charts

FEEDBACK = "views/feedback.py"


def test_while_the_comments_are_analysed_the_page_says_so(tiny_warehouse, monkeypatch):
    monkeypatch.setattr(feedback, "current", lambda *args, **kwargs: None)

    at = open_page(FEEDBACK)

    assert at.title[0].value == "Feedback"
    assert "Analysing the comments of the current data" in at.info[0].value


def test_the_sample_company_in_the_incident_quarter(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    feedback.refresh(sample_warehouse)

    at = open_page(FEEDBACK, fgroup="detractor", fquarter="2025-Q2")

    growing = next(m.value for m in at.markdown if m.value.startswith("**Growing fastest"))
    assert "delivery · late · arrived, 59.9% of detractors' comments against 22.7%" in growing
    themes = at.dataframe[0].value
    assert themes["Theme"].iloc[0] == "delivery · late · arrived"
    assert [tab.label for tab in at.tabs] == [
        "Themes", "Sentiment", "Key drivers", "Verbatims", "Dictionary"
    ]  # fmt: skip
    shares, trend, groups = chart_options(at)
    # The theme bars, largest on top (ECharts draws a category axis' first label at the bottom).
    assert shares["yAxis"]["data"][-1] == "delivery · late · arrived"
    this, before = shares["series"]
    assert [this["name"], before["name"]] == ["This quarter", "Previous quarter"]
    assert round(this["data"][-1]["value"], 1) == 59.9
    assert round(before["data"][-1]["value"], 1) == 22.7
    # The themes quarter by quarter, detractors' comments: the incident quarter's jump is
    # significant (a filled marker).
    delivery = next(s for s in trend["series"] if s["name"] == "delivery · late · arrived")
    q2 = delivery["data"][trend["xAxis"]["data"].index("2025-Q2")]
    assert round(q2["value"], 1) == 59.9 and q2["symbol"] == "circle"
    assert groups["xAxis"]["data"] == ["Detractors", "Passives", "Promoters"]

    open_tab(at, "ftab", "Key drivers")

    drivers = next(d.value for d in at.dataframe if "Importance" in d.value.columns)
    assert drivers["Driver"].tolist()[:3] == [
        "Delivery speed rating", "Product quality rating", "Value for money rating"
    ]  # fmt: skip
    (quadrant,) = chart_options(at)
    assert quadrant["xAxis"]["name"] == "Importance (share of what the drivers explain)"
    named = {p["name"]: p["value"] for s in quadrant["series"] for p in s["data"]}
    assert round(named["Delivery speed rating"][0]) == round(100 * drivers["Importance"][0])


def test_a_theme_bar_opens_its_comments(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    feedback.refresh(sample_warehouse)
    at = open_page(FEEDBACK, fgroup="detractor", fquarter="2025-Q2")
    shares = chart_options(at)[0]
    support = shares["yAxis"]["data"].index("support · rude · unhelpful")

    click_chart(at, "feedback_shares_", 0, support)

    assert not at.exception, at.exception
    assert at.session_state["ftab"] == "Verbatims" and at.query_params["ftheme"] == "t2"
    assert at.selectbox(key="ftheme").value == "t2"
    comments = next(d.value for d in at.dataframe if "Comment" in d.value.columns)
    assert len(comments) > 0
    assert (comments["Theme"] == "support · rude · unhelpful").all()


def test_a_verbatim_search_lists_matching_comments(warehouse_dir, sample_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_WAREHOUSE", str(sample_warehouse.root))
    feedback.refresh(sample_warehouse)

    at = open_page(FEEDBACK, ftab="Verbatims", fsearch="courier", ftone="negative")

    comments = next(d.value for d in at.dataframe if "Comment" in d.value.columns)
    assert len(comments) > 0
    assert comments["Comment"].str.contains("(?i)courier").all()
    assert (comments["Sentiment"] <= -0.05).all()


def test_an_analyst_sets_the_number_of_themes(warehouse):
    from analytics import audit
    from analytics.ingest.pipeline import ingest

    comments = b"response_id,customer_id,responded_at,nps,comment\n" + b"".join(
        f"R{i},C{i % 5},2025-0{1 + i % 6}-10 10:00:00,{i % 11},{text}\n".encode()
        for i, text in enumerate(["The parcel was late", "Support was rude", "Great value"] * 4)
    )
    loaded = ingest(comments, dataset_name="surveys", warehouse=warehouse,
                    file_name="s.csv", user="t")  # fmt: skip
    assert loaded.loaded, loaded.message
    feedback.refresh(warehouse)
    at = open_page(FEEDBACK, ftab="Dictionary")
    # Too few differently worded comments for themes: the page says so.
    assert any("differently worded comments" in i.value for i in at.info)
    box = next(s for s in at.selectbox if s.label == "Themes to find in the comments")
    box.set_value("4")
    next(b for b in at.button if b.label == "Save and analyse again").click()
    at.run()

    assert not at.exception, at.exception
    assert feedback.load_settings(warehouse.root).k == 4
    entry = audit.read_log(warehouse.root, newest=1).row(0, named=True)
    assert entry["event"] == "settings_change" and "themes=4" in entry["details"]


def test_a_broken_settings_file_is_named_not_a_traceback(tiny_warehouse):
    path = tiny_warehouse.root / "_settings" / f"{SETTINGS_NAME}.json"
    path.parent.mkdir()
    path.write_text('{"k": "many"}')

    at = open_page(FEEDBACK)

    assert "'k' must be a number of themes or null" in at.error[0].value


def test_after_an_append_the_page_shows_the_earlier_analysis_and_says_so(
    tiny_warehouse, monkeypatch
):
    # The background build started by the app is held back: the new data's is "being made".
    monkeypatch.setattr(derived, "refresh_rest", lambda *args, **kwargs: {})
    feedback.refresh(tiny_warehouse)
    more = b"response_id,customer_id,responded_at,nps,csat\nR9,C2,2025-05-09 10:00:00,7,3\n"
    assert ingest(more, dataset_name="surveys", warehouse=tiny_warehouse, user="tester").loaded

    at = open_page(FEEDBACK)

    assert "These are the comment themes of the data before the latest load" in at.info[0].value
    assert not at.exception


# The charts, frame in, `Chart` out.

THEMES = pl.DataFrame(
    {
        "theme": ["t0", "t1", "t2", "t3", "other"],
        "label": ["late <b>parcels</b>", "price", "support", "hidden one", "Other"],
        "share": [0.5, 0.3, 0.2, None, 0.0],
        "share_previous": [0.25, None, 0.4, None, 0.0],
    }
)


def test_theme_bars_run_largest_on_top_and_carry_their_theme():
    chart = charts.theme_shares(THEMES, compared=True)

    # A hidden theme (no share) and one with no comments either quarter have no bar at all.
    assert chart.option["yAxis"]["data"] == ["support", "price", "late <b>parcels</b>"]
    this, before = chart.option["series"]
    assert [bar["value"] for bar in this["data"]] == [20.0, 30.0, 50.0]
    # A missing previous share is no bar, not a bar of 0.
    assert [None if bar is None else bar["value"] for bar in before["data"]] == [40.0, None, 25.0]
    assert this["selectedMode"] == "single" and "selectedMode" not in before
    assert chart.drill == {0: [["t2"], ["t1"], ["t0"]]}
    assert chart.payload(0, 2) == ["t0"] and chart.payload(1, 0) is None
    assert this["data"][2]["tooltip"]["formatter"] == (
        "<b>late &lt;b&gt;parcels&lt;/b&gt;</b><br>50.0% of comments<br>This quarter"
    )
    assert chart.option["xAxis"]["axisLabel"]["formatter"] == "{value}%"
    assert chart.option["legend"]["show"] is True


def test_theme_bars_alone_have_no_legend_and_grow_with_the_themes():
    chart = charts.theme_shares(THEMES, compared=False)

    (only,) = chart.option["series"]
    assert only["name"] == "Share of comments"
    assert chart.option["legend"]["show"] is False
    assert chart.drill == {0: [["t2"], ["t1"], ["t0"]]}
    many = pl.DataFrame(
        {"theme": [f"t{i}" for i in range(12)], "label": [f"theme {i}" for i in range(12)],
         "share": [0.05] * 12, "share_previous": [0.05] * 12}
    )  # fmt: skip
    assert chart.height == 380 and charts.theme_shares(many, compared=False).height == 560


def test_theme_trend_marks_significant_changes_and_breaks_at_hidden_shares():
    trend = pl.DataFrame(
        {
            "period": ["2025-Q1", "2025-Q2", "2025-Q3"] * 2 + ["2025-Q1", "2025-Q2", "2025-Q3"],
            "label": ["late"] * 3 + ["price"] * 3 + ["never"] * 3,
            "comments": [10, 30, None, 5, 6, 7, 0, 0, 0],
            "share": [0.1, 0.3, None, 0.05, 0.06, 0.07, 0.0, 0.0, 0.0],
            "p_value": [None, 0.001, None, None, 0.5, 0.2, None, None, None],
        }
    )

    option = charts.theme_trend(trend).option

    assert option["xAxis"]["data"] == ["2025-Q1", "2025-Q2", "2025-Q3"]
    # A theme without a comment in any period has no line.
    late, price = option["series"]
    assert [late["name"], price["name"]] == ["late", "price"]
    first, jump, hidden = late["data"]
    assert (first["value"], first["symbol"], first["symbolSize"]) == (10.0, "emptyCircle", 6)
    assert (jump["value"], jump["symbol"], jump["symbolSize"]) == (30.0, "circle", 10)
    assert hidden is None and late["connectNulls"] is False
    assert jump["tooltip"]["formatter"] == "<b>late</b><br>2025-Q2: 30.0% of comments"
    assert late["itemStyle"]["color"] != price["itemStyle"]["color"]
    assert option["yAxis"]["min"] == 0


def test_theme_heatmap_leaves_hidden_cells_empty_and_lists_the_first_theme_on_top():
    grid = pl.DataFrame(
        {
            "label": ["late"] * 3 + ["<i>rude</i>"] * 3,
            "nps_group": ["detractor", "passive", "promoter"] * 2,
            "share": [0.6, 0.2, None, 0.4, 0.8, 0.1],
        }
    )

    chart = charts.theme_heatmap(grid)

    option = chart.option
    assert option["xAxis"]["data"] == ["Detractors", "Passives", "Promoters"]
    assert option["yAxis"]["data"] == ["late", "<i>rude</i>"] and option["yAxis"]["inverse"]
    cells = {tuple(c["value"][:2]): c for c in option["series"][0]["data"]}
    # The promoters' share of "late" is hidden: no cell, rather than a cell of 0 %.
    assert sorted(cells) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 1)]
    assert [cells[(0, 0)]["value"][2], cells[(0, 0)]["label"]["formatter"]] == [60.0, "60%"]
    assert cells[(1, 1)]["tooltip"]["formatter"] == (
        "<b>&lt;i&gt;rude&lt;/i&gt;</b><br>80.0% of passives' comments"
    )
    assert option["visualMap"]["show"] is False and option["visualMap"]["max"] == 80.0
    # Labels read white on the dark half of the colours, dark on the light half.
    assert cells[(1, 1)]["label"]["color"] == "#ffffff"
    assert cells[(2, 1)]["label"]["color"] != "#ffffff"


def test_sentiment_bars_are_red_below_zero_and_nps_has_its_own_axis():
    trend = pl.DataFrame(
        {
            "period": ["2025-01", "2025-02", "2025-03"],
            "sentiment": [0.25, -0.1, None],
            "nps": [30.0, None, -12.5],
        }
    )

    option = charts.sentiment_chart(trend).option

    bars, line = option["series"]
    assert [b and (b["value"], b["itemStyle"]["color"]) for b in bars["data"]] == [
        (0.25, charts.PALETTE[0]), (-0.1, charts.NEGATIVE_COLOUR), None
    ]  # fmt: skip
    assert [p and p["value"] for p in line["data"]] == [30.0, None, -12.5]
    assert line["yAxisIndex"] == 1 and line["connectNulls"] is False
    left, right = option["yAxis"]
    assert (left["name"], left["min"], left["max"]) == ("Mean sentiment", -1, 1)
    assert (right["name"], right["min"], right["max"]) == ("NPS", -100, 100)
    assert bars["data"][1]["tooltip"]["formatter"] == "<b>2025-02</b><br>Mean sentiment: -0.10"
    assert line["data"][2]["tooltip"]["formatter"] == "<b>2025-03</b><br>NPS: -12.5"


def test_driver_quadrant_draws_each_quadrant_and_the_averages():
    table = pl.DataFrame(
        {
            "importance": [0.6, 0.3, 0.03, 0.06, 0.01],
            "performance": [0.5, 0.9, 0.7, 0.705, None],
            "quadrant": ["fix first", "keep up", "nice to have", "nice to have", None],
        }
    )
    labels = ["Speed", "Quality", "Website ease rating", "Value for money", "Channel"]

    option = charts.driver_quadrant(table, labels).option

    series = {s["name"]: s for s in option["series"]}
    assert list(series) == ["Fix first", "Keep up", "Nice to have"]  # a category has none
    assert [p["name"] for p in series["Nice to have"]["data"]] == labels[2:4]
    speed = series["Fix first"]["data"][0]
    assert speed["value"] == [60.0, 50.0] and speed["label"]["position"] == "left"
    assert speed["tooltip"]["formatter"] == "<b>Speed</b><br>Importance 60%, performance 50%"
    assert series["Keep up"]["data"][0]["label"] == {"position": "right"}
    # "Website ease rating" would run over the marker beside it: it goes above or below.
    website, value = series["Nice to have"]["data"]
    assert website["label"]["position"] in ("top", "bottom") and website["label"]["align"] == "left"
    assert value["label"] == {"position": "right"}
    lines = option["series"][0]["markLine"]["data"]
    assert [round(v, 6) for line in lines for v in line.values()] == [20.0, 70.125]
    assert option["xAxis"]["min"] < 0 < 60 < option["xAxis"]["max"]
