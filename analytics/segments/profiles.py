"""The Profiles tab's map: buyers' clustering features on their first two principal components.

Standardising a sample and fitting the PCA is quick; reading every stored customer's features
to draw the sample is not (seconds at a million customers). The map of a user who sees every
customer is the same for all such users, so the build draws it once (`PART`) and the others'
maps are drawn from their own customers.
"""

from __future__ import annotations

import polars as pl

from analytics.filters import Filters
from analytics.segments.store import Segmentation
from analytics.segments.visible import EVERYONE, sees_everyone, segment_customers
from analytics.warehouse import QueryGateway

PART = "projection"  # segments-<key>.projection.parquet: the map of everyone, as drawn here
# 5,000 points show the clusters' shapes on a chart 420 pixels high as 20,000 did, and the
# Segments page, which opens on this map, opens 0.3 s sooner in a new tab (the sample
# company: 1.62 s against 1.93 s with all its 15,129 buyers, medians of 20 alternating opens).
SAMPLE = 5_000
SEED = 0


def projection(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    *,
    sample: int = SAMPLE,
    seed: int = SEED,
) -> pl.DataFrame:
    """The buyers' clustering features projected on their first two principal components
    (`x`, `y`), with `segment` (cluster name) and `rfm_segment`; a seeded sample of at most
    `sample` customers. Empty without clusters."""
    if sees_everyone(gateway, filters) and (sample, seed) == (SAMPLE, SEED):
        return pl.read_parquet(segmentation.path(PART))
    return projected(gateway, segmentation, filters, sample=sample, seed=seed)


def projected(
    gateway: QueryGateway,
    segmentation: Segmentation,
    filters: Filters = EVERYONE,
    *,
    sample: int = SAMPLE,
    seed: int = SEED,
) -> pl.DataFrame:
    """`projection` drawn from the customers this user may see (what the build stores for
    everyone)."""
    people = segment_customers(gateway, segmentation, filters, "cluster")
    columns = [c for c in people.columns if c.startswith("feature_")]
    buyers = people.filter(pl.col("cluster").is_not_null()) if columns else people.head(0)
    if buyers.height < 3:
        return pl.DataFrame(
            schema={
                "customer_id": pl.String,
                "x": pl.Float64,
                "y": pl.Float64,
                "segment": pl.String,
            }
        )
    if buyers.height > sample:
        buyers = buyers.sample(sample, seed=seed).sort("customer_id")
    from sklearn.decomposition import PCA  # imported when used: pages start without it
    from sklearn.preprocessing import StandardScaler

    matrix = StandardScaler().fit_transform(buyers.select(columns).to_numpy())
    points = PCA(n_components=2, random_state=seed).fit_transform(matrix)
    return buyers.select("customer_id", "segment", "rfm_segment").with_columns(
        x=pl.Series(points[:, 0]), y=pl.Series(points[:, 1])
    )
