"""Twenty readers on one gateway while an analyst loads new versions: every answer is one
whole version (old or new), and nothing fails."""

from __future__ import annotations

import threading
from datetime import date

from analytics import kpis
from analytics.filters import Filters
from analytics.ingest.pipeline import ingest
from analytics.warehouse import QueryGateway

READERS = 20
COMPLETED = (
    "SELECT count(*) AS n, sum(amount) AS revenue FROM orders "
    "WHERE coalesce(status, 'completed') = 'completed'"
)


def batch(index: int) -> bytes:
    """Two new completed orders in June: 100 + index and 200 + index."""
    return (
        "order_id,customer_id,order_date,amount\n"
        f"N{index}a,C1,2025-06-01,{100 + index}\n"
        f"N{index}b,C2,2025-06-02,{200 + index}\n"
    ).encode()


def test_readers_see_whole_versions_while_loads_commit(tiny_warehouse):
    gateway = QueryGateway(tiny_warehouse)
    # Every version's (completed orders, revenue): the tiny company, then each load's.
    versions = [(3, 1379.75)]
    for index in range(4):
        orders, revenue = versions[-1]
        versions.append((orders + 2, round(revenue + 300 + 2 * index, 2)))
    seen: set[tuple[int, float]] = set()
    scorecards: set[float] = set()
    errors: list[BaseException] = []
    stop = threading.Event()
    lock = threading.Lock()

    def read(reader: int) -> None:
        while not stop.is_set():
            try:
                if reader % 4:
                    n, revenue = gateway.query(COMPLETED).row(0)
                    with lock:
                        seen.add((n, round(revenue, 2)))
                else:  # a quarter of the readers compute what the Overview shows
                    card = kpis.scorecard(
                        gateway, Filters(), "quarter", date(2025, 4, 1), keys=("orders",)
                    )
                    with lock:
                        scorecards.add(card["value"][0])
            except BaseException as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=read, args=(i,)) for i in range(READERS)]
    for thread in threads:
        thread.start()
    try:
        for index in range(4):
            result = ingest(
                batch(index),
                dataset_name="orders",
                warehouse=tiny_warehouse,
                file_name=f"june-{index}.csv",
                user="analyst",
            )
            assert result.loaded, result.message
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors, errors[:3]
    assert seen <= set(versions), seen - set(versions)
    assert len(seen) >= 2  # the readers did see versions change under them
    assert scorecards <= {float(n) for n, _ in versions}
