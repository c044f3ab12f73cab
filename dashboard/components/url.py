"""Choice widgets whose value lives in the URL by its stable key, not its display label.

Streamlit's own `bind="query-params"` writes the *formatted* label into the link
(`?kpi=Average+order+value`), which breaks old links when a label changes. These helpers keep
the key (`?kpi=aov`) and say when a link's value was not one of the choices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from dashboard import format as fmt


def choice(
    widget: Callable[..., Any],
    label: str,
    options: Sequence[str],
    *,
    key: str,
    default: str,
    format_func: Callable[[str], str] = str,
    **kwargs: Any,
) -> str:
    """Draw `widget` (st.selectbox, st.segmented_control, or a container's) over `options`,
    initialised from the URL parameter `key` and written back to it."""
    linked = st.query_params.get(key)
    if key not in st.session_state or st.session_state.get(f"{key}__linked") != linked:
        st.session_state[f"{key}__linked"] = linked
        if linked is not None and linked in options:
            st.session_state[key] = linked
        else:
            if linked:
                st.toast(f"{fmt.plain_text(linked)} in the link is not a choice for {label}.")
            st.session_state[key] = default if default in options else options[0]
    current = st.session_state[key]
    # Always re-assign: a widget with the same key on another page (other options) leaves a
    # value this widget would not take up, and it would fall back to no selection at all.
    st.session_state[key] = (
        current if current in options else (default if default in options else options[0])
    )
    if widget is st.segmented_control or getattr(widget, "__name__", "") == "segmented_control":
        kwargs.setdefault("required", True)
    value = widget(label, list(options), key=key, format_func=format_func, **kwargs)
    _write(key, str(value))
    return str(value)


def _write(key: str, value: str) -> None:
    # Written even when it is the default: pages share keys (`grain`) but not defaults, so a
    # link must say what it shows.
    st.query_params[key] = value
    st.session_state[f"{key}__linked"] = value
