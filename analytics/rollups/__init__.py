"""Rollups: small derived tables that answer every KPI without reading the rows.

Reading ten million orders for every scorecard costs seconds. The statistics the KPIs need
come just as well from derived tables built once per data version (`refresh`) and kept under
the warehouse's `_rollups/` folder, one set per family (orders, surveys, tickets):

- `<family>.months` and `<family>.days`: one row per month (day) and combination of
  customer attributes (region, country, plan, acquisition channel) and the family's record
  dimensions (channel, and product category for orders) with the sums the family's KPIs need.
  Sums add up, so any period or range of days is a sum of months or days.
- `orders.customers`: one row per customer with a completed order: their attributes, the
  months of their first and second completed orders, and the months they were active in as
  a bitmask (`w0`, `w1`, ...: 64 months per word). Active, retained, new and repeat customers
  of any month, quarter or year are counts of bit tests over it.
- `orders.counts_week`, `orders.counts_day`: per week (day) and customer attributes, the
  active, retained, repeat and new customers of that period: weeks and days are too many for
  bitmasks, and these counts add up over customer attributes.
- `orders.value`, `orders.value_day`: per month (day) and customer attributes, the growth of
  Σ cum² over customers (cum: a customer's revenue to date). It telescopes over any period:
  historical customer value's spread, with no per-customer rows.
- `tickets.hours`: per ticket with a first response or a resolution, its day, attributes and
  the two durations in hours. An exact median needs every value, so this part has a row per
  ticket, but narrow, joined and computed once; the medians read only the days asked for.
- `<part>_<dimension>` (orders): the per-customer parts again per customer and channel (or
  product category), for orders narrowed or broken down by one record dimension; a customer
  kept with several values is merged back into one row where the bitmasks allow it.

After a load that only appends rows (or a rollback to data a kept rollup summarises), the new
rollup is the earlier one's files plus a delta file per part (`update`): sums add up, and a
customer's rows in the per-customer parts are merged when read. An append of 10k orders to
10M takes under a second instead of a full build (bench/append.py).

The months per segment (`<family>.months_segments_<segmentation>`, and the orders' customer
counts per month, quarter and year) follow each new segmentation: they are carried over from
the earlier segmentation's, again only for the customers who moved to another segment or
cluster or have appended rows (`segmented`).

A rollup is named by the versions of the datasets it was built from (and `LAYOUT`) and is used
only while they are the current ones, so a load or rollback never shows stale numbers: until
its rollup is built, the KPIs read the rows as before. `family_stats` answers only what the
rollups answer exactly (see `answer`) and returns None otherwise; every answer is checked
against the rows in the tests.
"""

from analytics.rollups.answer import (
    MONTH_SUMS,
    ORDER_STATISTICS,
    Question,
    data_range,
    family_stats,
)
from analytics.rollups.build import pending, refresh
from analytics.rollups.layout import (
    FAMILIES,
    FOLDER,
    KEEP,
    LAYOUT,
    Family,
    Rollup,
    current,
)

__all__ = [
    "FAMILIES",
    "FOLDER",
    "KEEP",
    "LAYOUT",
    "MONTH_SUMS",
    "ORDER_STATISTICS",
    "Family",
    "Question",
    "Rollup",
    "current",
    "data_range",
    "family_stats",
    "pending",
    "refresh",
]
