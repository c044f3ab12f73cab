"""Touchpoint analytics: the UI-free core (ingest, warehouse, analytics, command line)."""

__version__ = "0.1.0"
