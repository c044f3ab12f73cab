"""Who is using the app: local sign-in, session expiry, and the single-user local mode.

With local accounts configured (`python -m analytics users add ...`), nobody sees a page
before signing in, and a sign-in lasts `TOUCHPOINT_SESSION_MINUTES`, across reloads and tabs
of the same browser (a signed cookie, `analytics.sessions`). Without any accounts
Touchpoint is a single-user tool on this machine: full rights, a visible notice, and it
refuses to serve another address unless `TOUCHPOINT_ALLOW_UNSECURED=true`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import streamlit as st

from analytics import audit
from analytics.accounts import (
    Account,
    AccountStore,
    AuthError,
    SignInGuard,
    account_from_identity,
    session_expired,
)
from analytics.sessions import COOKIE, SessionSigner
from analytics.settings import Settings
from dashboard import format as fmt

LOCAL_ACCOUNT = Account(name="local", role="admin", password_hash="")
LOCAL_ADDRESSES = {"localhost", "127.0.0.1", "::1"}
_NAME, _SINCE, _NOTICE = "signed_in_as", "signed_in_at", "signin_notice"
_SET_COOKIE, _CLEAR_COOKIE = "session_cookie_to_set", "session_cookie_to_clear"
_TOKEN = re.compile(r"[A-Za-z0-9_.-]+")  # itsdangerous's URL-safe tokens


def current_account(config: Settings) -> Account | None:
    """The signed-in account (None: show the sign-in page), or the local single user.

    An identity provider configured in `.streamlit/secrets.toml` (`[auth]`) takes precedence
    over local accounts; roles then come from `[touchpoint.oidc]` (see
    `analytics.accounts.account_from_identity`).
    """
    provider = identity_provider()
    if provider is not None:
        if not st.user.get("is_logged_in", False):
            return None
        return account_from_identity(dict(st.user.to_dict()), provider)
    store = AccountStore(config.accounts)
    if not store.configured():
        _refuse_unsecured_on_a_network(config)
        return LOCAL_ACCOUNT
    name, since = st.session_state.get(_NAME), st.session_state.get(_SINCE)
    if name is None or since is None:
        return _remembered(config, store)
    if session_expired(since, _now(), config.session_minutes):
        _forget("Your session has expired; please sign in again.")
        return None
    account = store.get(name)
    if account is None:  # removed while signed in
        _forget("Your account no longer exists; ask an administrator.")
    return account


def _remembered(config: Settings, store: AccountStore) -> Account | None:
    """The account of this browser's session cookie, when it is still valid."""
    token = st.context.cookies.get(COOKIE)
    if not token:
        return None
    found = _signer(config).verify(token, store, now=_now(), minutes=config.session_minutes)
    if found is None:  # expired, signed out, password changed, or not ours
        st.session_state[_CLEAR_COOKIE] = True
        return None
    account, issued = found
    st.session_state[_NAME], st.session_state[_SINCE] = account.name, issued
    return account


def identity_provider() -> dict[str, object] | None:
    """`[touchpoint.oidc]` when `[auth]` (Streamlit's OIDC sign-in) is configured, else None."""
    try:
        if "auth" not in st.secrets:
            return None
        touchpoint = st.secrets.get("touchpoint", {})
    except FileNotFoundError:  # no secrets file at all
        return None
    oidc = touchpoint.get("oidc", {}) if hasattr(touchpoint, "get") else {}
    return dict(oidc) if hasattr(oidc, "keys") else {}


def page(config: Settings) -> None:
    """The sign-in page: the only page anyone sees before signing in."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        _form(config)


def _form(config: Settings) -> None:
    st.title("Sign in to Touchpoint")
    if st.session_state.pop(_CLEAR_COOKIE, False):
        _write_cookie("", max_age=0)
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.info(notice)
    if identity_provider() is not None:
        if st.user.get("is_logged_in", False):  # signed in with the provider, no role here
            st.warning(
                f"{fmt.plain_text(str(st.user.get('email') or 'This account'))} has no role in "
                "Touchpoint. Ask an administrator to give it one."
            )
            st.button("Sign out", on_click=st.logout)
        else:
            st.button("Sign in with your organisation", type="primary", on_click=st.login)
        return
    with st.form("signin"):
        name = st.text_input("User name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        guard = SignInGuard(config.warehouse / "_auth")
        try:
            account = guard.authenticate(
                AccountStore(config.accounts), name.strip(), password, now=_now()
            )
        except AuthError as exc:
            audit.record(config.warehouse, "sign_in_refused", name.strip()[:64])
            st.error(fmt.plain_text(str(exc)))
            return
        audit.record(config.warehouse, "sign_in", account.name)
        now = _now().replace(microsecond=0)  # the token's own resolution
        st.session_state[_NAME], st.session_state[_SINCE] = account.name, now
        st.session_state[_SET_COOKIE] = _signer(config).issue(account, now)
        st.rerun()


def sidebar(config: Settings, account: Account) -> None:
    """Who is signed in, with a way out; or the single-user notice."""
    with st.sidebar:
        if account is LOCAL_ACCOUNT:
            st.caption(
                ":material/lock_open: Single-user local mode: no sign-in, full rights, this "
                "machine only. Add accounts with `python -m analytics users add` to share it."
            )
            return
        st.caption(f"Signed in as **{fmt.plain_text(account.name)}** ({account.role})")
        if st.button("Sign out", icon=":material/logout:", key="signout"):
            audit.record(config.warehouse, "sign_out", account.name)
            if identity_provider() is None:
                _signer(config).sign_out(account.name)  # this browser and every other
            _forget("You have signed out.")
            if identity_provider() is not None:
                st.logout()
            st.rerun()
        token = st.session_state.pop(_SET_COOKIE, None)
        if token:
            _write_cookie(token, max_age=config.session_minutes * 60)


def _refuse_unsecured_on_a_network(config: Settings) -> None:
    address = st.get_option("server.address") or "0.0.0.0"
    if address in LOCAL_ADDRESSES or address.startswith("127.") or config.allow_unsecured:
        return
    st.error(
        f"Touchpoint is serving on {fmt.plain_text(address)} without sign-in, so anyone who "
        "can reach it would see your customer data. Add accounts with `python -m analytics "
        "users add NAME --role admin`, serve on localhost, or set "
        "TOUCHPOINT_ALLOW_UNSECURED=true if this network is yours alone."
    )
    st.stop()


def _forget(notice: str) -> None:
    for key in (_NAME, _SINCE):
        st.session_state.pop(key, None)
    st.session_state[_NOTICE] = notice
    st.session_state[_CLEAR_COOKIE] = True


def _signer(config: Settings) -> SessionSigner:
    return SessionSigner(config.warehouse / "_auth")


def _write_cookie(token: str, *, max_age: int) -> None:
    """Set (or, with an empty token and max_age 0, remove) the session cookie in the browser.

    Streamlit sets no cookies for apps, so a script does: the cookie is then readable by
    scripts of this page (not HttpOnly); it is sent only to this site (SameSite=Strict), and
    only over HTTPS when the page is served so.
    """
    if token and not _TOKEN.fullmatch(token):
        raise ValueError("A session token must be URL-safe.")
    st.html(
        f"<script>document.cookie = '{COOKIE}={token}; Path=/; Max-Age={int(max_age)}; "
        "SameSite=Strict' + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def _now() -> datetime:
    return datetime.now(UTC)
