"""Feedback as users see it: the stored comments of the survey responses a user may see
within the sidebar's filters, turned into the theme table (with growth and its
significance), themes by NPS group, sentiment over time, key drivers and the verbatims,
with small groups hidden from viewers.

Survey rows are narrowed by the filters and the user's access in the gateway, exactly as
the KPIs are; the comments are the stored ones of those responses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from analytics import definitions as rules
from analytics import disclosure, stats
from analytics.errors import ConfigError
from analytics.feedback import drivers as kda
from analytics.feedback import tickets
from analytics.feedback.store import TICKET_PREFIX, StoredFeedback, current
from analytics.feedback.tickets import SLOW_REPLY_HOURS, TICKET_WINDOW_DAYS
from analytics.filters import Filters, scoped_rows
from analytics.periods import parse_period, period_end, shift
from analytics.warehouse import QueryGateway, masked_free_text

EVERYONE = Filters()
NPS_GROUPS = ("detractor", "passive", "promoter")
TICKETS = "tickets"  # as a group: the tickets' texts (which have no NPS)
GROUPS = (*NPS_GROUPS, TICKETS)
OTHER_ID = "other"
OTHER_LABEL = "Other"
THEMES_SCHEMA = pl.Schema(
    {
        "theme": pl.String(),
        "label": pl.String(),
        "top_terms": pl.List(pl.String()),
        "comments": pl.Int64(),
        "share": pl.Float64(),
        "share_previous": pl.Float64(),
        "change": pl.Float64(),
        "p_value": pl.Float64(),
        "sentiment": pl.Float64(),
        "nps": pl.Float64(),
    }
)
TARGETS = ("nps", "csat", "ces")


def nps_group(column: str = "nps") -> pl.Expr:
    score = pl.col(column)
    return (
        pl.when(score >= rules.PROMOTER_FROM)
        .then(pl.lit("promoter"))
        .when(score <= rules.DETRACTOR_TO)
        .then(pl.lit("detractor"))
        .when(score.is_not_null())
        .then(pl.lit("passive"))
    )


def in_group(group: str) -> pl.Expr:
    """The comments of `group`: an NPS group's survey comments, or the tickets' texts."""
    if group == TICKETS:
        return pl.col("source") == "ticket"
    return pl.col("nps_group") == group


def _nps(score: pl.Expr) -> pl.Expr:
    """NPS of the scores (null when none)."""
    answered = score.is_not_null().sum().cast(pl.Int64)
    promoters = (score >= rules.PROMOTER_FROM).sum().cast(pl.Int64)
    detractors = (score <= rules.DETRACTOR_TO).sum().cast(pl.Int64)
    return pl.when(answered > 0).then(100 * (promoters - detractors) / answered)


def comments(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters,
    *,
    since: date | None = None,
    until: date | None = None,
) -> pl.DataFrame:
    """The stored comments of the survey responses and tickets this user may see within
    `filters` (their dimensions; the days `since`..`until`, default the filters' range),
    with `nps_group`."""
    return _comments(gateway, stored, filters, since=since, until=until).collect()


def _comments(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters,
    *,
    since: date | None = None,
    until: date | None = None,
) -> pl.LazyFrame:
    """`comments`, to be collected with the columns a caller needs only (the texts are most
    of the file)."""
    since = filters.start if since is None else since
    until = filters.end if until is None else until
    if _sees_every_comment(gateway, stored, filters):
        kept = pl.scan_parquet(stored.comments_path)
        if since is not None:
            kept = kept.filter(pl.col("at") >= datetime.combine(since, time()))
        if until is not None:
            kept = kept.filter(pl.col("at") < datetime.combine(until + timedelta(days=1), time()))
    else:
        kept = pl.scan_parquet(stored.comments_path).join(
            _visible_ids(gateway, stored, filters, since, until).lazy(), on="id", how="semi"
        )
    return kept.with_columns(
        nps_group=nps_group(),
        theme=pl.col("theme").fill_null(OTHER_ID),
    )


def _sees_every_comment(gateway: QueryGateway, stored: StoredFeedback, filters: Filters) -> bool:
    """Whether this user, within `filters`' dimensions, sees every stored comment: no access
    limit, no dimension chosen, and the comments stored for the data the gateway reads. They
    are then narrowed by their days alone, which spares asking the datasets which of a
    million comments are theirs."""
    if gateway.access.limits or filters.with_range(None, None).selections():
        return False
    read = gateway.versions()
    return all(read.get(name) == v for name, v in stored.meta["versions"].items())


def _visible_ids(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters,
    since: date | None,
    until: date | None,
) -> pl.DataFrame:
    """The ids of the comments this user may see within `filters` and the days given."""
    parts: list[str] = []
    params: dict[str, object] = {}
    for dataset, key, text in (("surveys", "response_id", "comment"),
                               ("tickets", "ticket_id", "text")):  # fmt: skip
        if stored.meta["versions"].get(dataset) is None:
            continue
        rows, bound = scoped_rows(dataset, filters, since=since, until=until)
        prefix = f"'{TICKET_PREFIX}' || " if dataset == "tickets" else ""
        parts.append(f"SELECT {prefix}{key} AS id FROM ({rows}) WHERE {text} IS NOT NULL")
        params |= bound
    if not parts:
        return pl.DataFrame(schema={"id": pl.String})
    return gateway.query(" UNION ALL ".join(parts), params)


def _theme_names(stored: StoredFeedback) -> pl.DataFrame:
    listed = [*stored.meta["themes"], {"id": OTHER_ID, "label": OTHER_LABEL, "top_terms": []}]
    return pl.DataFrame(
        {
            "theme": [t["id"] for t in listed],
            "label": [t["label"] for t in listed],
            "top_terms": [list(t["top_terms"]) for t in listed],
        },
        schema={"theme": pl.String, "label": pl.String, "top_terms": pl.List(pl.String)},
    )


def theme_table(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters = EVERYONE,
    *,
    quarter: str | None = None,
    group: str | None = None,
) -> pl.DataFrame:
    """Every theme (`THEMES_SCHEMA` with `hidden`): its comments and their share of all
    comments (of `group`'s, an NPS group, when given), mean sentiment and NPS. With
    `quarter`, over that quarter against the one before (share_previous, change and the
    two-sided p-value of a two-proportion z-test), the fastest growing first; else over the
    filters' range, the most comments first."""
    if group is not None and group not in GROUPS:
        raise ConfigError(f"Comments are grouped as {', '.join(GROUPS)}; got '{group}'.")
    names = _theme_names(stored)
    if quarter is None:
        now = _counted(_comments(gateway, stored, filters), group)
        table = names.join(now, on="theme", how="left").with_columns(
            share_previous=pl.lit(None, pl.Float64),
            change=pl.lit(None, pl.Float64),
            p_value=pl.lit(None, pl.Float64),
        )
        order = ["comments", "label"]
    else:
        this = parse_period(quarter, "quarter")
        before = shift(this, "quarter", -1)
        now = _counted(
            _comments(gateway, stored, filters, since=this, until=period_end(this, "quarter")),
            group,
        )
        then = _counted(
            _comments(gateway, stored, filters, since=before, until=period_end(before, "quarter")),
            group,
        ).select("theme", previous="comments", share_previous="share")
        table = (
            names.join(now, on="theme", how="left")
            .join(then, on="theme", how="left")
            .with_columns(pl.col("comments", "previous").fill_null(0))
            .with_columns(pl.col("share", "share_previous").fill_null(0.0))
            .with_columns(change=pl.col("share") - pl.col("share_previous"))
        )
        now_total, before_total = int(table["comments"].sum()), int(table["previous"].sum())
        table = table.with_columns(
            p_value=pl.Series(
                [
                    stats.proportion_change_p((b, before_total), (a, now_total))
                    for a, b in table.select("comments", "previous").iter_rows()
                ],
                dtype=pl.Float64,
            )
        )
        order = ["change", "label"]
    table = table.with_columns(pl.col("comments").fill_null(0)).sort(
        order, descending=[True, False], nulls_last=True
    )
    return _protected(gateway, table.select(THEMES_SCHEMA.names()).cast(THEMES_SCHEMA))


def theme_trend(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters = EVERYONE,
    *,
    period: str = "quarter",
    group: str | None = None,
) -> pl.DataFrame:
    """Each theme's share of the comments (of `group`'s, an NPS group, when given) per
    period, with the change from the period before and its two-sided p-value (pooled
    two-proportion z-test): period, theme, label, comments, share, change, p_value, hidden.
    Viewers see no share of a period with fewer comments than the minimum."""
    if period not in ("month", "quarter"):
        raise ConfigError(f"Theme trends are by month or quarter; got '{period}'.")
    found = _comments(gateway, stored, filters)
    if group is not None:
        found = found.filter(in_group(group))
    counted = (
        found.group_by(_period_start(period), "theme")
        .agg(comments=pl.len())
        .with_columns(_period_label(period))
        .collect()
    )
    periods = counted.select("period").unique().sort("period")
    grid = periods.join(_theme_names(stored).select("theme", "label"), how="cross")
    table = (
        grid.join(counted, on=["period", "theme"], how="left")
        .with_columns(pl.col("comments").fill_null(0).cast(pl.Int64))
        .with_columns(total=pl.col("comments").sum().over("period"))
        .with_columns(share=pl.col("comments") / pl.col("total"))
        .sort("theme", "period")
        .with_columns(
            before=pl.col("comments").shift(1).over("theme"),
            total_before=pl.col("total").shift(1).over("theme"),
            change=pl.col("share") - pl.col("share").shift(1).over("theme"),
        )
    )
    p_values = [
        None if b is None else stats.proportion_change_p((int(b), int(m)), (a, n))
        for a, n, b, m in table.select("comments", "total", "before", "total_before").iter_rows()
    ]
    table = table.with_columns(p_value=pl.Series(p_values, dtype=pl.Float64))
    small = (pl.col("total") > 0) & (pl.col("total") < gateway.access.min_group)
    small_before = (pl.col("total_before") > 0) & (
        pl.col("total_before") < gateway.access.min_group
    )
    hidden = pl.when(small).then(pl.lit(f"fewer than {gateway.access.min_group} comments"))
    return (
        table.with_columns(hidden=hidden)
        .with_columns(
            *[
                pl.when(pl.col("hidden").is_null()).then(pl.col(c)).alias(c)
                for c in ("comments", "share")
            ],
            *[
                pl.when(pl.col("hidden").is_null() & ~small_before.fill_null(False))
                .then(pl.col(c))
                .alias(c)
                for c in ("change", "p_value")
            ],
        )
        .sort("period", "theme")
        .select("period", "theme", "label", "comments", "share", "change", "p_value", "hidden")
    )


def theme_examples(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters = EVERYONE,
    *,
    group: str | None = None,
    per_theme: int = 3,
) -> pl.DataFrame:
    """Example verbatims per theme (theme, examples: a list): its most often written
    comments in view, then the newest; none for a theme of fewer comments than a viewer's
    minimum. Masked for viewers as the verbatims are."""
    found = _comments(gateway, stored, filters)
    if group is not None:
        found = found.filter(in_group(group))
    if gateway.access.mask_pii:
        found = found.with_columns(masked_free_text(pl.col("text")))
    minimum = gateway.access.min_group
    return (
        found.group_by("theme", "text")
        .agg(times=pl.len(), newest=pl.col("at").max())
        .with_columns(total=pl.col("times").sum().over("theme"))
        .filter(pl.col("total") >= max(minimum, 1))
        .sort(["theme", "times", "newest", "text"], descending=[False, True, True, False])
        .group_by("theme", maintain_order=True)
        .agg(examples=pl.col("text").head(per_theme))
        .collect()
    )


def _counted(found: pl.LazyFrame, group: str | None) -> pl.DataFrame:
    if group is not None:
        found = found.filter(in_group(group))
    frame = found.select("theme", "sentiment", "nps").collect()
    total = frame.height
    return frame.group_by("theme").agg(
        comments=pl.len(),
        share=pl.len() / total if total else pl.lit(None, pl.Float64),
        sentiment=pl.col("sentiment").mean(),
        nps=_nps(pl.col("nps")),
    )


def _protected(gateway: QueryGateway, table: pl.DataFrame) -> pl.DataFrame:
    """The theme rows a viewer may see: themes of fewer comments than the minimum hidden,
    and enough others that they cannot be worked out from the total."""
    cells = disclosure.protect(
        table.with_columns(unit=pl.lit("comments"), _all=pl.lit(1)),
        count="comments",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("_all",))],
    ).drop("unit", "_all")
    shown = ["comments", "share", "share_previous", "change", "p_value", "sentiment", "nps"]
    return disclosure.blank(cells, shown)


def themes_by_group(
    gateway: QueryGateway, stored: StoredFeedback, filters: Filters = EVERYONE
) -> pl.DataFrame:
    """What each NPS group talks about: per theme and group, the comments and their share of
    the group's comments (theme, label, nps_group, comments, share, hidden)."""
    found = (
        _comments(gateway, stored, filters)
        .filter(pl.col("nps_group").is_not_null())
        .select("theme", "nps_group")
        .collect()
    )
    counted = (
        found.group_by("theme", "nps_group")
        .agg(comments=pl.len())
        .with_columns(share=pl.col("comments") / pl.col("comments").sum().over("nps_group"))
    )
    grid = (
        _theme_names(stored)
        .select("theme", "label")
        .join(pl.DataFrame({"nps_group": list(NPS_GROUPS)}), how="cross")
    )
    table = (
        grid.join(counted, on=["theme", "nps_group"], how="left")
        .with_columns(pl.col("comments").fill_null(0), pl.col("share").fill_null(0.0))
        .cast({"comments": pl.Int64})
    )
    cells = disclosure.protect(
        table.with_columns(unit=pl.lit("comments")),
        count="comments",
        unit="unit",
        minimum=gateway.access.min_group,
        lines=[disclosure.Line(("nps_group",)), disclosure.Line(("theme",))],
    ).drop("unit")
    return disclosure.blank(cells, ["comments", "share"])


def sentiment_trend(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters = EVERYONE,
    *,
    period: str = "month",
) -> pl.DataFrame:
    """Per period: comments, mean sentiment, the shares of positive and negative comments,
    and the NPS of every response with a score (not only those with a comment)."""
    if period not in ("month", "quarter"):
        raise ConfigError(f"Sentiment is by month or quarter; got '{period}'.")
    found = _comments(gateway, stored, filters).select("at", "sentiment").collect()
    rows, params = scoped_rows("surveys", filters, since=filters.start, until=filters.end)
    scores = gateway.query(
        f"SELECT responded_at AS at, nps FROM ({rows}) WHERE nps IS NOT NULL", params
    )
    said = (
        found.group_by(_period_start(period))
        .agg(
            comments=pl.len(),
            sentiment=pl.col("sentiment").mean(),
            positive=(pl.col("sentiment") >= 0.05).mean(),
            negative=(pl.col("sentiment") <= -0.05).mean(),
        )
        .with_columns(_period_label(period))
    )
    scored = (
        scores.group_by(_period_start(period))
        .agg(responses=pl.len(), nps=_nps(pl.col("nps")))
        .with_columns(_period_label(period))
    )
    table = (
        said.join(scored, on="period", how="full", coalesce=True)
        .with_columns(pl.col("comments", "responses").fill_null(0).cast(pl.Int64))
        .sort("period")
        .select("period", "comments", "sentiment", "positive", "negative", "responses", "nps")
    )
    protected = disclosure.protect(
        table.with_columns(unit=pl.lit("comments")),
        count="comments",
        unit="unit",
        minimum=gateway.access.min_group,
    ).drop("unit")
    protected = disclosure.blank(protected, ["comments", "sentiment", "positive", "negative"])
    small = (pl.col("responses") > 0) & (pl.col("responses") < gateway.access.min_group)
    return protected.with_columns(
        pl.when(small).then(None).otherwise(pl.col("nps")).alias("nps"),
        pl.when(small).then(None).otherwise(pl.col("responses")).alias("responses"),
    )


def _period_start(period: str) -> pl.Expr:
    """The start of each comment's period (`period`): grouped on, then labelled, since
    labelling every comment takes longer than grouping them."""
    return pl.col("at").dt.truncate("1q" if period == "quarter" else "1mo").alias("period")


def _period_label(period: str) -> pl.Expr:
    """The `period` starts' labels ("2025-Q1", "2025-03")."""
    start = pl.col("period")
    if period == "quarter":
        year = start.dt.year().cast(pl.String)
        return (year + "-Q" + start.dt.quarter().cast(pl.String)).alias("period")
    return start.dt.strftime("%Y-%m").alias("period")


def driver_frame(
    gateway: QueryGateway, filters: Filters = EVERYONE, *, facts: Path | None = None
) -> pl.DataFrame:
    """Per survey response within the filters, by response id: nps, csat, ces, every `attr_`
    rating, the customer's tickets in the `TICKET_WINDOW_DAYS` before it and whether one of
    them waited more than `SLOW_REPLY_HOURS` for a first reply (null for anonymous
    responses): read from `facts` (the feedback build's, `tickets.PART`) when given, else
    counted from the tickets this user may see. In one order whatever the path, so that
    the models fitted on it come out to the last digit the same."""
    rows, params = scoped_rows("surveys", filters, since=filters.start, until=filters.end)
    if facts is None:
        sql = f"SELECT r.*, {tickets.FACTS_SQL} FROM ({rows}) r"
    else:
        sql = (
            f"SELECT r.*, f.tickets_before, f.slow_reply FROM ({rows}) r "
            "LEFT JOIN read_parquet($facts) f ON f.response_id = r.response_id"
        )
        params["facts"] = str(facts)
    return gateway.query(f"{sql} ORDER BY r.response_id", params)


def driver_table(
    gateway: QueryGateway, filters: Filters = EVERYONE, *, target: str = "nps"
) -> kda.DriverModel:
    """Key drivers of `target` (nps, csat or ces) among the survey ratings (`attr_` columns
    with numbers), the operational facts of `driver_frame` and the survey channel (a
    category); CES is an effort score, so its drivers explain lower effort.

    A user who sees every response (no access limit, no dimension chosen, every day of the
    surveys in the range) gets the models the feedback build fitted on them; others get
    theirs fitted now, with the build's ticket facts where their access leaves every
    ticket of a visible customer in view."""
    if target not in TARGETS:
        raise ConfigError(f"Key drivers explain {', '.join(TARGETS)}; got '{target}'.")
    stored = _stored_for(gateway)
    if stored is not None and _sees_every_response(gateway, filters, stored):
        return _stored_model(stored, target, gateway.access.min_group)
    # Asked of the columns first: without ratings there is nothing to read the rows for.
    if not _rating_columns(gateway, filters):
        raise ConfigError(NO_RATINGS)
    facts = None if stored is None else stored.path(tickets.PART)
    if tickets.narrows_tickets(gateway.access) or (facts is not None and not facts.exists()):
        facts = None
    frame = driver_frame(gateway, filters, facts=facts)
    return driver_model(frame, target, gateway.access.min_group)


NO_RATINGS = (
    "The surveys have no rating columns to explain scores with (extra numeric columns of a "
    "survey export are kept as attr_… columns)."
)
DRIVERS_PART = "drivers.parquet"  # feedback-<key>.drivers.parquet: everyone's driver tables


def driver_model(frame: pl.DataFrame, target: str, minimum: int = 0) -> kda.DriverModel:
    """The key drivers of `target` in `driver_frame`'s rows, hidden (ConfigError) when they
    rest on fewer than `minimum` responses."""
    ratings = [c for c, t in frame.schema.items() if c.startswith("attr_") and t.is_numeric()]
    if not ratings:
        raise ConfigError(NO_RATINGS)
    operational = ["tickets_before", "slow_reply"]
    frame = frame.with_columns(
        # Performance reads "higher is better": no tickets before, no slow reply.
        pl.col("tickets_before").cast(pl.Float64).neg(),
        pl.col("slow_reply").cast(pl.Float64).neg(),
    )
    bounds = frame.select(
        *[pl.col(c).cast(pl.Float64).min().alias(f"{c}_low") for c in [*ratings, *operational]],
        *[pl.col(c).cast(pl.Float64).max().alias(f"{c}_high") for c in ratings],
    ).row(0, named=True)
    scales = {c: (bounds[f"{c}_low"] or 0.0, bounds[f"{c}_high"] or 1.0) for c in ratings}
    scales |= {c: (bounds[f"{c}_low"] or -1.0, 0.0) for c in operational}
    y = pl.col(target).cast(pl.Float64)
    frame = frame.with_columns(y.neg() if target == "ces" else y)
    answered = frame.filter(pl.col(target).is_not_null())
    usable = [c for c in [*ratings, *operational] if answered[c].null_count() < answered.height]
    categories = [c for c in ("channel",) if answered[c].drop_nulls().n_unique() > 1]
    model = kda.key_drivers(frame, target, usable, scales, categories)
    if model.n < minimum:
        raise ConfigError(f"Fewer than {minimum} responses: hidden.")
    return model


def everyone_drivers(frame: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, object]]:
    """What the feedback build keeps of every target's key drivers in `frame` (every
    response, `driver_frame` of an unrestricted gateway): the tables with `target`, and per
    target its R-squared and n, or why there are none; with the responses' first and last
    day, the range a reader's filters must cover to use them."""
    tables: list[pl.DataFrame] = []
    models: dict[str, dict[str, object]] = {}
    for target in TARGETS:
        try:
            model = driver_model(frame, target)
        except ConfigError as exc:
            models[target] = {"why": str(exc)}
            continue
        models[target] = {"r2": model.r2, "n": model.n}
        tables.append(model.table.select(pl.lit(target).alias("target"), pl.all()))
    days = frame.select(first=pl.col("responded_at").min(), last=pl.col("responded_at").max()).row(
        0
    )
    found: dict[str, object] = {
        "targets": models,
        "days": [None if d is None else d.date().isoformat() for d in days],
    }
    empty = pl.DataFrame(schema={"target": pl.String, **kda.DRIVERS_SCHEMA})
    return pl.concat([empty, *tables]), found


def _stored_for(gateway: QueryGateway) -> StoredFeedback | None:
    """The feedback build of the surveys and tickets this gateway reads, if there is one."""
    try:
        stored = current(gateway.warehouse)
    except ConfigError:  # settings broken by hand: no build to read, the rows still answer
        return None
    if stored is None:
        return None
    read = gateway.versions()
    if any(read.get(name) != v for name, v in stored.meta["versions"].items()):
        return None
    return stored


def _sees_every_response(gateway: QueryGateway, filters: Filters, stored: StoredFeedback) -> bool:
    drivers = stored.meta.get("drivers")
    if drivers is None or gateway.access.limits or filters.with_range(None, None).selections():
        return False
    first, last = (None if d is None else date.fromisoformat(d) for d in drivers["days"])
    return (filters.start is None or (first is not None and filters.start <= first)) and (
        filters.end is None or (last is not None and filters.end >= last)
    )


def _stored_model(stored: StoredFeedback, target: str, minimum: int) -> kda.DriverModel:
    found = stored.meta["drivers"]["targets"][target]
    if "why" in found:
        raise ConfigError(found["why"])
    table = pl.read_parquet(stored.path(DRIVERS_PART))
    model = kda.DriverModel(
        table.filter(pl.col("target") == target).drop("target"),
        float(found["r2"]),
        int(found["n"]),
    )
    if model.n < minimum:
        raise ConfigError(f"Fewer than {minimum} responses: hidden.")
    return model


def _rating_columns(gateway: QueryGateway, filters: Filters) -> list[str]:
    """The surveys' numeric `attr_` columns (their ratings), from the columns alone."""
    rows, params = scoped_rows("surveys", filters, since=filters.start, until=filters.end)
    schema = gateway.query(f"SELECT * FROM ({rows}) LIMIT 0", params).schema
    return [c for c, t in schema.items() if c.startswith("attr_") and t.is_numeric()]


DRIVER_LABELS = {
    "channel": "Survey channel",
    "tickets_before": f"Tickets in the {TICKET_WINDOW_DAYS} days before",
    "slow_reply": f"A ticket waiting over {SLOW_REPLY_HOURS} h for a first reply",
}


def driver_label(name: str) -> str:
    if name in DRIVER_LABELS:
        return DRIVER_LABELS[name]
    text = name.removeprefix("attr_").replace("_", " ")
    return text[:1].upper() + text[1:]


def verbatims(
    gateway: QueryGateway,
    stored: StoredFeedback,
    filters: Filters = EVERYONE,
    *,
    search: str | None = None,
    theme: str | None = None,
    tone: str | None = None,
    group: str | None = None,
    limit: int = 500,
) -> tuple[pl.DataFrame, str | None]:
    """The comments matching the search (words in any case), theme, tone (positive, neutral,
    negative) and NPS group, newest first, and why they are hidden from this user (null:
    shown): a viewer sees no verbatims of fewer respondents than the minimum."""
    found = comments(gateway, stored, filters)
    if gateway.access.mask_pii:  # as the gateway masks the comments it reads for viewers
        found = found.with_columns(masked_free_text(pl.col("text")))
    if search and search.strip():
        wanted = search.strip().lower()
        found = found.filter(pl.col("text").str.to_lowercase().str.contains(wanted, literal=True))
    if theme is not None:
        found = found.filter(pl.col("theme") == theme)
    if group is not None:
        found = found.filter(in_group(group))
    if tone is not None:
        from analytics.feedback.sentiment import label

        found = found.filter(label(pl.col("sentiment")) == tone)
    minimum = gateway.access.min_group
    if 0 < found.height < minimum:
        return found.clear(), f"fewer than {minimum} comments"
    labels = _theme_names(stored).select("theme", "label")
    shown = (
        found.join(labels, on="theme", how="left")
        .sort(["at", "id"], descending=[True, False])
        .head(limit)
        .select("id", "customer_id", "at", "text", "label", "sentiment", "nps", "nps_group")
    )
    return shown, None
