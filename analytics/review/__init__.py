"""The quarterly review: the quarter's story from the data (`core`), what moved (`movers`),
and the files teams take away (`files`). See docs/review.md."""

from analytics.review.core import (
    SCORECARD_SCHEMA,
    STORY_ORDER,
    Highlight,
    Review,
    last_complete_quarter,
    quarterly_review,
    review_json,
)
from analytics.review.movers import SIGNIFICANT, Derived, previous_quarter, ticket_categories

__all__ = [
    "SCORECARD_SCHEMA",
    "SIGNIFICANT",
    "STORY_ORDER",
    "Derived",
    "Highlight",
    "Review",
    "last_complete_quarter",
    "previous_quarter",
    "quarterly_review",
    "review_json",
    "ticket_categories",
]
