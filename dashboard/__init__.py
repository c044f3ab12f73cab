"""Touchpoint's Streamlit dashboard: a thin layer of pages over `analytics/` (DESIGN.md §6)."""
