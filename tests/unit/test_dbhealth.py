"""Database faults as the portal classifies them (issue 17): real psycopg exceptions by
SQLSTATE, one database name for every component, the "log once" helper, the replica's
reroute while it is away, and ``/readyz``'s verdict and answer cache. No server needed."""

from __future__ import annotations

import logging

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy import exc as sa_exc

from geoportal.errors import DatabaseUnavailable, StorageError
from geoportal.i18n import translate
from geoportal.server.health import CACHE_S, _Checks, _verdict
from geoportal.storage import dbhealth
from geoportal.storage.postgis import libpq_url


def _error(sqlstate: str | None, message: str = "boom") -> psycopg.Error:
    """A real psycopg exception of the class psycopg raises for ``sqlstate``."""
    if sqlstate is None:  # libpq could not connect: no SQLSTATE
        return psycopg.OperationalError("connection refused")
    return psycopg.errors.lookup(sqlstate)(message)


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A database name of this test's own: outages are per process, by name."""
    return f"127.0.0.1:1/{request.node.name[:40]}"


@pytest.mark.parametrize("sqlstate", [None, "08006", "08001", "57P01", "57P02", "57P03"])
def test_a_database_going_away_is_an_outage(sqlstate, name):
    found = dbhealth.classify(_error(sqlstate), name, "items")
    assert isinstance(found, DatabaseUnavailable)
    assert found.user_msg == dbhealth.UNREACHABLE and dbhealth.unreachable(found)
    assert dbhealth.outage(name).down
    dbhealth.outage(name).recovered()


@pytest.mark.parametrize(("sqlstate", "message", "retry_after"), [
    ("40001", dbhealth.TRY_AGAIN, 1),  # serialization failure, a standby's recovery conflict
    ("40P01", dbhealth.TRY_AGAIN, 1),  # deadlock
    ("53300", dbhealth.BUSY, 5),  # too many connections
    ("55P03", dbhealth.LOCKED, 2),
    ("57014", dbhealth.TOO_SLOW, 5),
    ("25006", dbhealth.READ_ONLY, 30),
])
def test_a_refused_request_is_a_503_without_an_outage(sqlstate, message, retry_after, name):
    found = dbhealth.classify(_error(sqlstate), name, "items")
    assert isinstance(found, DatabaseUnavailable)
    assert found.user_msg == message and found.retry_after == retry_after
    assert not dbhealth.unreachable(found)
    assert not dbhealth.outage(name).down  # no outage, no traceback, the pool is kept


def test_a_wrapped_error_is_classified_by_its_driver_error(name):
    wrapped = sa_exc.OperationalError("SELECT 1", {}, _error("40001"))
    assert dbhealth.classify(wrapped, name, "catalog").user_msg == dbhealth.TRY_AGAIN


@pytest.mark.parametrize("sqlstate", ["54000", "42P01", "23505"])
def test_other_errors_are_the_callers_storage_error(sqlstate, name):
    assert dbhealth.classify(_error(sqlstate), name, "items") is None
    error = dbhealth.database_error(_error(sqlstate), "items", name)
    assert type(error) is StorageError and "items" in str(error)
    assert not dbhealth.outage(name).down


def test_sqlite_errors_are_never_classified():
    error = dbhealth.database_error(_error(None), "catalog", None)
    assert type(error) is StorageError


def test_every_component_names_a_database_the_same_way():
    """The catalog (an engine), the store (a libpq URL) and a plain URL count one outage."""
    url = "postgresql://geo:secret@db.example:6432/portal"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    names = {dbhealth.database_name(url), dbhealth.database_name(engine),
             dbhealth.database_name(engine.url), dbhealth.database_name(libpq_url(url))}
    assert names == {"db.example:6432/portal"}
    default_port = create_engine("postgresql+psycopg://geo@db.example/portal")
    assert dbhealth.database_name(default_port) == \
        dbhealth.database_name("postgresql://db.example/portal") == "db.example:5432/portal"
    assert "secret" not in "".join(names)


def test_log_once_logs_the_first_failure_until_it_works_again(caplog):
    once = dbhealth.LogOnce(logging.getLogger("geoportal.test"), "rows not stored")
    with caplog.at_level(logging.WARNING, logger="geoportal.test"):
        once.failed(RuntimeError("one"))
        once.failed(RuntimeError("two"))
        once.worked()
        once.failed(RuntimeError("three"))
    lines = [r.getMessage() for r in caplog.records if r.name == "geoportal.test"]
    assert len(lines) == 2
    assert "one" in lines[0] and "three" in lines[1] and "rows not stored" in lines[0]


def test_reads_leave_a_replica_known_away_and_come_back_with_one_line_each(caplog, name):
    unused = "postgresql://127.0.0.1:1/none?connect_timeout=2"  # a closed port: probes fail
    assert not dbhealth.replica_down(name, unused)  # no outage known: the replica is used
    with caplog.at_level(logging.WARNING, logger="geoportal.database"):
        dbhealth.classify(_error(None), name, "items")  # the replica found away
        assert dbhealth.replica_down(name, unused)
        dbhealth.outage(name)._probed = 0.0  # past the probe interval
        assert dbhealth.replica_down(name, unused)  # probed again: still away
        dbhealth.outage(name).recovered()  # e.g. /readyz's ping reached it
        assert not dbhealth.replica_down(name, unused)
    lines = [r.getMessage() for r in caplog.records if name in r.getMessage()]
    assert sum("go to the primary" in line for line in lines) == 1
    assert sum("go to the replica" in line and "again" in line for line in lines) == 1


def test_readyz_reuses_an_answer_for_a_second():
    now = [100.0]
    calls: list[int] = []
    checks = _Checks(clock=lambda: now[0])

    def failing() -> None:
        calls.append(1)
        raise DatabaseUnavailable("catalog (10.0.0.5:5432/portal): connection refused",
                                  user_msg=dbhealth.UNREACHABLE)

    assert checks.run("database", failing) == \
        ("unreachable", "catalog (10.0.0.5:5432/portal): connection refused")
    now[0] += CACHE_S / 2
    assert checks.run("database", failing)[0] == "unreachable"
    assert len(calls) == 1
    now[0] += CACHE_S
    assert checks.run("database", lambda: None) == ("ok", "")
    assert len(calls) == 1


@pytest.mark.parametrize(("results", "replica", "status", "failing"), [
    ({"database": "ok", "objects": "ok"}, False, "ok", []),
    ({"database": "unreachable", "objects": "ok"}, False, "unavailable", ["database"]),
    ({"database": "unreachable", "replica": "ok", "objects": "ok"}, True,
     "degraded: writes unavailable", ["database"]),
    ({"database": "ok", "replica": "timeout", "objects": "ok"}, True,
     "degraded: reads from the primary", ["replica"]),
    ({"database": "unreachable", "replica": "unreachable", "objects": "ok"}, True,
     "unavailable", ["database", "replica"]),
    ({"database": "ok", "replica": "ok", "objects": "unreachable"}, True, "unavailable",
     ["objects"]),
])
def test_a_node_is_ready_while_it_can_serve_reads(results, replica, status, failing):
    assert _verdict(results, replica, loaded=True) == (status, failing)
    assert _verdict(results, replica, loaded=False)[0] == "unavailable"


@pytest.mark.parametrize("message", [dbhealth.TRY_AGAIN, dbhealth.BUSY, dbhealth.UNREACHABLE])
def test_the_new_refusals_are_said_in_belarusian_and_russian(message):
    assert translate(message, "be") != message and translate(message, "ru") != message
