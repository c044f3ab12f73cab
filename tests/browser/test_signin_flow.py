"""Sign-in in a real browser: refused, signed in, signed out."""

from __future__ import annotations

from browser_helpers import screenshot, sign_in, wait_for_app
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


def test_a_sign_in_lasts_across_reloads_and_tabs_until_signing_out(
    tiny_warehouse, start_app, page, chromium, tmp_path
):
    AccountStore(tmp_path / "accounts.toml").add("ana", "analyst", "correct horse battery")
    url = start_app(tiny_warehouse.root)
    page.goto(url)
    wait_for_app(page)
    sign_in(page, "ana", "correct horse battery")
    cookie = next(c for c in page.context.cookies() if c["name"] == "touchpoint_session")
    assert cookie["sameSite"] == "Strict"

    page.reload()
    wait_for_app(page)
    expect(page.get_by_text("Signed in as")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(9)
    tab = page.context.new_page()  # another tab of the same browser
    tab.goto(url + "/kpis")
    wait_for_app(tab)
    expect(tab.get_by_text("Signed in as")).to_be_visible()

    elsewhere = chromium.new_context()  # another browser: not signed in by this one
    other = elsewhere.new_page()
    other.goto(url)
    wait_for_app(other)
    expect(other.get_by_role("heading", name="Sign in to Touchpoint")).to_be_visible()
    sign_in(other, "ana", "correct horse battery")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.reload()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in to Touchpoint")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "touchpoint_session"]
    other.reload()  # signing out signed ana out in the other browser too
    wait_for_app(other)
    expect(other.get_by_role("heading", name="Sign in to Touchpoint")).to_be_visible()
    elsewhere.close()


def test_a_forged_session_cookie_gets_the_sign_in_page(tiny_warehouse, start_app, page, tmp_path):
    AccountStore(tmp_path / "accounts.toml").add("ana", "admin", "correct horse battery")
    url = start_app(tiny_warehouse.root)
    host = url.split("//", 1)[1].split(":", 1)[0]
    forged = "eyJ1IjoiYW5hIiwiZiI6IjAiLCJnIjowfQ.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb"
    page.context.add_cookies(
        [{"name": "touchpoint_session", "value": forged, "domain": host, "path": "/"}]
    )
    page.goto(url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Sign in to Touchpoint")).to_be_visible()
    expect(page.get_by_test_id("stMetric")).to_have_count(0)
