"""Many clients against the real server (both stores): failed logins limited and audited per
client and minute, heavy requests limited per client and gated per process (a slow download
holds its place, ordinary requests never wait), X-Forwarded-For believed only from trusted
proxies, Location from base_url whatever Host says, TileJSON attribution as text."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import shapely

from geoportal.server.limits import Proxies, Windows, client_address
from tests.conftest import LAYERS_DIR, Portal, write_geojson, write_manifest

BASE_URL = "https://geoportal.example/portal"
DOWNLOAD_BUDGET_S = 5
RATE = 20
BULK = 30_000  # points of the layer downloaded slowly: about 12 MB of GeoJSON
ATTRIBUTION = ('<a href="https://example.org" onclick="alert(1)">Data &amp; maps</a>'
               '<script>alert(2)</script> & <b>OpenStreetMap</b>')


@pytest.fixture(scope="module", params=["gpkg", "postgis"])
def busy(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
         ) -> Iterator[Portal]:
    """One worker process with one place for heavy requests, a short download budget and a
    small heavy-request rate; cities and a bulky point layer with HTML in its attribution."""
    folder = tmp_path_factory.mktemp(f"busy-{request.param}")
    database_url = None
    if request.param == "postgis":
        database_url = request.getfixturevalue("postgres").new_database()
    server = Portal(folder / "var", database_url)
    server.env.update({"GEOPORTAL_WORKERS": "1", "GEOPORTAL_HEAVY_REQUESTS": "1",
                       "GEOPORTAL_DOWNLOAD_BUDGET_S": str(DOWNLOAD_BUDGET_S),
                       "GEOPORTAL_RATE_LIMIT_PER_MINUTE": str(RATE),
                       "GEOPORTAL_AUTH_FAILURES_PER_MINUTE": "10",
                       "GEOPORTAL_BASE_URL": BASE_URL})
    text = "x" * 300
    write_geojson(folder / "bulk.geojson", [
        ({"name": f"point {i}", "note": text},
         shapely.Point(24 + (i % 300) * 0.02, 52 + (i // 300) * 0.03)) for i in range(BULK)])
    manifest = write_manifest(folder, "bulk", {"path": "bulk.geojson"}, theme="other",
                              title="Bulk points", attribution=ATTRIBUTION)
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "by" / "cities.yaml"), str(manifest))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin_token(busy: Portal) -> str:
    return busy.cli("token", "create", "--name", "national", "--role", "admin").stdout.strip()


def _as(client: str, **headers: str) -> dict[str, str]:
    """Headers of a request relayed by the proxy in front (127.0.0.1 is trusted)."""
    return {"X-Forwarded-For": client, **headers}


def _same_minute(needed_s: float) -> None:
    """Wait for the next minute when this one has less than ``needed_s`` left (the limits
    count per calendar minute)."""
    left = 60 - time.time() % 60
    if left < needed_s:
        time.sleep(left + 0.1)


def test_a_forwarded_for_is_believed_only_from_a_trusted_proxy():
    proxies = Proxies.parse("127.0.0.1,10.0.0.0/8")
    assert client_address("127.0.0.1", "198.51.100.7", proxies) == "198.51.100.7"
    # the client wrote its own entry first; the proxy appended the address it saw
    assert client_address("127.0.0.1", "1.2.3.4, 198.51.100.7, 10.1.1.1",
                          proxies) == "198.51.100.7"
    assert client_address("203.0.113.9", "198.51.100.7", proxies) == "203.0.113.9"
    assert client_address("127.0.0.1", "not-an-address", proxies) == "127.0.0.1"
    assert client_address("127.0.0.1", "198.51.100.7", Proxies.parse("")) == "127.0.0.1"


def test_worker_processes_count_together_in_the_shared_file(tmp_path: Path):
    first, second = Windows(tmp_path / "limits.sqlite"), Windows(tmp_path / "limits.sqlite")
    assert [first.hit("login", "198.51.100.7", 100, audited=False),
            second.hit("login", "198.51.100.7", 100, audited=False)] == [1, 2]
    assert second.count("login", "198.51.100.7", 100) == 2
    assert first.claim("login", "198.51.100.7", 100) and not second.claim(
        "login", "198.51.100.7", 100)
    second.hit("login", "198.51.100.8", 100, audited=False)
    assert first.closed("login", 101) == [("198.51.100.8", 100, 1)]
    assert second.closed("login", 101) == []


def test_twelve_bad_tokens_get_429_and_one_aggregated_audit_row(busy, admin_token):
    client = "198.51.100.30"
    _same_minute(20)
    statuses = []
    for n in range(12):  # fresh connections, half of them on an audited write route
        headers = _as(client, Authorization=f"Bearer gpt_bad{n}_{'s' * 20}")
        if n % 2:
            r = requests.post(f"{busy.url}/admin/layers", headers=headers, timeout=30,
                              files={"file": ("a.geojson", b"{}")}, data={"manifest": "id: a"})
        else:
            r = requests.get(f"{busy.url}/admin/whoami", headers=headers, timeout=30)
        statuses.append(r.status_code)
    assert statuses == [401] * 10 + [429] * 2
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["code"] == "TooManyRequests"
    # blocked before the token is looked at: even a good one, until the minute ends
    assert requests.get(f"{busy.url}/admin/whoami", timeout=30, headers=_as(
        client, Authorization=f"Bearer {admin_token}")).status_code == 429
    # ... for this client only
    assert requests.get(f"{busy.url}/admin/whoami", timeout=30, headers=_as(
        "198.51.100.31", Authorization=f"Bearer {admin_token}")).status_code == 200
    entries = requests.get(f"{busy.url}/admin/audit", params={"limit": 1000}, timeout=30,
                           headers=_as("198.51.100.31", Authorization=f"Bearer {admin_token}")
                           ).json()["entries"]
    mine = [e for e in entries if e["client"] == client]
    assert len(mine) == 1, mine
    assert (mine[0]["action"], mine[0]["result"], mine[0]["detail"]) == (
        "login", "refused", "10 failed logins")


def test_heavy_requests_over_the_rate_get_429_while_ordinary_ones_go_on(busy):
    client = "198.51.100.20"
    _same_minute(20)
    heavy = f"{busy.url}/collections/cities/items?filter=pop2019>1000&limit=1"
    statuses = [requests.get(heavy, headers=_as(client), timeout=30).status_code
                for _ in range(RATE + 1)]
    assert statuses == [200] * RATE + [429]
    r = requests.get(heavy, headers=_as(client), timeout=30)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert requests.get(f"{busy.url}/collections/cities/items?bbox=23,51,33,57",
                        headers=_as(client), timeout=30).status_code == 200
    assert requests.get(heavy, headers=_as("198.51.100.21"), timeout=30).status_code == 200


class SlowDownload(threading.Thread):
    """A GeoJSON download read at about 640 KB/s."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.received = 0
        self.outcome = ""
        self.took = 0.0
        self.first_byte = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        try:
            with requests.get(self.url, stream=True, timeout=60,
                              headers=_as("198.51.100.10")) as r:
                self.outcome = str(r.status_code)
                for chunk in r.iter_content(65536):
                    self.received += len(chunk)
                    self.first_byte.set()
                    time.sleep(0.1)
                self.outcome = "complete"
        except requests.RequestException as exc:
            self.outcome = f"cut: {type(exc).__name__}"
        finally:
            self.took = time.monotonic() - started
            self.first_byte.set()


def test_a_slow_download_holds_the_gate_and_is_cut_at_its_budget(busy):
    download = SlowDownload(f"{busy.url}/collections/bulk/download?f=geojson")
    download.start()
    assert download.first_byte.wait(30)
    # the one place is taken: a filter waits a little, then gets 503 + Retry-After ...
    started = time.monotonic()
    refused = requests.get(f"{busy.url}/collections/cities/items?filter=pop2019>1000",
                           headers=_as("198.51.100.11"), timeout=30)
    waited = time.monotonic() - started
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "ServiceUnavailable"
    assert 1.5 < waited < 5
    # ... while ordinary requests never wait for it
    for path in ("/collections/cities/items/1", "/collections",
                 "/collections/cities/items?bbox=27,53,28,54"):
        started = time.monotonic()
        assert requests.get(busy.url + path, timeout=30).status_code == 200
        assert time.monotonic() - started < 0.5, path
    download.join(timeout=DOWNLOAD_BUDGET_S + 30)
    # the download was cut (a broken body, not a short file that looks whole)
    assert download.outcome.startswith("cut"), (download.outcome, download.received)
    assert download.took < DOWNLOAD_BUDGET_S + 10
    assert download.received < BULK * 300
    # and its place is free again
    assert requests.get(f"{busy.url}/collections/cities/items?filter=pop2019>1000",
                        headers=_as("198.51.100.11"), timeout=30).status_code == 200


def test_tilejson_attribution_is_text_without_html(busy):
    r = requests.get(f"{busy.url}/collections/bulk/tiles/WebMercatorQuad?f=tilejson",
                     timeout=30)
    assert r.status_code == 200
    attribution = r.json()["attribution"]
    assert "<" not in attribution and ">" not in attribution
    assert "Data &amp; maps" in attribution and "OpenStreetMap" in attribution
    assert "script" not in attribution


def test_location_and_links_come_from_base_url_not_the_host_header(busy, admin_token):
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [27.56, 53.9]},
               "properties": {}}
    r = requests.post(f"{busy.url}/collections/cities/items", json=feature, timeout=60,
                      headers={"Authorization": f"Bearer {admin_token}",
                               "Content-Type": "application/geo+json",
                               "Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 201, r.text
    assert r.headers["Location"].startswith(f"{BASE_URL}/collections/cities/items/")
    assert all(link["href"].startswith(BASE_URL) for link in r.json()["links"])
    assert "evil.example" not in r.text


def test_an_upload_s_location_comes_from_base_url_not_the_host_header(busy, admin_token):
    manifest = "id: located\nregion: '0000000000'\ntheme: other\ntitle: Located points\n"
    points = ('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
              '{"n": 1}, "geometry": {"type": "Point", "coordinates": [27.56, 53.9]}}]}')
    r = requests.post(f"{busy.url}/admin/layers", timeout=60,
                      headers={"Authorization": f"Bearer {admin_token}", "Host": "evil.example"},
                      data={"manifest": manifest},
                      files={"file": ("located.geojson", points.encode())})
    assert r.status_code == 202, r.text
    assert r.headers["Location"].startswith(f"{BASE_URL}/admin/jobs/")
    assert r.json()["links"][0]["href"] == r.headers["Location"]
