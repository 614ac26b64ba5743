"""The one outage tracker of the database and the object store (``storage/outage.py``): what
it logs (the first failure with its traceback once, the refused requests at most every
``report_every_s``, the recovery once) and how often it lets a caller probe. Time is a
clock of the test's own, so nothing here depends on the machine's speed."""

from __future__ import annotations

import logging
import threading

import pytest

from geoportal.storage import dbhealth
from geoportal.storage.objects import PROBE_EVERY_S, S3ObjectStore
from geoportal.storage.outage import Outage, Outages

LOGGER = "geoportal.test.outage"


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(clock: Clock) -> Outage:
    return Outage("db.example:5432/portal", kind="database",
                  logger=logging.getLogger(LOGGER), probe_every_s=1.0, report_every_s=10.0,
                  clock=clock)


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def _away() -> None:
    raise ConnectionError("still away")


def test_the_first_failure_is_logged_once_with_its_traceback(tracker, caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        try:
            raise ConnectionError("connection refused")
        except ConnectionError as exc:
            tracker.failed(exc)
        tracker.failed(ConnectionError("again"))
        tracker.failed(ConnectionError("and again"))
    assert tracker.down and tracker.since is not None
    records = _lines(caplog)
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].getMessage() == \
        "database db.example:5432/portal unreachable: connection refused"
    assert records[0].exc_info is not None and "Traceback" in caplog.text


def test_refused_requests_are_reported_at_most_every_interval(tracker, clock, caplog):
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tracker.refuse()  # no outage known: counted, never reported
        tracker.failed(ConnectionError("down"))
        for _ in range(3):
            clock.now += 3
            tracker.refuse()
        clock.now += 1.5  # 10.5 s since the failure
        tracker.refuse()
        tracker.refuse()  # within the next interval: not reported
    still = [r.getMessage() for r in _lines(caplog) if "still unreachable" in r.getMessage()]
    assert len(still) == 1
    assert still[0].startswith("database db.example:5432/portal still unreachable "
                               "(4 requests refused since ")
    assert tracker.refused == 5


def test_a_probe_runs_at_most_every_interval_and_ends_the_outage(tracker, clock, caplog):
    calls: list[str] = []

    def answers() -> None:
        calls.append("answers")

    def away() -> None:
        calls.append("away")
        _away()

    assert tracker.probe_with(away)  # no outage known: go ahead, without probing
    assert calls == []
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tracker.failed(ConnectionError("down"))  # counts as an attempt
        clock.now += 0.5
        assert not tracker.probe_with(away)
        clock.now += 0.6
        with pytest.raises(ConnectionError, match="still away"):
            tracker.probe_with(away)  # the caller sees why
        assert tracker.down
        clock.now += 0.9
        assert not tracker.probe_with(answers)  # 0.9 s after the last attempt
        tracker.refuse()
        clock.now += 0.2
        assert tracker.probe_with(answers)
        assert tracker.probe_with(away)  # over: no more probing
    assert calls == ["away", "answers"]
    assert not tracker.down
    back = [r for r in _lines(caplog) if "reachable again" in r.getMessage()]
    assert len(back) == 1 and back[0].levelno == logging.WARNING
    assert back[0].getMessage().startswith("database db.example:5432/portal reachable again "
                                           "after ")
    assert back[0].getMessage().endswith(" s (1 requests refused)")


def test_one_probe_at_a_time(tracker, clock):
    entered, release = threading.Event(), threading.Event()
    results: list[bool] = []

    def slow() -> None:
        entered.set()
        assert release.wait(30)

    tracker.failed(ConnectionError("down"))
    clock.now += 5
    prober = threading.Thread(target=lambda: results.append(tracker.probe_with(slow)))
    prober.start()
    try:
        assert entered.wait(30)
        clock.now += 5  # long past the interval, but the first probe is not done
        assert not tracker.probe_with(lambda: results.append(False))
    finally:
        release.set()
        prober.join(30)
    assert results == [True] and not tracker.down


def test_recovery_is_logged_once(tracker, caplog):
    assert not tracker.recovered()  # nothing to end
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tracker.failed(ConnectionError("down"))
        assert tracker.recovered()
        assert not tracker.recovered()
    assert sum("reachable again" in r.getMessage() for r in _lines(caplog)) == 1


def test_a_new_outage_counts_from_zero(tracker, caplog):
    tracker.failed(ConnectionError("one"))
    tracker.refuse()
    tracker.recovered()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        tracker.failed(ConnectionError("two"))  # a second outage: its traceback again
        tracker.recovered()
    messages = [r.getMessage() for r in _lines(caplog)]
    assert messages[0].endswith("unreachable: two")
    assert messages[1].endswith("(0 requests refused)")


def test_outages_are_one_per_name_and_refusals_count_only_known_ones(clock):
    made: list[str] = []

    def make(name: str) -> Outage:
        made.append(name)
        return Outage(name, kind="object store", logger=logging.getLogger(LOGGER),
                      probe_every_s=1.0, clock=clock)

    outages = Outages(make)
    outages.refuse("never-asked")  # nothing made for a refusal
    outages.refuse(None)
    assert made == [] and outages.known("never-asked") is None
    first = outages.get("s3://a")
    assert outages.get("s3://a") is first and outages.known("s3://a") is first
    first.failed(ConnectionError("down"))
    outages.refuse("s3://a")
    assert first.refused == 1


def test_the_database_and_the_object_store_share_the_tracker():
    name = "127.0.0.1:1/test_the_database_and_the_object_store_share"
    database = dbhealth.outage(name)
    assert isinstance(database, Outage) and database.kind == "database"
    assert database.probe_every_s == dbhealth.PROBE_EVERY_S
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "k",
           "AWS_SECRET_ACCESS_KEY": "s"}
    store = S3ObjectStore("s3://geo/shared-tracker", env)
    assert type(store.outage) is Outage and store.outage.kind == "object store"
    assert store.outage.probe_every_s == PROBE_EVERY_S
    assert S3ObjectStore("s3://geo/shared-tracker", dict(env)).outage is store.outage
    assert S3ObjectStore("s3://geo/another", env).outage is not store.outage


def test_a_database_probe_that_cannot_connect_keeps_the_outage():
    name = "127.0.0.1:1/test_a_database_probe_that_cannot_connect"
    found = dbhealth.outage(name)
    found.failed(ConnectionError("simulated"))
    try:
        found._probed = 0.0  # past the probe interval
        assert not found.probe("postgresql://127.0.0.1:1/none?connect_timeout=2")
        assert found.down
    finally:
        found.recovered()
