"""What the current browser session is: who is signed in, and the filters every page shares."""

from __future__ import annotations

import streamlit as st

from analytics.accounts import Account
from analytics.filters import Filters

_FILTERS = "current_filters"
_ACCOUNT = "current_account"


def set_filters(filters: Filters) -> None:
    st.session_state[_FILTERS] = filters


def filters() -> Filters:
    """The sidebar's filters for this run (everything when none are drawn)."""
    value = st.session_state.get(_FILTERS)
    return value if isinstance(value, Filters) else Filters()


def set_account(account: Account) -> None:
    st.session_state[_ACCOUNT] = account


def account() -> Account:
    """The signed-in account of this session (app.py sets it before any page runs)."""
    value = st.session_state.get(_ACCOUNT)
    assert isinstance(value, Account), "app.py sets the account before pages run"
    return value
