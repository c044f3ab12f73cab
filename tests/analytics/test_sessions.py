"""Remembered sign-ins: which session tokens are honoured, and which refused."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest

from analytics.accounts import AccountStore
from analytics.sessions import KEY_FILE, SessionSigner

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
MINUTES = 480


@pytest.fixture
def store(tmp_path) -> AccountStore:
    accounts = AccountStore(tmp_path / "accounts.toml")
    accounts.add("ana", "analyst", "correct horse battery")
    accounts.add("bo", "viewer", "another long password")
    return accounts


@pytest.fixture
def signer(tmp_path) -> SessionSigner:
    return SessionSigner(tmp_path / "_auth")


def _verify(signer, store, token, *, after=timedelta(minutes=5)):
    return signer.verify(token, store, now=NOW + after, minutes=MINUTES)


def test_a_token_names_its_account_and_when_it_signed_in(signer, store):
    token = signer.issue(store.require("ana"), NOW)
    account, issued = _verify(signer, store, token)
    assert (account.name, account.role, issued) == ("ana", "analyst", NOW)


def test_the_role_and_limits_come_from_the_accounts_file_not_the_token(signer, store):
    token = signer.issue(store.require("ana"), NOW)
    store.set_role("ana", "viewer")
    store.set_limits("ana", {"region": ["EMEA"]})
    account, _ = _verify(signer, store, token)
    assert (account.role, account.limits) == ("viewer", (("region", ("EMEA",)),))


@pytest.mark.parametrize(
    ("after", "valid"),
    [
        (timedelta(minutes=MINUTES - 1), True),
        (timedelta(minutes=MINUTES), False),  # as `session_expired`: the length is exclusive
        (timedelta(days=30), False),
    ],
)
def test_a_token_lasts_the_session_length(signer, store, after, valid):
    token = signer.issue(store.require("ana"), NOW)
    assert (_verify(signer, store, token, after=after) is not None) is valid


def test_a_changed_password_or_a_removed_account_ends_the_session(signer, store):
    ana = signer.issue(store.require("ana"), NOW)
    bo = signer.issue(store.require("bo"), NOW)
    store.set_password("ana", "a brand new password")
    store.remove("bo")
    assert _verify(signer, store, ana) is None
    assert _verify(signer, store, bo) is None


def test_signing_out_ends_every_session_of_that_user_only(signer, store):
    first = signer.issue(store.require("ana"), NOW)
    second = signer.issue(store.require("ana"), NOW + timedelta(minutes=1))
    bo = signer.issue(store.require("bo"), NOW)
    signer.sign_out("ANA")  # names match case-insensitively
    assert _verify(signer, store, first) is None
    assert _verify(signer, store, second) is None
    assert _verify(signer, store, bo) is not None
    again = signer.issue(store.require("ana"), NOW + timedelta(minutes=2))  # same second works
    assert _verify(signer, store, again) is not None


@pytest.mark.parametrize(
    "mangle",
    [
        # The signature's first character (its last one carries unused bits: changing it
        # can leave the decoded signature the same).
        lambda t: _flip(t, t.rindex(".") + 1),
        lambda t: "eyJ1IjoiYm8ifQ" + t[t.index(".") :],  # payload swapped for {"u": "bo"}
        lambda t: t.split(".")[0],  # no signature at all
        lambda t: "",
        lambda t: "not a token",
    ],
    ids=["signature", "payload", "unsigned", "empty", "garbage"],
)
def test_a_tampered_token_is_refused(signer, store, mangle):
    token = signer.issue(store.require("ana"), NOW)
    assert _verify(signer, store, mangle(token)) is None


def test_a_token_of_another_warehouse_is_refused(signer, store, tmp_path):
    token = SessionSigner(tmp_path / "elsewhere").issue(store.require("ana"), NOW)
    assert _verify(signer, store, token) is None


def test_the_key_is_private_and_made_once_even_by_concurrent_first_uses(signer, store):
    tokens: list[str] = []
    threads = [
        threading.Thread(target=lambda: tokens.append(signer.issue(store.require("ana"), NOW)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 1  # one key: the same token from every thread
    key = signer.state_dir / KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(key.read_bytes()) == 32
    assert not [p for p in signer.state_dir.iterdir() if p.name.startswith(".")]


def _flip(token: str, index: int) -> str:
    swapped = "B" if token[index] == "A" else "A"
    return token[:index] + swapped + token[index + 1 :]
