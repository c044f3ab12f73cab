"""Pieces of the Segments page: the segment table, a segment's customers, the tabs' charts."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from analytics import segments
from dashboard import format as fmt
from dashboard.charts import segments as charts
from dashboard.components import charts as draw
from dashboard.components import downloads, drill

BUILDING = (
    "Segmenting the current data: RFM scores, clusters and lifetime value are computed once "
    "per load, in the background. This page fills in by itself when they are ready."
)


@st.fragment(run_every=3)
def wait_until_built(is_built: Any, message: str = BUILDING, spinner: str = "Segmenting…") -> None:
    """Say that a derived table (by default the segmentation) is being built, and rerun the
    page once it is there."""
    with st.spinner(spinner):
        if is_built():
            st.rerun()
    st.info(message, icon=":material/hourglass_top:")


def summary_table(
    summary: pl.DataFrame, trend: pl.DataFrame | None, key: str, dimension: str
) -> None:
    """The segment table; selecting a row narrows the whole app to that segment (the
    sidebar's `dimension` filter, and so the link)."""
    frame = summary
    if trend is not None:
        # A line with a hidden quarter would read as a dip: such a segment gets no line.
        lists = trend.group_by("segment", maintain_order=True).agg(
            pl.col("customers"), gaps=pl.col("customers").null_count()
        )
        lists = lists.select(
            "segment", pl.when(pl.col("gaps") == 0).then(pl.col("customers")).alias("customers")
        )
        frame = frame.join(lists.rename({"customers": "trend"}), on="segment", how="left")
    frame = frame.with_columns(
        pl.when(pl.col("hidden").is_not_null())
        .then(pl.lit("Hidden: ") + pl.col("hidden"))
        .otherwise(pl.lit(""))
        .alias("note")
    )
    columns = (
        [
            "segment",
            "customers",
            "share",
            "revenue_share",
            "clv",
            "mean_clv",
            "p_alive",
            "value_at_risk",
            "nps",
        ]
        + (["trend"] if trend is not None else [])
        + ["note"]
    )
    shown = frame.select(columns)
    st.dataframe(
        shown,
        key=key,
        height=36 * (shown.height + 1) + 3,
        on_select=functools.partial(_narrow, key, shown["segment"].to_list(), dimension),
        selection_mode="single-row",
        hide_index=True,
        placeholder="–",  # prospects have no lifetime value: a dash, not "None"
        column_config={
            "segment": st.column_config.TextColumn("Segment", width="medium"),
            "customers": st.column_config.NumberColumn("Customers", format="localized"),
            "share": st.column_config.NumberColumn("Share", format="%.1f%%"),
            "revenue_share": st.column_config.ProgressColumn(
                "Revenue share", format="%.1f%%", min_value=0, max_value=100
            ),
            "clv": st.column_config.NumberColumn(
                "CLV, next year", format="dollar", help="Sum of the customers' expected value."
            ),
            "mean_clv": st.column_config.NumberColumn("CLV per customer", format="dollar"),
            "p_alive": st.column_config.NumberColumn("P(alive)", format="percent"),
            "value_at_risk": st.column_config.NumberColumn("Value at risk", format="dollar"),
            "nps": st.column_config.NumberColumn("NPS", format="%.1f"),
            "trend": st.column_config.LineChartColumn("Customers by quarter"),
            "note": st.column_config.TextColumn(""),
        },
    )


def _narrow(key: str, names: list[str], dimension: str) -> None:
    rows = st.session_state[key]["selection"]["rows"]
    if rows:
        st.session_state[dimension] = [names[rows[0]]]  # the sidebar filter's widget


def show_all(dimension: str) -> None:
    """A button that takes the segment filter away again."""
    st.button(
        "All segments",
        icon=":material/arrow_back:",
        type="tertiary",
        on_click=lambda: st.session_state.update({dimension: []}),
    )


def customer_list(
    people: pl.DataFrame, name: str, *, can_export: bool, order: str = "highest lifetime value"
) -> None:
    """A segment's (or flow's) customers; a selected row opens Customer 360."""
    if people.is_empty():
        st.caption("No customer list: none, or fewer than the minimum you may see.")
        return
    st.caption(f"{fmt.rows(people.height, 'customer')}, {order} first.")
    event = st.dataframe(
        people,
        key=drill.chart_key(f"people_{name}"),
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config={
            "customer_id": "Customer",
            "name": "Name",
            "country": "Country",
            "plan": "Plan",
            "segment": None,
            "rfm_segment": "RFM segment",
            "cluster_name": "Cluster",
            "recency_days": st.column_config.NumberColumn("Days since last order", format="%d"),
            "frequency": st.column_config.NumberColumn("Orders", format="%d"),
            "p_alive_before": st.column_config.NumberColumn(
                "P(alive) a month ago", format="percent"
            ),
            "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
            "monetary": st.column_config.NumberColumn("Mean order", format="dollar"),
            "clv": st.column_config.NumberColumn("CLV", format="dollar"),
            "value_at_risk": st.column_config.NumberColumn("Value at risk", format="dollar"),
            "p_alive_now": st.column_config.NumberColumn("P(alive)", format="percent"),
        },
    )
    rows = event["selection"]["rows"] if event else []
    if rows:
        customer = people["customer_id"][rows[0]]
        st.switch_page("views/customer.py", query_params={"customer": customer})
    if can_export:
        downloads.buttons(people, f"touchpoint-segment-{_slug(name)}", "Segment")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def profiles(
    segmentation: segments.Segmentation,
    sizes: pl.DataFrame,
    points: pl.DataFrame,
    colours: dict[str, str],
) -> None:
    """The clusters' profiles (with the sizes this reader may see), the silhouette of each
    k tried, and the customers projected on two components."""
    visible = dict(sizes.select("segment", "customers").rows())
    clusters = [c | {"customers": visible.get(c["name"])} for c in segmentation.clusters]
    if not clusters:
        st.info(f"No clusters: {_why(segmentation)}.")
        return
    meta = segmentation.meta["clusters"]
    left, right = st.columns([3, 2])
    left.markdown("**What each cluster is like** · z-scores against all buyers")
    draw.show(charts.profile_heatmap(clusters), key="profile_heatmap", where=left)
    right.markdown(f"**How many clusters** · {_k_choice(meta)}")
    draw.show(charts.silhouette_chart(meta["silhouette"], meta["k"]), key="silhouette", where=right)
    buyers = sum(c["customers"] or 0 for c in clusters)
    drawn = f" ({fmt.count(points.height)} drawn at random)" if buyers > points.height else ""
    st.markdown(f"**Customers by behaviour** · the features' first two principal components{drawn}")
    if points.height:
        draw.show(charts.projection_scatter(points, colours), key="projection")


def _k_choice(meta: dict[str, Any]) -> str:
    """Why the clusters are as many as they are: the best silhouette, or the previous load's
    k kept (within the tolerance of the best), and whether they started from its centres."""
    k = meta["k"]
    scores = {int(j): float(v) for j, v in (meta.get("silhouette") or {}).items()}
    best = max(scores, key=lambda j: (scores[j], -j), default=k)
    said = f"k = {k} has the best silhouette"
    if best != k:
        said = (
            f"k = {k} as at the last load: its silhouette is within "
            f"{meta.get('k_tolerance', 0.01):g} of the best (k = {best})"
        )
    if meta.get("started_from_previous"):
        said += "; the clusters start from the last load's, so they stay put"
    return said


def migration_view(
    table: pl.DataFrame, colours: dict[str, str], before: str, after: str
) -> tuple[str, str] | None:
    """The Sankey of flows; returns the flow the reader clicked."""
    note = fmt.hidden_note(table["hidden"].to_list())
    picked = draw.clicks(
        charts.migration_sankey(table, colours, before, after), key=drill.chart_key("migration")
    )
    if note:
        st.caption(note + " Hidden flows are left out of the chart.")
    return (picked[0], picked[1]) if picked and len(picked) == 2 else None


def model_check(segmentation: segments.Segmentation, *, limited: bool) -> None:
    """The purchase model's holdout check and parameters (over every customer, so not for
    accounts limited to some rows)."""
    if limited:
        st.info(
            "The model check counts every customer's purchases, so it is shown to accounts "
            "without row limits.",
            icon=":material/lock:",
        )
        return
    meta = segmentation.meta
    if "purchases" not in meta:
        st.info(f"No lifetime-value model: {_why(segmentation)}.")
        return
    holdout = meta["holdout"]
    st.markdown(
        f"**Does the purchase model predict?** Fitted on purchases up to "
        f"{fmt.day(_date(holdout['calibration_end']))}, it expected "
        f"{fmt.count(round(holdout['predicted_total']))} repeat purchases in the "
        f"{fmt.count(holdout['holdout_days'])} days after; customers made "
        f"{fmt.count(holdout['actual_total'])}."
    )
    draw.show(charts.holdout_chart(holdout["by_calibration_purchases"]), key="holdout")
    params = meta["purchases"]["params"] | meta["spend"]["params"]
    st.caption(
        "BG/NBD "
        + ", ".join(f"{k} = {params[k]:.3g}" for k in ("r", "alpha", "a", "b"))
        + " (weeks) · Gamma-Gamma "
        + ", ".join(f"{k} = {params[k]:.3g}" for k in ("p", "q", "gamma"))
    )
    for note in fit_notes(meta):
        st.caption(note)


# Beyond this, a gamma's shape says its spread between customers is next to none: the fit
# went to the model's limit, where only a ratio of its parameters counts.
LIMIT_SHAPE = 1_000.0


def fit_notes(meta: dict[str, Any]) -> list[str]:
    """What a reader should know of the fits in a segmentation's `meta` that their numbers
    do not say: a fit at the model's limit (customers alike), or one that did not converge."""
    notes = []
    purchases, spend = meta["purchases"], meta["spend"]
    r, alpha = purchases["params"]["r"], purchases["params"]["alpha"]
    if r > LIMIT_SHAPE:
        notes.append(
            "Customers buy at nearly the same rate: r and alpha went to the model's limit, "
            f"where only their ratio counts ({r / alpha:.3g} purchases a week)."
        )
    a, b = purchases["params"]["a"], purchases["params"]["b"]
    if min(a, b) > LIMIT_SHAPE:
        notes.append(
            "Customers stop buying with nearly the same chance after each purchase: a and b "
            f"went to the model's limit, where only their ratio counts ({a / (a + b):.3g})."
        )
    if spend["params"]["q"] > LIMIT_SHAPE:
        notes.append(
            "Customers spend nearly the same per purchase: q and gamma went to the model's "
            "limit, where only their ratio counts."
        )
    for name, fit in (("purchase", purchases), ("spend", spend)):
        if not fit.get("converged", True):
            notes.append(f"The {name} model's fit did not converge: read its numbers with care.")
    return notes


def _date(text: str) -> date:
    return date.fromisoformat(text)


def _why(segmentation: segments.Segmentation) -> str:
    return str(segmentation.meta.get("models_skipped", "too little data")).rstrip(".")
