"""Sign-in through an identity provider (Streamlit's OIDC): roles from claims or mappings."""

from __future__ import annotations

import pytest
from apptest_helpers import APP, metrics
from streamlit.testing.v1 import AppTest

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-long-random-cookie-secret-for-tests-only",
    "client_id": "touchpoint",
    "client_secret": "secret",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}
OIDC = {
    "groups_claim": "groups",
    "emails": {"ana@example.com": "analyst"},
    "groups": {"cx-admins": "admin"},
    "limits": {"vera@example.com": {"country": ["US"]}},
}


def app(user: dict[str, object] | None, oidc: dict[str, object] = OIDC) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["touchpoint"] = {"oidc": oidc}
    for key, value in (user or {}).items():
        at.user[key] = value
    return at.run()


def test_not_signed_in_with_the_provider_shows_only_its_button(tiny_warehouse):
    at = app(None)

    assert at.title[0].value == "Sign in to Touchpoint"
    assert [b.label for b in at.button] == ["Sign in with your organisation"]
    assert not at.metric


def test_an_email_mapped_to_analyst_gets_the_data_page(tiny_warehouse):
    at = app({"is_logged_in": True, "email": "Ana@Example.com"})

    assert metrics(at)["Orders"] == "3"
    at.switch_page("views/data.py").run()
    assert at.title[0].value == "Data"


def test_a_group_gives_admin(tiny_warehouse):
    at = app({"is_logged_in": True, "email": "boss@example.com", "groups": ["cx-admins"]})

    at.switch_page("views/admin.py").run()
    assert at.title[0].value == "Admin"


def test_someone_without_a_role_gets_no_data(tiny_warehouse):
    at = app({"is_logged_in": True, "email": "stranger@example.com"})

    assert not at.metric
    assert "has no role in Touchpoint" in at.warning[0].value
    with pytest.raises(Exception, match="Could not find"):
        at.switch_page("views/overview.py").run()


def test_a_default_role_and_limits_apply(tiny_warehouse, monkeypatch):
    monkeypatch.setenv("TOUCHPOINT_MIN_GROUP", "1")
    at = app(
        {"is_logged_in": True, "email": "vera@example.com"}, {**OIDC, "default_role": "viewer"}
    )

    # Limited to the US: O2 80.50 and O3 99.25; no Data page for a viewer.
    assert (metrics(at)["Orders"], metrics(at)["Revenue"]) == ("2", "$179.75")
    with pytest.raises(Exception, match="Could not find"):
        at.switch_page("views/data.py").run()
