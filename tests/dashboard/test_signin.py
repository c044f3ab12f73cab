"""Sign-in (AppTest): local accounts gate every page, roles decide which pages exist, sessions
expire; without accounts, single-user local mode says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from apptest_helpers import APP, metrics
from streamlit.testing.v1 import AppTest

from analytics import audit
from analytics.accounts import AccountStore

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(tiny_warehouse, tmp_path, monkeypatch) -> AccountStore:
    store = AccountStore(tmp_path / "accounts.toml")
    store.add("vera", "viewer", PASSWORD)
    store.add("ana", "analyst", PASSWORD)
    return store


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def test_without_accounts_single_user_mode_says_so(tiny_warehouse):
    at = AppTest.from_file(str(APP), default_timeout=60).run()

    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith(":material/lock_open: Single-user local mode") for c in captions)
    assert metrics(at)["Orders"] == "3"


def test_with_accounts_nothing_shows_before_sign_in(accounts):
    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert at.title[0].value == "Sign in to Touchpoint"
    assert not at.metric
    with pytest.raises(Exception, match="Could not find"):
        at.switch_page("views/overview.py").run()


def test_wrong_password_is_refused_without_saying_which_part(accounts):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", "nope nope nope")

    assert at.error[0].value == "Wrong user name or password\\."
    assert at.title[0].value == "Sign in to Touchpoint"


def test_an_analyst_gets_the_data_page_and_a_viewer_does_not(accounts, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")
    analyst = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", PASSWORD)
    assert metrics(analyst)["Orders"] == "3"
    analyst.switch_page("views/data.py").run()
    assert analyst.title[0].value == "Data"

    viewer = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "vera", PASSWORD)
    assert metrics(viewer)["Orders"] == "3"
    assert "Signed in as **vera** (viewer)" in [c.value for c in viewer.sidebar.caption]
    with pytest.raises(Exception, match="Could not find"):
        viewer.switch_page("views/data.py").run()


def test_a_viewer_cannot_download_customer_lists(accounts, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "vera", PASSWORD)
    at.switch_page("views/kpis.py")
    at.query_params["kpi"] = "revenue"
    at.query_params["grain"] = "quarter"
    at.query_params["at"] = "2025-Q2"
    at.run()

    assert at.dataframe[0].value["customer_id"].to_list() == ["C1", "C3", "C2"]
    labels = [b.label for b in at.get("download_button")]
    assert "Download customers (CSV)" not in labels


def test_sign_out_and_session_expiry(accounts):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", PASSWORD)
    at.button(key="signout").click().run()
    assert at.title[0].value == "Sign in to Touchpoint"
    assert at.info[0].value == "You have signed out."

    at = sign_in(at, "ana", PASSWORD)
    at.session_state["signed_in_at"] = datetime.now(UTC) - timedelta(minutes=481)
    at.run()
    assert at.title[0].value == "Sign in to Touchpoint"
    assert at.info[0].value == "Your session has expired; please sign in again."


def test_unsecured_mode_refuses_a_network_address(tiny_warehouse):
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()  # first run with the project's config (localhost) works
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    try:
        at.run()
    finally:
        config.set_option("server.address", "localhost")

    assert "without sign-in" in at.error[0].value
    assert not at.metric


def test_a_damaged_accounts_file_stops_with_its_message_not_single_user_mode(
    tiny_warehouse, tmp_path
):
    (tmp_path / "accounts.toml").write_text("[users.ana]\nrole = 'boss'\n", encoding="utf-8")

    at = AppTest.from_file(str(APP), default_timeout=60).run()

    assert not at.exception
    assert len(at.error) == 1 and not at.metric
    assert "Single-user" not in " ".join(c.value for c in at.sidebar.caption)


def test_a_viewer_limited_to_one_country_sees_only_it_through_every_path(accounts, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")  # the tiny company's groups are all small
    accounts.set_limits("vera", {"country": ["US"]})
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "vera", PASSWORD)

    # Overview: US customers C2 and C3 only (O2 80.50 + O3 99.25), and US in the filter menu.
    values = metrics(at)
    assert (values["Orders"], values["Revenue"], values["Active customers"]) == (
        "2",
        "$179.75",
        "2",
    )
    assert at.multiselect(key="country").options == ["US"]

    # A link to another country's customer: not found, nothing shown.
    at.switch_page("views/customer.py")
    at.query_params["customer"] = "C1"
    at.run()
    assert not at.exception
    assert "Ada" not in " ".join(t.value for t in at.title)
    assert at.warning, "an unknown customer is reported"

    # A drill from a link: only US customers, with their names masked for a viewer.
    at.switch_page("views/kpis.py")
    at.query_params.clear()
    for name, value in {"kpi": "revenue", "grain": "quarter", "at": "2025-Q2"}.items():
        at.query_params[name] = value
    at.run()
    listed = at.dataframe[0].value
    assert listed["customer_id"].to_list() == ["C3", "C2"]
    assert set(listed["name"].to_list()) == {"•••"}


def test_an_analyst_sees_names(accounts):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", PASSWORD)
    at.switch_page("views/customer.py")
    at.query_params["customer"] = "C1"
    at.run()

    assert at.title[0].value == "Ada Lovelace"


def test_sign_ins_refusals_sign_outs_and_downloads_are_audited(accounts, tiny_warehouse):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", "wrong password!")
    at = sign_in(at, "ana", PASSWORD)
    at.switch_page("views/kpis.py")
    at.query_params["kpi"] = "orders"
    at.query_params["grain"] = "month"
    at.session_state["kpi_numbers"] = True  # the numbers behind the chart, opened
    at.run()
    csv_button = next(b for b in at.get("download_button") if b.label == "Download CSV")
    csv_button.click().run()
    at.button(key="signout").click().run()

    log = audit.read_log(tiny_warehouse.root).filter(pl.col("event") != "load")
    assert log["event"].to_list() == ["sign_out", "export", "sign_in", "sign_in_refused"]
    assert log["user"].to_list() == ["ana"] * 4
    assert log["details"][1] == "file=touchpoint-orders-by-month.csv, rows=2"


def test_only_an_admin_gets_the_admin_page_and_can_limit_an_account(accounts, tiny_warehouse):
    accounts.add("root", "admin", PASSWORD)
    analyst = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", PASSWORD)
    with pytest.raises(Exception, match="Could not find"):
        analyst.switch_page("views/admin.py").run()

    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "root", PASSWORD)
    at.switch_page("views/admin.py").run()
    assert at.title[0].value == "Admin"
    assert at.dataframe[0].value["Name"].to_list() == ["ana", "root", "vera"]

    at.selectbox(key="admin_account").set_value("vera").run()
    at.multiselect(key="limit_country").set_value(["US"])  # inside the form: sent on Save
    next(b for b in at.button if b.label == "Save").click().run()

    assert not at.exception, at.exception
    assert accounts.require("vera").limits == (("country", ("US",)),)
    log = audit.read_log(tiny_warehouse.root)
    assert log["event"][0] == "access_change" and log["user"][0] == "root"


def test_in_single_user_mode_the_admin_page_adds_the_first_account(tiny_warehouse, tmp_path):
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.switch_page("views/admin.py").run()
    assert "No accounts yet" in at.info[0].value

    inputs = {t.label: t for t in at.text_input}
    inputs["User name"].input("root")
    inputs["Password (12 characters or more)"].input(PASSWORD)
    next(b for b in at.button if b.label == "Add account").click().run()

    assert AccountStore(tmp_path / "accounts.toml").require("root").role == "admin"
    assert at.title[0].value == "Sign in to Touchpoint"


def test_a_viewer_sees_no_value_from_fewer_customers_than_the_minimum(accounts):
    # TOUCHPOINT_MIN_GROUP defaults to 5; the tiny company's quarter has 3 active customers.
    viewer = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "vera", PASSWORD)
    analyst = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "ana", PASSWORD)

    assert metrics(viewer)["Orders"] == "Hidden"
    assert "Hidden: fewer than 5 customers." in [c.value for c in viewer.caption]
    assert metrics(analyst)["Orders"] == "3"


def test_a_viewer_sees_no_list_of_too_few_customers(accounts):
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60).run(), "vera", PASSWORD)
    at.switch_page("views/kpis.py")
    for name, value in {"kpi": "revenue", "grain": "quarter", "at": "2025-Q2"}.items():
        at.query_params[name] = value
    at.run()

    captions = [c.value for c in at.caption]
    assert "No customer list: fewer than 5 customers." in captions
    assert "1 value is hidden from you: fewer than 5 customers (1)." in captions
    assert "Download customers (CSV)" not in [b.label for b in at.get("download_button")]
