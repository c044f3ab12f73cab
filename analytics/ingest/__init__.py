"""Ingest: read an export, map its columns, validate its rows and load it (DESIGN.md §4)."""
