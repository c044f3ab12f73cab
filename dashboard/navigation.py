"""The app's pages, in the sidebar's order: `app.py` registers them (a role's pages only) and
`server.py` serves their addresses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """A page's script (under `dashboard/`), title, Material icon and address; `role`, the
    permission a user needs to have it registered at all (None: every signed-in user)."""

    script: str
    title: str
    icon: str
    url: str
    role: str | None = None


EXPLORE = (
    Page("views/overview.py", "Overview", "dashboard", "overview"),  # the default page: "/"
    Page("views/kpis.py", "KPIs", "monitoring", "kpis"),
    Page("views/retention.py", "Retention", "event_repeat", "retention"),
    Page("views/segments.py", "Segments", "group_work", "segments"),
    Page("views/journeys.py", "Journeys", "route", "journeys"),
    Page("views/feedback.py", "Feedback", "forum", "feedback"),
    Page("views/review.py", "Quarterly review", "co_present", "review"),
    Page("views/customer.py", "Customer 360", "person", "customer"),
)
MANAGE = (
    Page("views/data.py", "Data", "upload_file", "data", role="data"),
    Page("views/admin.py", "Admin", "admin_panel_settings", "admin", role="admin"),
)
# The only page registered before sign-in (every other address leads to it then).
SIGN_IN = "signin"


def addresses() -> tuple[str, ...]:
    """Every address a page can have: "" (the default page), each page's, and sign-in's."""
    return ("", *(page.url for page in EXPLORE + MANAGE), SIGN_IN)
