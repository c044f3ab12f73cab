"""What each role may use: pages (registered or not), downloads and personal data."""

from __future__ import annotations

import pytest
from apptest_helpers import APP
from streamlit.testing.v1 import AppTest

from analytics.accounts import AccountStore

PASSWORD = "correct horse battery"
PAGES = {
    "views/overview.py": "Overview",
    "views/kpis.py": "KPIs",
    "views/retention.py": "Retention",
    "views/customer.py": "Customer 360",
    "views/review.py": "Quarterly review",
    "views/data.py": "Data",
    "views/admin.py": "Admin",
}
# role -> pages it may open; "local" is the single-user mode without accounts.
ALLOWED = {
    "viewer": {"Overview", "KPIs", "Retention", "Customer 360", "Quarterly review"},
    "analyst": {"Overview", "KPIs", "Retention", "Customer 360", "Quarterly review", "Data"},
    "admin": {"Overview", "KPIs", "Retention", "Customer 360", "Quarterly review", "Data", "Admin"},
    "local": {"Overview", "KPIs", "Retention", "Customer 360", "Quarterly review", "Data", "Admin"},
}


def signed_in(role: str, tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")
    at = AppTest.from_file(str(APP), default_timeout=60)
    if role == "local":
        return at.run()
    AccountStore(tmp_path / "accounts.toml").add("someone", role, PASSWORD)
    at.run()
    at.text_input(key="signin_name").input("someone")
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("role", list(ALLOWED))
@pytest.mark.parametrize("page", list(PAGES))
def test_pages_by_role(tiny_warehouse, tmp_path, monkeypatch, role, page):
    at = signed_in(role, tmp_path, monkeypatch)

    if PAGES[page] in ALLOWED[role]:
        at.switch_page(page).run()
        assert not at.exception, at.exception
        assert at.title[0].value in (PAGES[page], "Customer 360")
    else:
        with pytest.raises(Exception, match="Could not find"):
            at.switch_page(page).run()


@pytest.mark.parametrize(
    ("role", "customer_download", "names_visible"),
    [
        ("viewer", False, False),
        ("analyst", True, True),
        ("admin", True, True),
        ("local", True, True),
    ],
)
def test_downloads_and_personal_data_by_role(
    tiny_warehouse, tmp_path, monkeypatch, role, customer_download, names_visible
):
    at = signed_in(role, tmp_path, monkeypatch)
    at.switch_page("views/kpis.py")
    for name, value in {"kpi": "revenue", "grain": "quarter", "at": "2025-Q2"}.items():
        at.query_params[name] = value
    at.session_state["kpi_numbers"] = True  # the numbers behind the chart, opened
    at.run()

    labels = [b.label for b in at.get("download_button")]
    assert {"Download CSV", "Download Excel"} <= set(labels)  # aggregates: everyone
    assert ("Download customers (CSV)" in labels) is customer_download
    names = set(at.dataframe[0].value["name"].to_list())
    assert (names == {"•••"}) is not names_visible
