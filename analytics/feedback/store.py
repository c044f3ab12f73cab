"""Feedback per data version: every comment scored for sentiment and given a theme once after
a load, stored as a derived table, read by every page and command.

`refresh` writes, for the current surveys and tickets and the feedback settings, in
`_feedback/`:

- `feedback-<key>.comments.parquet`: one row per survey response with a comment and per
  ticket with a text: id (a ticket's as `T:<ticket id>`), customer_id (null: anonymous), at,
  text, sentiment, theme (an id: `t0`, `t1`, ... for the discovered themes, `d:<name>` for
  the dictionary's, null for none), nps, csat, ces, source (survey or ticket);
- `feedback-<key>.model.npz`: the theme model (vocabulary, IDF weights, term weights);
- `feedback-<key>.ticket_facts.parquet`: per survey response, its customer's tickets before
  it and whether one waited long for a reply (`analytics.feedback.tickets`), and
  `.drivers.parquet`: the key drivers of every score over every response (with their
  R-squared, n and the responses' days in the meta file): what a user who sees every
  response is shown, which takes seconds to fit at two million responses;
- `feedback-<key>.json` (written last): the themes (id, label, top terms), how the number
  was chosen, what was reused from the build before, the data versions and the seconds.

Appends are incremental: a comment's sentiment depends on its text alone, so scores of
texts seen before are reused and only new texts are scored; the theme model is reused
(new comments are assigned to its themes) while the comments it was fitted on are at least
`1 - REFIT_SHARE` of all, and refitted otherwise. After a refit, themes keep their ids where
they match the previous model's (Hungarian matching on term weights), so that names and
colours do not jump.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from analytics import builds
from analytics.errors import ConfigError
from analytics.feedback import sentiment
from analytics.feedback.model import ThemeModel
from analytics.feedback.settings import SETTINGS_NAME, FeedbackSettings, load_settings
from analytics.feedback.tickets import PART as FACTS_PART
from analytics.feedback.tickets import ticket_facts
from analytics.warehouse import FULL_ACCESS, QueryGateway, Warehouse

FOLDER = "_feedback"
PREFIX = "feedback"
KEEP = 3
LAYOUT = 3  # raise with any change to what a build holds
REFIT_SHARE = 0.2  # refit the themes when more than this share of comments is new
MATCH_FROM = 0.3  # cosine similarity from which a new theme keeps an old theme's id
COMMENTS_SCHEMA = pl.Schema(
    {
        "id": pl.String(),
        "customer_id": pl.String(),
        "at": pl.Datetime("us"),
        "text": pl.String(),
        "sentiment": pl.Float64(),
        "theme": pl.String(),
        "nps": pl.Int64(),
        "csat": pl.Int64(),
        "ces": pl.Int64(),
        "source": pl.String(),  # survey (a response's comment) or ticket (its text)
    }
)


@dataclass(frozen=True)
class StoredFeedback:
    folder: Path
    key: str
    meta: dict[str, Any]
    settings: FeedbackSettings

    def path(self, part: str) -> Path:
        return self.folder / f"{PREFIX}-{self.key}.{part}"

    @property
    def comments_path(self) -> Path:
        return self.path("comments.parquet")

    def labels(self) -> dict[str, str]:
        """Theme id -> label, discovered and dictionary themes."""
        return {t["id"]: t["label"] for t in self.meta["themes"]}


DATASETS_USED = ("surveys", "tickets")
TICKET_PREFIX = "T:"  # a ticket's comment id: its ticket id after this (survey ids as they are)


def _versions(
    warehouse: Warehouse, settings: FeedbackSettings, at: builds.Pins | None = None
) -> tuple[str, dict[str, int | None]] | None:
    versions = builds.versions_of(warehouse, DATASETS_USED, at)
    if all(v is None for v in versions.values()):
        return None
    return builds.key_of(versions, _suffix(settings)), versions


def _suffix(settings: FeedbackSettings) -> str:
    return f"{settings.key()}-f{LAYOUT}"


def current(
    warehouse: Warehouse,
    settings: FeedbackSettings | None = None,
    *,
    at: builds.Pins | None = None,
) -> StoredFeedback | None:
    """The feedback analysis of the current data (or of the versions pinned `at`), or None
    when it is not built (yet)."""
    settings = settings or load_settings(warehouse.root)
    folder = warehouse.root / FOLDER
    found = builds.complete(folder, PREFIX, _versions(warehouse, settings, at))
    return None if found is None else StoredFeedback(folder, *found, settings)


def earlier(
    warehouse: Warehouse,
    settings: FeedbackSettings | None = None,
    *,
    like: builds.Pins | None = None,
) -> StoredFeedback | None:
    """The latest analysis with these settings (or the warehouse's own) of data the current
    data only appends to (`builds.earlier`, with `like`): what the pages show, saying so,
    while `current` is being built."""
    settings = settings or load_settings(warehouse.root)
    folder = warehouse.root / FOLDER
    found = builds.earlier(warehouse, folder, PREFIX, _suffix(settings), like)
    return None if found is None else StoredFeedback(folder, *found, settings)


def pending(warehouse: Warehouse, settings: FeedbackSettings | None = None) -> bool:
    settings = settings or load_settings(warehouse.root)
    return _versions(warehouse, settings) is not None and current(warehouse, settings) is None


def change_settings(
    warehouse: Warehouse, settings: FeedbackSettings, user: str, what: dict[str, object]
) -> bool:
    """Keep `settings` as the warehouse's feedback settings, audited with `what` changed;
    whether they differ from the ones before (the analysis is then rebuilt: `refresh`)."""
    before = load_settings(warehouse.root)
    return builds.change_settings(
        warehouse.root, SETTINGS_NAME, settings.as_json(), user, what, before=before.as_json()
    )


def read_comments(gateway: QueryGateway, warehouse: Warehouse) -> pl.DataFrame:
    """Every survey comment and ticket text (not blank) with the scores beside it, through
    `gateway` as it is."""
    parts = []
    if warehouse.version("surveys") is not None:
        parts.append(
            "SELECT response_id AS id, customer_id, responded_at AS at, comment AS text, "
            "nps, csat, ces, 'survey' AS source FROM surveys "
            "WHERE comment IS NOT NULL AND trim(comment) <> ''"
        )
    if warehouse.version("tickets") is not None:
        parts.append(
            f"SELECT '{TICKET_PREFIX}' || ticket_id AS id, customer_id, opened_at AS at, text, "
            "NULL AS nps, csat, NULL AS ces, 'ticket' AS source FROM tickets "
            "WHERE text IS NOT NULL AND trim(text) <> ''"
        )
    schema = pl.Schema(
        {c: t for c, t in COMMENTS_SCHEMA.items() if c not in ("sentiment", "theme")}
    )
    if not parts:
        return pl.DataFrame(schema=schema)
    return gateway.query(" UNION ALL ".join(parts)).cast(schema)


def refresh(
    warehouse: Warehouse,
    gateway: QueryGateway | None = None,
    *,
    settings: FeedbackSettings | None = None,
    at: builds.Pins | None = None,
) -> float | None:
    """Build the feedback analysis of the current data (or of the versions pinned `at`) if
    it is missing; seconds taken, or None when there was nothing to build. Safe to call
    from several processes at once."""
    settings = settings or load_settings(warehouse.root)
    folder = warehouse.root / FOLDER
    base = (gateway or QueryGateway(warehouse, threads=2)).scoped(FULL_ACCESS)

    def make(key: str, versions: dict[str, int | None]) -> None:
        started = time.perf_counter()
        pinned = base.at_versions(versions)
        comments = read_comments(pinned, warehouse)
        previous = _previous(folder)
        comments, scored = _with_sentiment(comments, previous)
        comments, model, reuse = _with_themes(comments, previous, settings)
        comments = _with_dictionary(comments, settings)
        meta = {
            "versions": versions,
            "settings": settings.as_json(),
            "comments": comments.height,
            "texts_scored": scored,
            "themes": _theme_list(model, settings),
            "k": model.k if model else 0,
            "k_scores": list(model.k_scores) if model else [],
            "coherence": model.coherence if model else None,
            "model": reuse,
            "first": comments["at"].min(),
            "last": comments["at"].max(),
        }
        builds.write_parquet(
            comments.select(COMMENTS_SCHEMA.names()).cast(COMMENTS_SCHEMA),
            folder / f"{PREFIX}-{key}.comments.parquet",
        )
        if model is not None:
            _save_model(model, folder / f"{PREFIX}-{key}.model.npz")
        if versions.get("surveys") is not None:
            meta["drivers"] = _write_drivers(pinned, folder, key)
        meta["seconds"] = round(time.perf_counter() - started, 2)
        builds.write_json(meta, folder / f"{PREFIX}-{key}.json")

    return builds.build_once(folder, PREFIX, lambda: _versions(warehouse, settings, at), make, KEEP)


def _write_drivers(gateway: QueryGateway, folder: Path, key: str) -> dict[str, object]:
    """Store every response's ticket facts, then the key drivers of every score over every
    response (what a user who sees them all is shown); what the meta file keeps of them."""
    # Imported here: the views read builds, so they import this module.
    from analytics.feedback.views import DRIVERS_PART, driver_frame, everyone_drivers

    facts = folder / f"{PREFIX}-{key}.{FACTS_PART}"
    builds.write_parquet(ticket_facts(gateway), facts)
    tables, found = everyone_drivers(driver_frame(gateway, facts=facts))
    builds.write_parquet(tables, folder / f"{PREFIX}-{key}.{DRIVERS_PART}")
    return found


@dataclass(frozen=True)
class _Previous:
    meta: dict[str, Any]
    comments: pl.DataFrame
    model: ThemeModel | None


def _previous(folder: Path) -> _Previous | None:
    """The latest complete build, if its files are still there."""
    found = builds.latest(folder, PREFIX)
    if found is None:
        return None
    key, meta = found
    stem = f"{PREFIX}-{key}"
    try:
        comments = pl.read_parquet(folder / f"{stem}.comments.parquet")
        model_path = folder / f"{stem}.model.npz"
        model = _load_model(model_path, meta) if model_path.exists() else None
    except OSError:
        return None
    return _Previous(meta, comments, model)


def _with_sentiment(comments: pl.DataFrame, previous: _Previous | None) -> tuple[pl.DataFrame, int]:
    """`comments` with `sentiment`, texts scored before reused; and how many texts were
    scored now."""
    scores, scored = sentiment.known_or_scored(
        comments["text"], None if previous is None else previous.comments
    )
    return comments.join(scores, on="text", how="left", maintain_order="left"), scored


def known_scores(warehouse: Warehouse) -> pl.DataFrame | None:
    """Every text the latest complete analysis scored, with its sentiment (text,
    sentiment), for others who score the same texts (the journeys); None when there is
    none."""
    folder = warehouse.root / FOLDER
    found = builds.latest(folder, PREFIX)
    if found is None:
        return None
    comments = folder / f"{PREFIX}-{found[0]}.comments.parquet"
    try:
        return pl.read_parquet(comments, columns=["text", "sentiment"])
    except OSError:  # removed meanwhile by a newer build
        return None


def _with_themes(
    comments: pl.DataFrame, previous: _Previous | None, settings: FeedbackSettings
) -> tuple[pl.DataFrame, ThemeModel | None, dict[str, Any]]:
    """`comments` with the discovered `theme` (null: none), the model, and how it came."""
    old = previous.comments.select("id", old_theme="theme") if previous else None
    reusable = (
        previous is not None
        and previous.model is not None
        and previous.meta["settings"].get("k") == settings.k
    )
    if reusable and old is not None and previous is not None and previous.model is not None:
        seen = comments.join(old, on="id", how="semi").height
        if comments.height and seen / comments.height >= 1 - REFIT_SHARE:
            model = previous.model
            new = comments.join(old, on="id", how="anti")
            found = _assigned(model, new)
            kept = comments.join(old, on="id", how="inner").with_columns(
                theme=pl.when(pl.col("old_theme").str.starts_with("t")).then("old_theme")
            )
            merged = pl.concat([kept.drop("old_theme"), found], how="diagonal")
            return merged, model, {"reused": True, "new_comments": new.height}
    from analytics.feedback import themes  # scikit-learn: only when themes are rebuilt

    texts = comments["text"].to_list()
    try:
        model = themes.fit_themes(texts, k=settings.k)
    except ConfigError as exc:  # too few comments (or words) for themes: none, and why
        none = comments.with_columns(theme=pl.lit(None, pl.String))
        return none, None, {"reused": False, "no_themes": str(exc)}
    if previous is not None and previous.model is not None:
        model = _matched(model, previous.model)
    return _assigned(model, comments), model, {"reused": False, "new_comments": comments.height}


def _assigned(model: ThemeModel, comments: pl.DataFrame) -> pl.DataFrame:
    """`comments` with `theme`: the id of each text's theme in `model` (each distinct text
    assigned once)."""
    from analytics.feedback import themes

    distinct = comments["text"].unique()
    index, _ = themes.assign(model, distinct.to_list())
    ids = [None if i < 0 else model_id(model, int(i)) for i in index]
    lookup = pl.DataFrame(
        {"text": distinct, "theme": ids}, schema={"text": pl.String, "theme": pl.String}
    )
    return comments.join(lookup, on="text", how="left")


def model_id(model: ThemeModel, index: int) -> str:
    return f"t{model.ids[index]}" if model.ids else f"t{index}"


def _matched(model: ThemeModel, before: ThemeModel) -> ThemeModel:
    """`model` with theme ids matched to `before`'s (cosine similarity of their term weights
    over the shared vocabulary, Hungarian matching); unmatched themes get new ids."""
    shared = sorted(set(model.vocabulary) & set(before.vocabulary))
    old_ids = list(before.ids or range(before.k))
    if not shared:
        return model.with_ids(list(range(max(old_ids) + 1, max(old_ids) + 1 + model.k)))
    where_new = {t: i for i, t in enumerate(model.vocabulary)}
    where_old = {t: i for i, t in enumerate(before.vocabulary)}
    a = model.components[:, [where_new[t] for t in shared]]
    b = before.components[:, [where_old[t] for t in shared]]
    norm = np.linalg.norm(a, axis=1)[:, None] * np.linalg.norm(b, axis=1)[None, :]
    similarity = np.divide(a @ b.T, norm, out=np.zeros((model.k, before.k)), where=norm > 0)
    from scipy.optimize import linear_sum_assignment  # only when themes are rebuilt

    rows, cols = linear_sum_assignment(-similarity)
    ids: list[int | None] = [None] * model.k
    for r, c in zip(rows, cols, strict=True):
        if similarity[r, c] >= MATCH_FROM:
            ids[r] = old_ids[c]
    following = max(old_ids) + 1
    for i in range(model.k):
        if ids[i] is None:
            ids[i] = following
            following += 1
    return model.with_ids([int(i) for i in ids if i is not None])


def _with_dictionary(comments: pl.DataFrame, settings: FeedbackSettings) -> pl.DataFrame:
    """The analyst's dictionary themes win for the comments they match."""
    if not settings.dictionary:
        return comments
    from analytics.feedback import themes

    matched = themes.dictionary_matches(comments["text"], settings.dictionary)
    return comments.with_columns(
        theme=pl.when(matched.is_not_null()).then(pl.lit("d:") + matched).otherwise(pl.col("theme"))
    )


def _theme_list(model: ThemeModel | None, settings: FeedbackSettings) -> list[dict[str, Any]]:
    listed = [
        {"id": f"d:{name}", "label": name, "top_terms": list(words), "source": "dictionary"}
        for name, words in settings.dictionary.items()
    ]
    if model is not None:
        listed += [
            {
                "id": model_id(model, i),
                "label": model.labels[i],
                "top_terms": list(model.top_terms[i]),
                "source": "discovered",
            }
            for i in range(model.k)
        ]
    return listed


def _save_model(model: ThemeModel, target: Path) -> None:
    partial = target.with_name(f".{target.stem}.partial.npz")
    np.savez(
        partial,
        vocabulary=np.array(model.vocabulary, dtype=str),
        idf=model.idf,
        components=model.components,
        ids=np.array(model.ids or list(range(model.k)), dtype=np.int64),
    )
    partial.replace(target)


def _load_model(path: Path, meta: dict[str, Any]) -> ThemeModel:
    with np.load(path, allow_pickle=False) as saved:
        discovered = [t for t in meta["themes"] if t["source"] == "discovered"]
        return ThemeModel(
            vocabulary=tuple(str(v) for v in saved["vocabulary"]),
            idf=saved["idf"],
            components=saved["components"],
            top_terms=tuple(tuple(t["top_terms"]) for t in discovered),
            labels=tuple(t["label"] for t in discovered),
            coherence=float(meta.get("coherence") or 0.0),
            k_scores=tuple(tuple(x) for x in meta.get("k_scores", [])),
            ids=tuple(int(i) for i in saved["ids"]),
        )
