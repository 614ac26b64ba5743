"""``geoportal.server.metrics`` in one process (no ``PROMETHEUS_MULTIPROC_DIR``): labels are
route templates, unknown routes and methods get fixed labels, store reads are timed, and
``metrics: false`` leaves no ``/metrics``. The real server, its workers summed, is
``tests/integration/test_metrics.py``."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, abort, request
from prometheus_client.parser import text_string_to_metric_families

from geoportal.config import load_settings
from geoportal.errors import InputError
from geoportal.server import metrics


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape by (name, labels)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    """A small Flask app measured by ``metrics.install``, with a route of its own."""
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)
    app = Flask("metrics-unit")
    app.extensions["geoportal"] = {}

    @app.get("/unit-things/<thing_id>")
    def thing(thing_id: str) -> str:
        if thing_id == "missing":
            abort(404)
        return "x" * 10

    metrics.install(app, load_settings(data_dir=tmp_path))
    return app


def _scrape(app: Flask) -> dict:
    response = app.test_client().get("/metrics", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return _samples(response.get_data(as_text=True))


def test_an_unknown_route_gets_a_fixed_label_never_its_path(app: Flask) -> None:
    with app.test_request_context("/no/such/page/secret-looking-path"):
        assert request.url_rule is None
        assert metrics.route_label(request) == metrics.UNMATCHED
    with app.test_request_context("/unit-things/abc"):
        assert metrics.route_label(request) == "/unit-things/<thing_id>"
    assert metrics.method_label("GET") == "GET"
    assert metrics.method_label("BREW") == metrics.OTHER_METHOD


def test_requests_are_counted_by_template_method_and_status(app: Flask) -> None:
    client = app.test_client()
    before = _scrape(app)
    for path in ("/unit-things/a", "/unit-things/b", "/unit-things/missing",
                 "/no-such-page?token=hunter2"):
        client.get(path, buffered=True)  # buffered: the body is read and closed
    client.open("/unit-things/a", method="BREW", buffered=True)
    after = _scrape(app)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    route = "/unit-things/<thing_id>"
    assert delta("geoportal_requests_total", route=route, method="GET", status="200") == 2
    assert delta("geoportal_requests_total", route=route, method="GET", status="404") == 1
    assert delta("geoportal_requests_total", route=metrics.UNMATCHED, method="GET",
                 status="404") == 1
    assert delta("geoportal_requests_total", route=metrics.UNMATCHED,
                 method=metrics.OTHER_METHOD, status="405") == 1
    assert delta("geoportal_request_duration_seconds_count", route=route, method="GET",
                 status="200") == 2
    assert delta("geoportal_response_bytes_total", route=route) >= 20
    labels = {value for (_, pairs) in after for _, value in pairs}
    assert not any("hunter2" in value or "/unit-things/a" in value for value in labels)


def test_store_reads_are_timed_and_failures_counted(app: Flask) -> None:
    class PostGISStore:  # named as the real store: its kind is read from the class name
        pass

    store = PostGISStore()
    before = _scrape(app)
    with metrics.store_timer(store, "query"):
        pass
    with pytest.raises(RuntimeError), metrics.store_timer(store, "query"):
        raise RuntimeError("the database went away")
    with pytest.raises(InputError), metrics.store_timer(store, "query"):
        raise InputError("a bad filter")  # the client's fault: not a store error
    after = _scrape(app)
    labels = {"store": "postgis", "operation": "query"}
    assert (_value(after, "geoportal_store_query_duration_seconds_count", **labels)
            - _value(before, "geoportal_store_query_duration_seconds_count", **labels)) == 3
    assert (_value(after, "geoportal_store_errors_total", **labels)
            - _value(before, "geoportal_store_errors_total", **labels)) == 1
    assert metrics.store_kind(object()) == "other"


def test_metrics_off_means_no_route(tmp_path: Path) -> None:
    app = Flask("metrics-off")
    app.extensions["geoportal"] = {}
    metrics.install(app, load_settings(data_dir=tmp_path, metrics=False))
    assert app.test_client().get("/metrics").status_code == 404
    assert load_settings(data_dir=tmp_path).metrics is True  # on unless turned off
