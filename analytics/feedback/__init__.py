"""Voice of the customer: sentiment of every comment (offline, `sentiment`), themes found in
the comments with an analyst's dictionary on top (`themes`), key drivers of NPS, CSAT and CES
by relative weights (`drivers`), stored per data version (`store`) and read as a user may see
them (`views`). Documented in docs/feedback.md."""

from analytics.feedback.settings import FeedbackSettings, load_settings, save_settings
from analytics.feedback.store import StoredFeedback, current, earlier, pending, refresh

__all__ = [
    "FeedbackSettings",
    "StoredFeedback",
    "current",
    "earlier",
    "load_settings",
    "pending",
    "refresh",
    "save_settings",
]
