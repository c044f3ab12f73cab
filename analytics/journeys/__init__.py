"""Customer journeys: every customer's touchpoints in order (events with orders, survey
responses and tickets merged in), the ordered stage funnel with timing, and the journey
map's measures with pain points ranked by drop-off, dissatisfaction and tickets.

Pure functions over frames: `steps.merge_steps` builds the steps, `funnel.reached` and
`funnel.funnel` the funnel, `paths` the common paths and their links, `painpoints.measures`
and `painpoints.pain_points` the map. `store` keeps the steps per data version (built after
loads) with what the views of all dates read, and `totals` the views of everyone it holds
(all dates and each quarter); `views` reads them as a user may see them.
"""

from analytics.journeys.funnel import ALL, FUNNEL_SCHEMA, funnel, reached
from analytics.journeys.painpoints import PAIN_SCHEMA, WEIGHTS, measures, pain_points
from analytics.journeys.stages import STAGES, TOUCHPOINT_STAGES, JourneySettings
from analytics.journeys.steps import STEPS_SCHEMA, merge_steps, read_steps
from analytics.journeys.store import StoredJourneys, current, earlier, pending, refresh

__all__ = [
    "ALL",
    "FUNNEL_SCHEMA",
    "PAIN_SCHEMA",
    "STAGES",
    "STEPS_SCHEMA",
    "TOUCHPOINT_STAGES",
    "WEIGHTS",
    "JourneySettings",
    "StoredJourneys",
    "current",
    "earlier",
    "funnel",
    "measures",
    "merge_steps",
    "pain_points",
    "pending",
    "reached",
    "read_steps",
    "refresh",
]
