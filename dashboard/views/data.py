"""Data: upload exports, check them against the contract, load them; see and undo past loads."""

from __future__ import annotations

import streamlit as st

from dashboard import data, upload
from dashboard.components import history

config = data.settings()
warehouse = data.warehouse(config)

st.title("Data")
st.caption(
    "Upload the exports you already have, check them against the data contract, and load them. "
    "Every load is a new version that can be rolled back."
)
upload_tab, history_tab, quarantine_tab = st.tabs(["Upload", "Load history", "Quarantined rows"])
with upload_tab:
    for file in upload.uploader(config):
        upload.file_panel(file, config, warehouse)
with history_tab:
    history.history_section(config, warehouse)
with quarantine_tab:
    history.quarantine_section(warehouse)
