"""The mapping step of an upload: the proposed mapping as an editable table, and profiles."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.contract import DATASETS
from analytics.errors import TouchpointError
from analytics.ingest.mapping import IGNORE, KEEP_AS_ATTRIBUTE, ColumnMatch, save_profile
from analytics.warehouse import Warehouse
from dashboard import format as fmt

_TARGET_LABELS = {KEEP_AS_ATTRIBUTE: "keep as extra column", IGNORE: "ignore (drop)"}


def editor(
    key: str, dataset_name: str, matches: list[ColumnMatch], preview: pl.DataFrame
) -> dict[str, str]:
    """The proposed mapping as an editable table; returns the user's changes as overrides."""
    proposed = [m.target or KEEP_AS_ATTRIBUTE for m in matches]
    table = pl.DataFrame(
        {
            "column in file": [m.source for m in matches],
            "example": [_example(preview, m.source) for m in matches],
            "maps to": proposed,
            "confidence": [m.confidence for m in matches],
            "why": [m.reason for m in matches],
        }
    )
    options = [*DATASETS[dataset_name].column_names, KEEP_AS_ATTRIBUTE, IGNORE]
    st.markdown("**Mapping** · change *maps to* where the guess is wrong")
    edited = st.data_editor(
        table,
        key=f"mapping_{key}_{dataset_name}",
        hide_index=True,
        disabled=["column in file", "example", "confidence", "why"],
        column_config={
            "maps to": st.column_config.SelectboxColumn(
                options=options,
                required=True,
                format_func=lambda t: _TARGET_LABELS.get(t, t),
                help="Contract column this header fills",
            ),
            "confidence": st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent", width="small"
            ),
        },
    )
    chosen = edited.get_column("maps to").to_list()
    return {
        m.source: target
        for m, target, before in zip(matches, chosen, proposed, strict=True)
        if target != before
    }


def _example(preview: pl.DataFrame, column: str) -> str:
    if column not in preview.columns:
        return ""
    values = preview.get_column(column).drop_nulls()
    return str(values[0]) if values.len() else ""


def required_line(dataset_name: str, matches: list[ColumnMatch]) -> str:
    ds = DATASETS[dataset_name]
    mapped = {m.target for m in matches}
    parts = []
    for name in ds.required:
        if name in mapped:
            parts.append(f"{name} :green[✓]")
        elif name == ds.key and ds.derive_key:
            parts.append(f"{name} (derived)")
        else:
            parts.append(f"{name} :red[✗ not mapped]")
    return "Required: " + " · ".join(parts)


def save_profile_form(
    key: str, dataset_name: str, matches: list[ColumnMatch], wh: Warehouse
) -> None:
    with st.expander("Save this mapping as a profile"):
        st.caption("The next export with the same headers is then mapped this way by itself.")
        name = st.text_input("Profile name", key=f"profile_{key}", placeholder="e.g. Shopify")
        if st.button("Save profile", key=f"save_profile_{key}"):
            try:
                saved = save_profile(wh.mappings_dir, name or "", dataset_name, matches)
            except TouchpointError as exc:
                st.error(fmt.plain_text(str(exc)))
                return
            st.success(f"Saved the mapping profile '{fmt.plain_text(saved.name)}'.")
