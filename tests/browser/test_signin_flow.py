"""Sign-in in a real browser: refused, signed in, signed out."""

from __future__ import annotations

from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect

from analytics.accounts import AccountStore


def test_sign_in_then_out(tiny_warehouse, start_app, page, tmp_path):
    AccountStore(tmp_path / "accounts.toml").add("ana", "analyst", "correct horse battery")
    page.goto(start_app(tiny_warehouse.root))
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in to Touchpoint")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)

    page.get_by_label("User name").fill("ana")
    page.get_by_role("textbox", name="Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong user name or password.")).to_be_visible()
    screenshot(page, "signin-refused")

    page.get_by_role("textbox", name="Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_test_id("stMetric")).to_have_count(9)
    expect(page.get_by_text("Signed in as")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
