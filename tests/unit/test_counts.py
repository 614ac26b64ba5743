"""numberMatched on both stores: exact when the page shows it or counting is quick, estimated
(and flagged) when an exact count would take longer than the budget."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import shapely
from pygeofilter.parsers.cql2_text import parse

from geoportal.catalog import Field
from geoportal.storage import Query

FIELDS = [Field("name", "string"), Field("rank", "integer")]
N = 60_000
BATCH = 10_000


def _names(ranks: np.ndarray) -> list[str]:
    # "a" for about a third of the features, spread through the fids (not one block)
    return [("a" if (r * 7919) % 3 == 0 else "b") + f"-{r}" for r in ranks.tolist()]


@pytest.fixture
def big(store):
    lon = 23.5 + (np.arange(N) % 300) * 0.025
    lat = 51.5 + (np.arange(N) // 300) * 0.02
    with store.stage("big-layer", geometry_type="Point") as writer:
        for start in range(0, N, BATCH):
            ranks = np.arange(start, start + BATCH)
            props = pa.table({"name": pa.array(_names(ranks), pa.string()),
                              "rank": pa.array(ranks, pa.int64())})
            writer.write(props, shapely.points(lon[start:start + BATCH], lat[start:start + BATCH]))
        return writer.commit()


def _truth(predicate) -> int:
    ranks = np.arange(N)
    return sum(1 for r, name in zip(ranks.tolist(), _names(ranks), strict=True)
               if predicate(r, name))


def test_exact_count_within_the_budget(store, big):
    store.count_budget_ms = 0  # no budget: always exact
    result = store.query(big, FIELDS, Query(limit=10, filter=parse("name LIKE 'a%'")))
    assert not result.estimated
    assert result.number_matched == _truth(lambda r, n: n.startswith("a"))
    assert len(result.rows) == 10


def test_a_short_page_is_its_own_count(store, big):
    store.count_budget_ms = 1
    result = store.query(big, FIELDS, Query(limit=100, offset=20,
                                            filter=parse("rank >= 59950")))
    assert (len(result.rows), result.number_matched, result.estimated) == (30, 50, False)


def test_slow_count_is_estimated_and_flagged(store, big):
    store.count_budget_ms = 1  # far less than counting 60,000 LIKEs takes
    cql = "name LIKE 'a%' AND rank <> 5"
    result = store.query(big, FIELDS, Query(limit=10, offset=1000, filter=parse(cql)))
    truth = _truth(lambda r, n: n.startswith("a") and r != 5)
    assert result.estimated
    assert abs(result.number_matched - truth) <= 0.2 * truth, (result.number_matched, truth)
    assert result.number_matched > 1010  # never less than the page proves
    assert len(result.rows) == 10


def test_estimate_respects_what_the_page_proves(store, big):
    store.count_budget_ms = 1
    # one match in 60,000: a sample sees none, yet the page holds it
    result = store.query(big, FIELDS, Query(limit=1, filter=parse("name LIKE '%-12345'")))
    assert [r.properties["rank"] for r in result.rows] == [12345]
    assert result.number_matched >= 1


def test_pages_of_one_filter_agree_on_the_estimate(store, big):
    store.count_budget_ms = 1
    cql = parse("name LIKE '%7%'")
    first = store.query(big, FIELDS, Query(limit=10, filter=cql))
    store.count_budget_ms = 0  # a second count would now be exact: the first one is reused
    later = store.query(big, FIELDS, Query(limit=10, offset=500, filter=cql))
    assert first.estimated and later.estimated
    assert first.number_matched == later.number_matched
    assert [r.fid for r in later.rows] != [r.fid for r in first.rows]
