"""Records ``datetime`` at the ends of the calendar and without a zone.

Dates without a zone are UTC. ``0001-01-01`` used to be turned into the server's local zone,
which overflows below ``datetime.min`` on any host east of UTC, and the valid date got a 400.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from geoportal.catalog.records import check_interval, search
from geoportal.errors import InputError


@pytest.fixture(params=["Europe/Minsk", "America/Los_Angeles", "UTC"])
def host_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test as on a host east of UTC, west of it and on UTC (the old bug showed only off
    UTC), restoring the process's zone afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def record(updated: str) -> dict[str, Any]:
    """The least of a record ``search`` reads when only ``datetime`` is given."""
    return {"id": updated, "properties": {"updated": updated}, "geometry": None}


RECORDS = [record("2024-05-01T10:00:00+00:00"), record("2024-05-01T23:30:00+00:00"),
           record("2024-05-02T00:30:00+00:00")]


def hits(interval: str) -> list[str]:
    """The ``updated`` stamps of the records ``interval`` selects."""
    return [r["properties"]["updated"] for _, r in search(RECORDS, interval=interval)]


@pytest.mark.parametrize("interval", [
    "0001-01-01", "9999-12-31", "0001-01-01/..", "../9999-12-31", "0001-01-01/9999-12-31",
    "0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00Z/..",
])
def test_the_ends_of_the_calendar_are_valid(interval: str, host_zone: str) -> None:
    """Extreme but valid dates pass the check instead of a 400 'is not a date'."""
    check_interval(interval)


@pytest.mark.parametrize(("interval", "expected"), [
    ("0001-01-01", []),
    ("9999-12-31", []),
    ("0001-01-01/..", [r["properties"]["updated"] for r in RECORDS]),
    ("../9999-12-31", [r["properties"]["updated"] for r in RECORDS]),
    ("0001-01-01/2024-05-01", ["2024-05-01T10:00:00+00:00", "2024-05-01T23:30:00+00:00"]),
])
def test_the_ends_of_the_calendar_filter(interval: str, expected: list[str],
                                         host_zone: str) -> None:
    """Open and extreme intervals select what they say; an end date includes its whole day."""
    assert hits(interval) == expected


def test_a_date_without_a_zone_is_a_utc_day(host_zone: str) -> None:
    """2024-05-01 is the UTC day: 23:30 UTC is in it and 00:30 UTC the next morning is not,
    whatever the server's own zone."""
    assert hits("2024-05-01") == ["2024-05-01T10:00:00+00:00", "2024-05-01T23:30:00+00:00"]
    assert hits("2024-05-01T23:30:00") == ["2024-05-01T23:30:00+00:00"]
    assert hits("2024-05-02T00:00:00/..") == ["2024-05-02T00:30:00+00:00"]


@pytest.mark.parametrize("interval", [
    "garbage", "2020-13-45", "9999999-01-01", "10000-01-01", "2024-01-02/2024-01-01", "a/b/c", "..",
])
def test_invalid_intervals_are_input_errors(interval: str) -> None:
    """Anything else stays a 400 naming ``datetime``."""
    with pytest.raises(InputError, match="datetime"):
        check_interval(interval)
