"""Customer 360 page (AppTest): the tiny company's C1 from the URL, search and selection,
unknown ids, customers known only from orders, and text from files shown literally.

C1 Ada Lovelace: O1 1,200.00 completed (1 Apr 2025), O4 40.00 returned (1 May 2025), survey R1
NPS 10 / CSAT 5 (5 Apr 2025 10:00). The latest day with data is 1 May 2025, 30 days after
the last completed order.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
import pytest
from apptest_helpers import APP, button, metrics
from streamlit.testing.v1 import AppTest

from analytics import derived, segments
from analytics.ingest.pipeline import ingest
from dashboard import format as fmt
from dashboard.charts.customer import STATUS_COLOURS, orders_figure

CUSTOMER = "views/customer.py"
RESULTS_KEY = "customer_results_0"  # drill.chart_key before any navigation


def open_customer_page(customer: str | None = None) -> AppTest:
    """Open the app as a browser would at /customer (optionally ?customer=...)."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if customer is not None:
        at.query_params["customer"] = customer
    at.run()
    at.switch_page(CUSTOMER).run()
    assert not at.exception, at.exception
    return at


def test_customer_from_the_url_shows_profile_cards_and_timeline(tiny_warehouse):
    segments.refresh(tiny_warehouse)  # what the app's background build does after a load
    at = open_customer_page("C1")

    assert at.title[0].value == "Ada Lovelace"
    assert at.caption[0].value == fmt.plain_text("C1 · GB · customer since 5 Jan 2025")
    assert metrics(at) == {
        "Revenue to date": "$1,200",
        "Orders": "1",
        "Average order": "$1,200",
        "Last order": "1 Apr 2025",
        "Latest NPS": "10",
        "Tickets": "0",
        "RFM segment": "Lost",
        "Behavioural cluster": "—",  # three customers are too few to cluster
        "Expected value, next year": "—",
    }
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["Orders"] == "1 returned"
    assert deltas["Last order"] == "30 days ago"
    assert deltas["Latest NPS"] == "promoter"
    helps = {m.label: m.help for m in at.metric}
    assert "$1,200.00" in helps["Revenue to date"]
    assert "1 May 2025, the latest day with data" in helps["Last order"]

    timeline = at.dataframe[0].value
    assert timeline["kind"].tolist() == ["order", "survey", "order"]
    assert timeline["title"].tolist() == [
        "Order O4 · returned",
        "Survey · NPS 10 (promoter) · CSAT 5",
        "Order O1 · completed",
    ]
    assert timeline["at"].tolist() == [
        datetime(2025, 5, 1),
        datetime(2025, 4, 5, 10),
        datetime(2025, 4, 1),
    ]
    assert timeline["amount"].tolist()[::2] == [40.0, 1200.0]
    assert not at.warning and not at.error


def test_the_orders_chart_shows_each_order_at_its_date_by_status(tiny_warehouse):
    at = open_customer_page("C1")

    option = json.loads(at.get("echarts_chart")[0].proto.spec)
    completed, returned = option["series"]
    assert (completed["name"], returned["name"]) == ("Completed", "Returned")
    assert [bar["value"] for bar in completed["data"]] == [["2025-04-01", 1200.0]]
    assert [bar["value"] for bar in returned["data"]] == [["2025-05-01", 40.0]]
    assert returned["itemStyle"]["color"] == STATUS_COLOURS["returned"]
    # A month apart: the axis spans 30 days, with 15 either side.
    assert (option["xAxis"]["min"], option["xAxis"]["max"]) == ("2025-03-17", "2025-05-16")
    assert option["yAxis"]["axisLabel"] == {"formatter": "${value}"}


def test_timeline_kinds_can_be_narrowed(tiny_warehouse):
    at = open_customer_page("C1")
    at.session_state["timeline_kinds"] = ["survey"]
    at.run()

    assert at.dataframe[0].value["title"].tolist() == ["Survey · NPS 10 (promoter) · CSAT 5"]


@pytest.mark.parametrize("customer", ["C99", "x' OR 1=1 --", "**bold**"])
def test_unknown_id_warns_and_offers_the_search(tiny_warehouse, customer):
    at = open_customer_page(customer)

    assert at.warning[0].value.startswith(f"No customer has the id {fmt.plain_text(customer)} ")
    assert at.text_input(key="customer_search")
    assert not at.metric and not at.error


def test_search_then_selection_opens_the_customer(tiny_warehouse):
    at = open_customer_page()
    assert at.title[0].value == "Customer 360"
    assert at.dataframe[0].value["customer_id"].tolist() == ["C1", "C3", "C2"]  # by revenue

    at.text_input(key="customer_search").input("grace").run()
    assert at.dataframe[0].value["customer_id"].tolist() == ["C2"]

    at.session_state[RESULTS_KEY] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()

    assert not at.exception, at.exception
    assert at.query_params["customer"] == "C2"
    assert at.title[0].value == "Grace Hopper"
    assert metrics(at)["Revenue to date"] == "$80.50"


def test_back_to_search_removes_the_customer_from_the_url(tiny_warehouse):
    at = open_customer_page("C1")

    button(at, "Back to search").click().run()

    assert "customer" not in at.query_params
    assert at.title[0].value == "Customer 360"
    assert at.text_input(key="customer_search")
    assert not at.metric


def test_search_without_matches_says_so(tiny_warehouse):
    at = open_customer_page()
    at.text_input(key="customer_search").input("100%").run()

    assert not at.dataframe
    assert "No customer matches" in at.info[0].value


def test_customer_known_only_from_orders(tiny_warehouse):
    ingest(
        b"order_id,customer_id,order_date,amount\nO9,C9,2025-04-02,12.50\n",
        dataset_name="orders",
        warehouse=tiny_warehouse,
        file_name="more.csv",
        user="t",
    )
    at = open_customer_page("C9")

    assert at.title[0].value == "C9"
    assert "Not in the customers dataset" in at.caption[0].value
    assert metrics(at)["Revenue to date"] == "$12.50"
    assert metrics(at)["Latest NPS"] == fmt.MISSING


def test_names_from_files_are_shown_literally(tiny_warehouse):
    ingest(
        b"customer_id,name\nC7,**Evil** [link](http://x) <b>hi</b>\n",
        dataset_name="customers",
        warehouse=tiny_warehouse,
        file_name="more.csv",
        user="t",
    )
    at = open_customer_page("C7")

    assert at.title[0].value == fmt.plain_text("**Evil** [link](http://x) <b>hi</b>")


def test_empty_warehouse_shows_a_friendly_message(warehouse_dir):
    at = open_customer_page("C1")

    assert "No data is loaded yet" in at.info[0].value
    assert not at.error and not at.warning


def test_drilled_from_a_kpi_the_breadcrumb_leads_back_step_by_step(tiny_warehouse):
    at = AppTest.from_file(str(APP), default_timeout=60)
    for name, value in {
        "customer": "C1",
        "kpi": "revenue",
        "grain": "quarter",
        "at": "2025-Q2",
        "split": "country",
        "group": "GB",
    }.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(CUSTOMER).run()

    crumbs = [b.label for b in at.button if b.key and b.key.startswith("customer_crumb_")]
    assert crumbs == ["Revenue by quarter", "2025-Q2", "GB"]
    assert "Back to search" not in [b.label for b in at.button]

    at.button(key="customer_crumb_1").click().run()

    assert not at.exception, at.exception
    assert at.title[0].value == "KPIs"
    assert [s.value for s in at.main.subheader] == ["Revenue in 2025-Q2"]
    assert "customer" not in at.query_params and "group" not in at.query_params


def test_without_a_kpi_in_the_url_there_is_only_the_way_back_to_search(tiny_warehouse):
    at = open_customer_page("C1")

    assert [b.label for b in at.button if b.label.startswith("Back")] == ["Back to search"]


def orders(*rows: tuple[str, date, float, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["order_id", "order_date", "amount", "status", "product"], orient="row"
    )


def test_orders_chart_tooltips_show_text_from_files_literally():
    chart = orders_figure(
        orders(
            ("O<1>", date(2025, 4, 1), 12.5, "completed", "<b>Tea</b> {a} & {c}"),
            ("O2", date(2025, 4, 3), 8.0, "cancelled", None),
        )
    )

    completed, cancelled = chart.option["series"]
    assert completed["data"][0]["tooltip"]["formatter"] == (
        "<b>Order O&lt;1&gt;</b><br>01 Apr 2025 · completed<br>$12.50<br>"
        "&lt;b&gt;Tea&lt;/b&gt; &#123;a&#125; &amp; &#123;c&#125;"
    )
    # No product: no line for it.
    assert cancelled["data"][0]["tooltip"]["formatter"].endswith("cancelled<br>$8.00")
    assert cancelled["name"] == "Cancelled"


def test_orders_years_apart_stay_visible_and_orders_on_a_day_overlap():
    close = orders_figure(orders(("O1", date(2025, 4, 1), 10.0, "completed", None)))
    apart = orders_figure(
        orders(
            ("O1", date(2022, 1, 1), 10.0, "completed", None),
            ("O2", date(2025, 1, 1), 30.0, "returned", None),
        )
    )

    (one,) = close.option["series"]
    assert one["barWidth"] == 33  # a day of the 30 shown (15 either side)
    first, second = apart.option["series"]
    assert first["barWidth"] == second["barWidth"] == 6  # 1/150 of three years, not a day
    assert first["barGap"] == "-100%"  # statuses overlaid, not side by side
    assert apart.option["xAxis"]["min"] == "2021-11-30"  # 3 % of the span before (33 days)


def test_no_orders_no_bars():
    assert orders_figure(orders()).option["series"] == []


EARLIER = "Segment, cluster and value as of the data before the latest load"


def test_after_an_append_the_segment_cards_say_they_are_of_the_data_before_it(
    tiny_warehouse, monkeypatch
):
    # The background build started by the app is held back: the new data's is "being made".
    monkeypatch.setattr(derived, "refresh_rest", lambda *args, **kwargs: {})
    segments.refresh(tiny_warehouse)
    at = open_customer_page("C2")
    assert metrics(at)["RFM segment"] == "Hibernating"
    assert not any(EARLIER in c.value for c in at.caption)
    # Two more orders of C2 in May: C2 is scored again, from Hibernating to Loyal.
    more = (
        b"order_id,customer_id,order_date,amount,status\n"
        b"O8,C2,2025-05-09,900,\nO9,C2,2025-05-10,900,\n"
    )
    assert ingest(more, dataset_name="orders", warehouse=tiny_warehouse, user="tester").loaded

    at = open_customer_page("C2")

    assert metrics(at)["RFM segment"] == "Hibernating"  # the segmentation before the append
    assert metrics(at)["Orders"] == "3"  # the profile is of the current data
    assert [c.value for c in at.caption if EARLIER in c.value] == [
        f"{EARLIER}, which added rows: the update for the new data is being prepared."
    ]

    segments.refresh(tiny_warehouse)  # the background build is done
    at = open_customer_page("C2")

    assert metrics(at)["RFM segment"] == "Loyal"
    assert not any(EARLIER in c.value for c in at.caption)
