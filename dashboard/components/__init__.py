"""Building blocks the pages place: each renders one part of a page with `st.*` calls."""

# Which confirmation dialog is open, e.g. ("load", file id) or ("rollback", dataset, version).
# One session-state key for all dialogs: Streamlit shows at most one dialog per run, and the
# open state must survive reruns (AppTest reruns the whole script; a button's True does not).
OPEN_DIALOG = "open_dialog"
