"""Admin: who may sign in, with which role and which rows, and the audit log.

Registered only for admins. Every change is written to the accounts file (the same one
`python -m analytics users` manages) and noted in the audit log.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics import audit
from analytics.accounts import ROLES, AccountStore
from analytics.errors import TouchpointError
from analytics.filters import LIMITABLE
from dashboard import data, state
from dashboard import format as fmt
from dashboard.components import downloads

config = data.settings()
store = AccountStore(config.accounts)
me = state.account()
warehouse = data.warehouse(config)

st.title("Admin")
accounts = store.accounts()
if not accounts:
    st.info(
        "No accounts yet: Touchpoint runs in single-user local mode. Add the first account "
        "(an admin) to require sign-in; you will be asked to sign in with it."
    )


def changed(what: dict[str, object]) -> None:
    audit.record(config.warehouse, "access_change", me.name, what)
    st.rerun()


st.subheader("Accounts")
if accounts:
    st.dataframe(
        pl.DataFrame(
            {
                "Name": [a.name for a in accounts],
                "Role": [a.role for a in accounts],
                "Sees only": [
                    "; ".join(f"{c} = {', '.join(v)}" for c, v in a.limits) or "everything"
                    for a in accounts
                ],
            }
        ),
        hide_index=True,
    )

with st.form("add_account", clear_on_submit=True):
    st.markdown("**Add an account**")
    left, middle, right = st.columns(3)
    name = left.text_input("User name")
    role = middle.selectbox("Role", ROLES, index=0 if accounts else 2)
    password = right.text_input("Password (12 characters or more)", type="password")
    if st.form_submit_button("Add account", icon=":material/person_add:"):
        try:
            store.add(name.strip(), role, password)
        except TouchpointError as exc:
            st.error(fmt.plain_text(str(exc)))
        else:
            changed({"added": name.strip(), "role": role})

if accounts:
    st.markdown("**Change an account**")
    chosen = st.selectbox("Account", [a.name for a in accounts], key="admin_account")
    account = store.require(chosen)
    known = data.known_values(warehouse)
    with st.form("change_account"):
        new_role = st.selectbox("Role", ROLES, index=ROLES.index(account.role))
        limits = dict(account.limits)
        picked = {
            key: st.multiselect(
                f"Only these {fmt.in_sentence(dimension.label)} values (empty: all)",
                sorted(set(known.get(key, [])) | set(limits.get(key, ()))),
                default=list(limits.get(key, ())),
                key=f"limit_{key}",
            )
            for key, dimension in LIMITABLE.items()
        }
        if st.form_submit_button("Save", icon=":material/save:"):
            store.set_role(account.name, new_role)
            store.set_limits(account.name, {k: v for k, v in picked.items() if v})
            changed({"user": account.name, "role": new_role, "limits": str(picked)})
    if account.name != me.name and st.button(f"Remove {account.name}", icon=":material/delete:"):
        store.remove(account.name)
        changed({"removed": account.name})

st.subheader("Audit log")
log = audit.read_log(config.warehouse, newest=500)
st.caption("Sign-ins, loads, rollbacks, exports and access changes, newest first.")
downloads.table(log, "touchpoint-audit-log", "Audit log")
