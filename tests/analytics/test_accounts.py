"""Local accounts: password hashes, the accounts file, lock-out after failed sign-ins, expiry.

scrypt runs at the production cost (~0.1 s a hash), so each test hashes only a few times.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import re
import stat
import threading
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics import accounts as accounts_module
from analytics.accounts import (
    CAPABILITIES,
    ROLES,
    Account,
    AccountStore,
    AuthError,
    SignInGuard,
    account_from_identity,
    hash_password,
    session_expired,
    verify_password,
)
from analytics.errors import ConfigError, TouchpointError

PASSWORD = "correct horse battery"
T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
WRONG = "Wrong user name or password."


@pytest.fixture(scope="module")
def known_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def store(tmp_path: Path) -> AccountStore:
    store = AccountStore(tmp_path / "accounts.toml")
    store.add("ada", "analyst", PASSWORD)
    return store


@pytest.fixture
def guard(tmp_path: Path) -> SignInGuard:
    return SignInGuard(tmp_path / "auth")


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def fail(guard: SignInGuard, store: AccountStore, name: str, at: datetime) -> str:
    with pytest.raises(AuthError) as caught:
        guard.authenticate(store, name, "not the password", now=at)
    return str(caught.value)


# ----- password hashes --------------------------------------------------------------------------


def test_hash_format_and_verification(known_hash):
    scheme, n, r, p, salt, digest = known_hash.split("$")
    assert (scheme, n, r, p) == ("scrypt", "32768", "8", "1")
    assert len(base64.b64decode(salt, validate=True)) == 16
    assert len(base64.b64decode(digest, validate=True)) == 64
    assert verify_password(PASSWORD, known_hash)
    assert not verify_password(PASSWORD + " ", known_hash)


def test_same_password_gets_a_different_salt_each_time(known_hash):
    again = hash_password(PASSWORD)
    assert again.split("$")[4] != known_hash.split("$")[4]
    assert again != known_hash
    assert verify_password(PASSWORD, again)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: "",
        lambda h: "scrypt",
        lambda h: h.replace("scrypt$", "bcrypt$"),
        lambda h: h + "$extra",
        lambda h: h.replace("$32768$", "$30000$"),  # not a power of two
        lambda h: h.replace("$32768$", "$1073741824$"),  # would take minutes
        lambda h: h.replace("$8$1$", "$8$1000$"),
        lambda h: h.replace("$8$", "$eight$"),
        lambda h: h.rsplit("$", 1)[0] + "$not base64!",
        lambda h: h.rsplit("$", 1)[0] + "$" + base64.b64encode(b"short").decode(),
        lambda h: h.split("$", 5)[0] + "$32768$8$1$$" + h.rsplit("$", 1)[1],  # empty salt
    ],
    ids=[
        "empty",
        "scheme-only",
        "other-scheme",
        "extra-field",
        "n-not-power-of-two",
        "n-too-large",
        "p-too-large",
        "r-not-a-number",
        "digest-not-base64",
        "digest-too-short",
        "empty-salt",
    ],
)
def test_malformed_hashes_verify_false_without_raising(known_hash, mangle):
    assert verify_password(PASSWORD, mangle(known_hash)) is False


def test_a_changed_digest_fails(known_hash):
    digest = bytearray(base64.b64decode(known_hash.rsplit("$", 1)[1]))
    digest[0] ^= 1
    tampered = known_hash.rsplit("$", 1)[0] + "$" + base64.b64encode(bytes(digest)).decode()
    assert not verify_password(PASSWORD, tampered)


# ----- roles ------------------------------------------------------------------------------------

# Capability -> (viewer, analyst, admin), from the role descriptions.
EXPECTED_RIGHTS = {
    "dashboards": (True, True, True),
    "export_aggregates": (True, True, True),
    "data": (False, True, True),
    "export_customers": (False, True, True),
    "rollback": (False, True, True),
    "admin": (False, False, True),
}


@pytest.mark.parametrize("capability", sorted(EXPECTED_RIGHTS))
def test_what_each_role_can_do(capability):
    rights = tuple(Account("x", role, "").can(capability) for role in ROLES)
    assert rights == EXPECTED_RIGHTS[capability]


def test_capabilities_table_and_unknown_capability():
    assert set(CAPABILITIES) == set(EXPECTED_RIGHTS)
    with pytest.raises(KeyError, match="Unknown capability 'delete_everything'"):
        Account("x", "admin", "").can("delete_everything")


def test_repr_never_shows_the_hash():
    assert repr(Account("ada", "viewer", "scrypt$secret")) == (
        "Account(name='ada', role='viewer', limits=())"
    )


# ----- the accounts file ------------------------------------------------------------------------


def test_store_round_trip(store):
    store.add("Zoe@example.com", "viewer", "another long password")
    assert store.configured()
    assert [(a.name, a.role) for a in store.accounts()] == [
        ("ada", "analyst"),
        ("Zoe@example.com", "viewer"),
    ]
    assert store.get("zoe@EXAMPLE.com").name == "Zoe@example.com"  # names ignore letter case
    assert store.get("nobody") is None

    store.set_role("ada", "admin")
    store.set_password("ZOE@example.com", "a brand new password")
    assert store.get("ada").role == "admin"
    assert verify_password("a brand new password", store.get("Zoe@example.com").password_hash)

    document = tomllib.loads(store.path.read_text(encoding="utf-8"))
    assert set(document) == {"users"}
    assert document["users"]["ada"]["role"] == "admin"
    assert document["users"]["Zoe@example.com"]["password_hash"].startswith("scrypt$32768$8$1$")

    store.remove("ada")
    store.remove("zoe@example.com")
    assert store.accounts() == []
    assert not store.configured()


def test_file_is_private_and_its_folder_is_created(tmp_path):
    store = AccountStore(tmp_path / "new" / "folder" / "accounts.toml")
    assert not store.configured()
    store.add("ada", "admin", PASSWORD)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    store.set_role("ada", "viewer")  # rewriting keeps it private
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_atomic_write_leaves_no_temp_file(store):
    store.set_role("ada", "viewer")
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "accounts.toml",
        "accounts.toml.lock",
    ]


def test_failed_write_keeps_the_old_file_and_no_temp_file(store, monkeypatch):
    before = store.path.read_bytes()

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        store.set_role("ada", "admin")
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == [
        "accounts.toml",
        "accounts.toml.lock",
    ]


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        (
            "a b",
            "viewer",
            PASSWORD,
            "A user name must be 1 to 64 characters of letters, digits, "
            "'.', '_', '-' or '@'. Got 'a b' instead.",
        ),
        (
            "",
            "viewer",
            PASSWORD,
            "A user name must be 1 to 64 characters of letters, digits, "
            "'.', '_', '-' or '@'. Got '' instead.",
        ),
        ("x" * 65, "viewer", PASSWORD, "A user name must be 1 to 64 characters"),
        ("zoë", "viewer", PASSWORD, "A user name must be 1 to 64 characters"),
        ("ada\n", "viewer", PASSWORD, "A user name must be 1 to 64 characters"),
        (
            "zoe",
            "boss",
            PASSWORD,
            "The role must be one of viewer, analyst, admin. Got 'boss' instead.",
        ),
        ("zoe", "viewer", "short", "A password needs at least 12 characters; this one has 5."),
        ("ADA", "viewer", PASSWORD, "A user called 'ADA' already exists in "),
    ],
    ids=["space", "empty", "too-long", "non-ascii", "newline", "role", "password", "exists"],
)
def test_add_refuses_bad_input_with_the_rule(store, name, role, password, message):
    before = store.path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        store.add(name, role, password)
    assert str(caught.value).startswith(message)
    assert caught.value.exit_code == 2
    assert store.path.read_bytes() == before


def test_longest_allowed_name_and_email(tmp_path):
    store = AccountStore(tmp_path / "accounts.toml")
    store.check_new_name("x" * 64)
    store.check_new_name("first.last-name_2@example.co.uk")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.set_password("nobody", PASSWORD),
        lambda s: s.set_role("nobody", "admin"),
        lambda s: s.remove("nobody"),
        lambda s: s.require("nobody"),
    ],
    ids=["set_password", "set_role", "remove", "require"],
)
def test_unknown_names_are_refused(store, change):
    with pytest.raises(ConfigError, match=r"^There is no user called 'nobody' in .*accounts\.toml"):
        change(store)


def test_set_role_and_password_validate_first(store):
    with pytest.raises(ConfigError, match="Got 'boss' instead"):
        store.set_role("ada", "boss")
    with pytest.raises(ConfigError, match="this one has 3"):
        store.set_password("ada", "abc")


@pytest.mark.parametrize(
    ("text", "configured"),
    [("", False), ("[users]\n", False), ('title = "team"\n', False)],
)
def test_a_file_without_accounts_is_not_configured(tmp_path, text, configured):
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    assert AccountStore(path).configured() is configured


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[users.ada\n", "cannot be read"),
        ('users = "ada"\n', "must hold [users.<name>] tables"),
        ('[users.ada]\nrole = "boss"\npassword_hash = "x"\n', "needs a role"),
        ('[users.ada]\nrole = "admin"\n', "needs a role (one of viewer, analyst, admin) and a"),
    ],
    ids=["not-toml", "not-a-table", "bad-role", "no-hash"],
)
def test_a_damaged_file_raises_instead_of_turning_sign_in_off(tmp_path, text, message):
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        AccountStore(path).configured()


def test_other_content_of_the_file_survives_a_rewrite(tmp_path, known_hash):
    path = tmp_path / "accounts.toml"
    path.write_text(
        f'title = "team"\n[users.ada]\nrole = "viewer"\npassword_hash = "{known_hash}"\n',
        encoding="utf-8",
    )
    AccountStore(path).set_role("ada", "admin")
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "title": "team",
        "users": {"ada": {"role": "admin", "password_hash": known_hash}},
    }


# ----- sign-in and lock-out ---------------------------------------------------------------------


def test_right_password_signs_in(store, guard):
    account = guard.authenticate(store, "ADA", PASSWORD, now=T0)
    assert (account.name, account.role) == ("ada", "analyst")


def test_wrong_password_and_unknown_user_get_the_same_message(store, guard):
    assert fail(guard, store, "ada", T0) == WRONG
    assert fail(guard, store, "nobody", T0) == WRONG
    assert isinstance(AuthError(WRONG), TouchpointError)
    assert AuthError(WRONG).exit_code == 2


def test_unknown_user_still_costs_one_scrypt_check(store, guard, monkeypatch):
    checked: list[str] = []
    real = accounts_module.verify_password

    def spy(password: str, encoded: str) -> bool:
        checked.append(encoded)
        return real(password, encoded)

    monkeypatch.setattr(accounts_module, "verify_password", spy)
    fail(guard, store, "nobody", T0)
    assert len(checked) == 1
    assert checked[0].startswith("scrypt$32768$8$1$")


def test_five_failures_lock_the_name_even_for_the_right_password(store, guard, monkeypatch):
    for i in range(5):
        assert fail(guard, store, "ada", minutes(i)) == WRONG
    checked: list[str] = []
    monkeypatch.setattr(accounts_module, "verify_password", lambda p, e: checked.append(e))
    with pytest.raises(AuthError) as caught:
        guard.authenticate(store, "ada", PASSWORD, now=minutes(4.5))
    assert str(caught.value) == "Too many failed sign-ins for this name; try again in 15 minutes."
    assert checked == []  # refused without checking the password
    with pytest.raises(AuthError, match=r"try again in 1 minute\.$"):
        guard.authenticate(store, "Ada", PASSWORD, now=minutes(4 + 14.5))


def test_the_lock_lifts_after_lock_minutes(store, tmp_path):
    guard = SignInGuard(tmp_path / "auth", max_failures=3, lock_minutes=10)
    for _ in range(3):
        fail(guard, store, "ada", T0)
    with pytest.raises(AuthError, match="try again in 1 minute"):
        guard.authenticate(store, "ada", PASSWORD, now=minutes(9.99))
    assert guard.authenticate(store, "ada", PASSWORD, now=minutes(10)).name == "ada"


def test_unknown_names_lock_too_so_the_lock_reveals_nothing(store, tmp_path):
    guard = SignInGuard(tmp_path / "auth", max_failures=2)
    fail(guard, store, "nobody", T0)
    fail(guard, store, "nobody", T0)
    assert fail(guard, store, "nobody", T0) == (
        "Too many failed sign-ins for this name; try again in 15 minutes."
    )


def test_failures_outside_the_window_do_not_count(store, tmp_path):
    guard = SignInGuard(tmp_path / "auth", max_failures=3, window_minutes=15)
    fail(guard, store, "ada", minutes(0))
    fail(guard, store, "ada", minutes(1))
    fail(guard, store, "ada", minutes(16))  # the first has left the window: 2 in it
    assert guard.authenticate(store, "ada", PASSWORD, now=minutes(16)).name == "ada"


def test_failures_within_the_window_add_up_across_letter_case(store, tmp_path):
    guard = SignInGuard(tmp_path / "auth", max_failures=3, window_minutes=15)
    fail(guard, store, "ada", minutes(0))
    fail(guard, store, "ADA", minutes(7))
    fail(guard, store, "Ada", minutes(14))
    with pytest.raises(AuthError, match="Too many failed sign-ins"):
        guard.authenticate(store, "ada", PASSWORD, now=minutes(14))


def test_success_resets_the_count(store, tmp_path):
    guard = SignInGuard(tmp_path / "auth", max_failures=3)
    fail(guard, store, "ada", T0)
    fail(guard, store, "ada", T0)
    guard.authenticate(store, "ada", PASSWORD, now=T0)
    fail(guard, store, "ada", T0)
    fail(guard, store, "ada", T0)
    assert guard.authenticate(store, "ada", PASSWORD, now=T0).name == "ada"


def test_failures_of_one_name_do_not_lock_another(store, tmp_path):
    guard = SignInGuard(tmp_path / "auth", max_failures=2)
    fail(guard, store, "nobody", T0)
    fail(guard, store, "nobody", T0)
    assert guard.authenticate(store, "ada", PASSWORD, now=T0).name == "ada"


def test_concurrent_failures_in_threads_all_count(store, tmp_path):
    attempts = 4
    guard = SignInGuard(tmp_path / "auth", max_failures=attempts)
    start = threading.Barrier(attempts)
    messages: list[str] = []

    def attempt() -> None:
        start.wait()
        messages.append(fail(guard, store, "ada", T0))

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert messages == [WRONG] * attempts
    with pytest.raises(AuthError, match="Too many failed sign-ins"):
        guard.authenticate(store, "ada", PASSWORD, now=T0)


def _fail_in_a_process(
    accounts_file: str, state_dir: str, attempts: int, start: Any, messages: Any
) -> None:
    guard = SignInGuard(Path(state_dir), max_failures=attempts)
    start.wait()
    try:
        guard.authenticate(AccountStore(Path(accounts_file)), "ada", "wrong password", now=T0)
        messages.put("signed in")
    except AuthError as exc:
        messages.put(str(exc))


def test_concurrent_failures_in_processes_all_count(store, tmp_path):
    attempts = 4
    context = multiprocessing.get_context("spawn")
    start, messages = context.Barrier(attempts), context.Queue()
    args = (str(store.path), str(tmp_path / "auth"), attempts, start, messages)
    processes = [context.Process(target=_fail_in_a_process, args=args) for _ in range(attempts)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * attempts
    assert [messages.get(timeout=5) for _ in range(attempts)] == [WRONG] * attempts
    guard = SignInGuard(tmp_path / "auth", max_failures=attempts)
    with pytest.raises(AuthError, match="Too many failed sign-ins"):
        guard.authenticate(store, "ada", PASSWORD, now=T0)


def test_the_state_file_forgets_old_names(store, guard):
    for i in range(3):
        fail(guard, store, f"stranger{i}", T0)
    fail(guard, store, "ada", minutes(15))  # the strangers' failures have left the window
    state = (guard.state_dir / SignInGuard.STATE_FILE).read_text(encoding="utf-8")
    assert "stranger" not in state
    assert '"ada"' in state


# ----- sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "expired"),
    [
        (timedelta(0), False),
        (timedelta(minutes=479, seconds=59, microseconds=999_999), False),
        (timedelta(minutes=480), True),
        (timedelta(minutes=481), True),
    ],
)
def test_session_expires_at_exactly_the_limit(elapsed, expired):
    assert session_expired(T0, T0 + elapsed, 480) is expired


def test_limits_round_trip_and_give_the_access(store):
    store.add("vera", "viewer", "another long password")
    store.set_limits("vera", {"region": ["EMEA", " APAC ", "EMEA"]})

    vera = store.require("vera")
    assert vera.limits == (("region", ("EMEA", "APAC")),)
    assert vera.access().limits == vera.limits and vera.access().mask_pii is True
    assert store.require("vera").role == "viewer"

    store.set_limits("vera", {})
    assert store.require("vera").limits == ()


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"salary": ["1"]}, "Access can be limited by region"),
        ({"region": [" "]}, "The limit on region needs at least one value."),
    ],
)
def test_bad_limits_are_refused(store, limits, message):
    store.add("vera", "viewer", "another long password")

    with pytest.raises(ConfigError, match=message):
        store.set_limits("vera", limits)
    assert store.require("vera").limits == ()


# ----- accounts from an identity provider --------------------------------------------------------

OIDC_CONFIG = {
    "role_claim": "touchpoint_role",
    "groups_claim": "groups",
    "emails": {"Ana@Example.com": "analyst"},
    "groups": {"cx-admins": "admin", "cx-team": "viewer"},
    "limits": {"vera@example.com": {"region": ["EMEA"]}},
}


@pytest.mark.parametrize(
    ("claims", "config", "expected"),
    [
        ({"email": "ana@example.com"}, OIDC_CONFIG, "analyst"),
        ({"email": "x@example.com", "groups": ["cx-team", "cx-admins"]}, OIDC_CONFIG, "admin"),
        ({"email": "ana@example.com", "groups": ["cx-team"]}, OIDC_CONFIG, "analyst"),
        ({"email": "x@example.com", "touchpoint_role": "viewer"}, OIDC_CONFIG, "viewer"),
        ({"email": "x@example.com", "touchpoint_role": "root"}, OIDC_CONFIG, None),
        ({"email": "x@example.com"}, OIDC_CONFIG, None),
        ({"email": "x@example.com"}, {**OIDC_CONFIG, "default_role": "viewer"}, "viewer"),
        ({}, {**OIDC_CONFIG, "default_role": "viewer"}, None),
    ],
)
def test_roles_from_identity_claims(claims, config, expected):
    account = account_from_identity(claims, config)

    assert (account.role if account else None) == expected


def test_limits_from_identity_configuration():
    vera = account_from_identity(
        {"email": "Vera@Example.com"}, {**OIDC_CONFIG, "default_role": "viewer"}
    )

    assert vera is not None and vera.name == "vera@example.com"
    assert vera.limits == (("region", ("EMEA",)),)
    assert vera.access(min_group=5).mask_pii is True
