"""Many clients against the real server (both stores): failed logins limited and audited per
client and minute (a valid token always passes), heavy requests limited per client (an IPv6
/64) and gated per process (downloads apart: a slow download holds a download place, never a
filter's; a burst from one client is refused at once, not parked in threads; ordinary
requests never wait), a coverage's ranged reads not gated, the PostGIS pool's wait a 503,
X-Forwarded-For believed only from trusted proxies (and audited), Location from base_url
whatever Host says, TileJSON attribution as text."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
import shapely

from geoportal.server.limits import (
    DEEP_OFFSET,
    GATE_WAIT_S,
    Proxies,
    Windows,
    client_address,
    client_key,
)
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
    server.cli("ingest", str(LAYERS_DIR / "by" / "cities.yaml"),
               str(LAYERS_DIR / "by" / "night_lights.yaml"), str(manifest))
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


def test_an_ipv6_client_is_counted_by_its_64_network():
    assert client_key("198.51.100.7") == "198.51.100.7"
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff:1:2:3") \
        == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:198.51.100.7") == "198.51.100.7"


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
    # a valid token from the same address (an editor behind the same NAT) still works ...
    assert requests.get(f"{busy.url}/admin/whoami", timeout=30, headers=_as(
        client, Authorization=f"Bearer {admin_token}")).status_code == 200
    # ... while the next bad one is still refused with 429
    assert requests.get(f"{busy.url}/admin/whoami", timeout=30, headers=_as(
        client, Authorization="Bearer gpt_bad99_ssssssssssssssssssss")).status_code == 429
    # ... and another address is not concerned
    assert requests.get(f"{busy.url}/admin/whoami", timeout=30, headers=_as(
        "198.51.100.31", Authorization="Bearer gpt_bad98_ssssssssssssssssssss")
                        ).status_code == 401
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


def test_sorted_deep_and_dated_pages_count_as_heavy_and_plain_pages_do_not(busy):
    client = "198.51.100.22"
    _same_minute(30)
    items = f"{busy.url}/collections/cities/items"
    ordinary = [{"limit": 1}, {"bbox": "23,51,33,57"}, {"offset": DEEP_OFFSET}]
    for params in ordinary * 10:  # 30 ordinary pages: not counted
        assert requests.get(items, params=params, headers=_as(client),
                            timeout=30).status_code == 200
    heavy = [{"sortby": "-pop2019"}, {"offset": DEEP_OFFSET + 1},
             {"datetime": "2020-01-01T00:00:00Z/.."}]
    statuses = [requests.get(items, params=heavy[n % 3], headers=_as(client), timeout=30
                             ).status_code for n in range(RATE)]
    assert 429 not in statuses and 500 not in statuses, statuses
    for params in heavy:  # each kind is over the rate now
        r = requests.get(items, params=params, headers=_as(client), timeout=30)
        assert r.status_code == 429, (params, r.text)
    assert requests.get(items, params={"limit": 1}, headers=_as(client),
                        timeout=30).status_code == 200
    # the home page's catalog search (records sorted by title) is not a heavy request
    assert requests.get(f"{busy.url}/collections/catalog/items", headers=_as(client),
                        params={"sortby": "title", "limit": 50}, timeout=30).status_code == 200


def test_the_addresses_of_one_ipv6_64_share_a_rate(busy):
    _same_minute(20)
    heavy = f"{busy.url}/collections/cities/items?filter=pop2019>1000&limit=1"
    statuses = [requests.get(heavy, headers=_as(f"2001:db8:15:2::{n + 1:x}"),
                             timeout=30).status_code for n in range(RATE)]
    assert statuses == [200] * RATE
    assert requests.get(heavy, headers=_as("2001:db8:15:2:abcd::9"),
                        timeout=30).status_code == 429
    assert requests.get(heavy, headers=_as("2001:db8:15:3::1"), timeout=30).status_code == 200


def test_a_burst_of_heavy_requests_from_one_client_is_refused_at_once_not_queued(busy):
    ordinary = f"{busy.url}/collections/cities/items/1"

    def get(url: str, client: str) -> requests.Response:
        return requests.get(url, headers=_as(client), timeout=60)

    _same_minute(20)
    # pages of 1,000 points of 300 characters each: each holds the gate a while
    heavy = f"{busy.url}/collections/bulk/items?filter=name LIKE 'point 1%25'&limit=1000"
    with ThreadPoolExecutor(30) as pool:
        burst = [pool.submit(get, heavy, "198.51.100.50") for _ in range(30)]
        time.sleep(0.05)
        during = [get(ordinary, "198.51.100.51") for _ in range(10)]
        answers = [f.result() for f in burst]
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 429, 503}, statuses
    # the client's share of the gate (one place here) is taken: the others are refused at
    # once with the share's sentence (429), not parked in threads until GATE_WAIT_S runs out
    # (which answers 503 with the busy sentence); how long either takes is the machine's
    share = [r for r in answers if r.status_code == 429
             and "at once on this server" in r.json()["description"]]
    assert share, statuses
    assert all(int(r.headers["Retry-After"]) >= 1 for r in answers if r.status_code != 200)
    # and ordinary requests meanwhile are served, neither gated nor refused (how much slower
    # they get beside heavy neighbours is benchmarks/noisy.py's figure, not a test's)
    assert [r.status_code for r in during] == [200] * 10, [r.text[:200] for r in during]


class SlowDownload(threading.Thread):
    """A GeoJSON download read at about 640 KB/s."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.received = 0
        self.outcome = ""
        self.first_byte = threading.Event()

    def run(self) -> None:
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
            self.first_byte.set()


def test_a_slow_download_holds_a_download_place_not_a_filter_s_and_is_cut_at_its_budget(
        busy):
    download = SlowDownload(f"{busy.url}/collections/bulk/download?f=geojson")
    download.start()
    assert download.first_byte.wait(30)
    # the one download place is taken: another client's download waits a little, then gets
    # 503 + Retry-After ...
    started = time.monotonic()
    refused = requests.get(f"{busy.url}/collections/cities/download?f=csv",
                           headers=_as("198.51.100.11"), timeout=30)
    waited = time.monotonic() - started
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "ServiceUnavailable"
    assert "downloads" in refused.json()["description"]
    # it waited for a place first: a lower bound only, which a slow machine cannot break
    assert waited > GATE_WAIT_S * 0.8, waited
    # ... a vector download asking for a byte range is a download all the same ...
    assert requests.get(f"{busy.url}/collections/cities/download?f=csv", timeout=30,
                        headers=_as("198.51.100.12", Range="bytes=0-99")).status_code == 503
    # ... the same client's second download is refused at once (one at a time) ...
    own = requests.get(f"{busy.url}/collections/cities/download?f=csv",
                       headers=_as("198.51.100.10"), timeout=30)
    assert own.status_code == 429, own.text  # refused, not queued (a wait ends in a 503)
    assert "one at a time" in own.json()["description"]
    # ... while filters, low-zoom tiles and ordinary requests go on without waiting
    for path in ("/collections/cities/items?filter=pop2019>1000",
                 "/collections/cities/tiles/WebMercatorQuad/4/5/9",
                 "/collections/cities/items/1", "/collections",
                 "/collections/cities/items?bbox=27,53,28,54"):
        r = requests.get(busy.url + path, headers=_as("198.51.100.13"), timeout=30)
        assert r.status_code in (200, 204), (path, r.text)
    download.join(timeout=DOWNLOAD_BUDGET_S + 30)
    # the download was cut (a broken body, not a short file that looks whole), long before
    # the whole layer was read
    assert download.outcome.startswith("cut"), (download.outcome, download.received)
    assert download.received < BULK * 300
    # and its place is free again
    assert requests.get(f"{busy.url}/collections/cities/download?f=csv",
                        headers=_as("198.51.100.11"), timeout=30).status_code == 200


def test_ranged_reads_of_a_coverage_are_neither_gated_nor_counted(busy):
    _same_minute(20)
    url = f"{busy.url}/collections/night-lights-2024/download"
    holder = SlowDownload(f"{busy.url}/collections/bulk/download?f=geojson")
    holder.start()
    assert holder.first_byte.wait(30)
    try:
        # the download place is taken, and more reads than the rate allows: all served
        for n in range(RATE + 5):
            r = requests.get(url, headers=_as("198.51.100.14", Range=f"bytes={n * 100}-"
                                                                    f"{n * 100 + 16383}"),
                             timeout=30)
            assert r.status_code == 206, (n, r.status_code, r.text[:200])
            assert len(r.content) == 16384
        # the whole file is a download: it waits for the place like any other
        whole = requests.get(url, headers=_as("198.51.100.15"), timeout=30)
        assert whole.status_code == 503, whole.status_code
    finally:
        holder.join(timeout=DOWNLOAD_BUDGET_S + 30)


def test_a_refused_write_is_audited_with_the_forwarded_client(busy, admin_token):
    client = "198.51.100.70"
    r = requests.post(f"{busy.url}/admin/layers", timeout=30,
                      headers=_as(client, Authorization=f"Bearer {admin_token}"),
                      data={"manifest": "id: [not, a, layer"},
                      files={"file": ("a.geojson", b"{}")})
    assert 400 <= r.status_code < 500, r.text
    entries = requests.get(f"{busy.url}/admin/audit", params={"limit": 1000}, timeout=30,
                           headers={"Authorization": f"Bearer {admin_token}"}
                           ).json()["entries"]
    mine = [e for e in entries if e["client"] == client]
    assert mine and mine[0]["action"] != "login", entries[:3]
    assert not [e for e in entries if e["action"] == mine[0]["action"]
                and e["client"] == "127.0.0.1" and e["status"] == r.status_code]


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


@pytest.fixture(scope="module")
def one_connection(tmp_path_factory: pytest.TempPathFactory, postgres) -> Iterator[Portal]:
    """PostGIS with one pooled connection for the worker's 8 threads, a 2 s query budget."""
    database_url = postgres.new_database()
    server = Portal(tmp_path_factory.mktemp("pool") / "var", database_url)
    server.env.update({"GEOPORTAL_WORKERS": "1", "GEOPORTAL_POOL_SIZE": "1",
                       "GEOPORTAL_QUERY_BUDGET_MS": "2000"})
    server.cli("init")
    server.cli("ingest", str(LAYERS_DIR / "by" / "cities.yaml"))
    server.start()
    server.database_url = database_url  # type: ignore[attr-defined]
    yield server
    server.stop()


def test_requests_that_wait_too_long_for_a_database_connection_get_a_503(one_connection):
    page = f"{one_connection.url}/collections/cities/items?limit=1"
    assert requests.get(page, timeout=30).status_code == 200  # the connection is open
    with psycopg.connect(one_connection.database_url) as db:  # type: ignore[attr-defined]
        table = db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'features' "
                           "AND tablename LIKE 'cities%'").fetchone()[0]
        # the pool's one connection waits for this lock (up to the query budget), the
        # other requests wait for the connection
        db.execute(f"LOCK TABLE features.{table} IN ACCESS EXCLUSIVE MODE")
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: requests.get(page, timeout=60), range(6)))
        db.rollback()
    statuses = [r.status_code for r in answers]
    assert set(statuses) == {503}, statuses
    assert all(int(r.headers["Retry-After"]) >= 1 for r in answers)
    busy = [r for r in answers if "connections are all busy" in r.json()["description"]]
    assert len(busy) >= 3, [r.json()["description"] for r in answers]
    assert requests.get(page, timeout=30).status_code == 200  # and all is well again


def _tiles_over(z: int, bbox: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    """(x, y) of the WebMercatorQuad tiles at ``z`` over ``bbox`` (lon/lat)."""
    import math

    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 2 ** z
        y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
        return int((lon + 180) / 360 * n), int(y)

    (x0, y0), (x1, y1) = xy(bbox[0], bbox[3]), xy(bbox[2], bbox[1])
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def test_a_map_viewers_low_zoom_tiles_of_a_large_layer_wait_for_the_tile_gate(busy):
    """A browser asks for tiles over up to 6 connections at once: every uncached low-zoom
    tile of a layer large enough to be thinned waits for its turn at the tile gate (one place
    here) instead of being refused, and tiles count for no client's rate."""
    from concurrent.futures import ThreadPoolExecutor

    # the points lie over 24-30 E, 52-54.7 N; empty tiles around them are drawn all the same
    tiles = [(z, x, y) for z in (5, 6) for x, y in _tiles_over(z, (12, 46, 42, 61))]
    assert len(tiles) > RATE  # more than the heavy-request rate of one minute

    def fetch(tile: tuple[int, int, int]) -> int:
        z, x, y = tile
        return requests.get(f"{busy.url}/collections/bulk/tiles/WebMercatorQuad/{z}/{y}/{x}",
                            headers=_as("198.51.100.40"), timeout=60).status_code

    _same_minute(30)
    with ThreadPoolExecutor(5) as pool:  # the place and the 4 that may wait for it
        statuses = list(pool.map(fetch, tiles))
    assert set(statuses) <= {200, 204}, statuses
    assert statuses.count(200) >= 5  # the tiles over the points
