"""The embeddable map (issue 19): ``GET /embed`` is the viewer alone, and the only page other
sites may frame: its Content-Security-Policy's ``frame-ancestors`` comes from
``GEOPORTAL_EMBED_FRAME_ANCESTORS`` (default ``*``); every other page keeps ``'self'``. A
wrong value stops the server at start-up with the variable named."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.conftest import Portal

ALLOWED = "https://city.gov.by https://*.minsk.gov.by"


def _frame_ancestors(response: requests.Response) -> str:
    policy = response.headers["Content-Security-Policy"]
    found = [d.strip() for d in policy.split(";") if d.strip().startswith("frame-ancestors")]
    assert len(found) == 1, policy
    return found[0][len("frame-ancestors"):].strip()


def test_the_embed_page_may_be_framed_by_any_site_by_default(portal):
    r = requests.get(f"{portal.url}/embed", params={"lang": "ru"}, timeout=30)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert _frame_ancestors(r) == "*"
    assert "X-Frame-Options" not in r.headers  # it would forbid what the policy allows
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]  # the rest unchanged
    page = r.text
    assert 'class="home embed"' in page
    assert 'class="top"' not in page  # no header
    assert '<aside class="panel" id="panel" hidden>' in page
    assert 'id="map"' in page and "js/viewer" in page


def test_every_other_page_keeps_self(portal):
    for path in ("/", "/admin", "/collections?f=html"):
        r = requests.get(f"{portal.url}{path}", headers={"Accept": "text/html"}, timeout=30)
        assert r.status_code == 200, path
        assert _frame_ancestors(r) == "'self'", path
        assert r.headers["X-Frame-Options"] == "SAMEORIGIN", path
    home = requests.get(f"{portal.url}/", headers={"Accept": "text/html"}, timeout=30).text
    assert 'class="home"' in home and 'class="top"' in home
    assert '<aside class="panel" id="panel">' in home


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal (no layers) whose map only two municipal sites may embed."""
    server = Portal(tmp_path_factory.mktemp("embed") / "var")
    server.env["GEOPORTAL_EMBED_FRAME_ANCESTORS"] = f"  {ALLOWED}/ "
    server.cli("init")
    server.start()
    yield server
    server.stop()


def test_the_configured_sites_are_the_frame_ancestors(restricted):
    r = requests.get(f"{restricted.url}/embed", timeout=30)
    assert r.status_code == 200
    assert _frame_ancestors(r) == ALLOWED  # spaces and a trailing slash tidied
    home = requests.get(f"{restricted.url}/", headers={"Accept": "text/html"}, timeout=30)
    assert _frame_ancestors(home) == "'self'"


@pytest.mark.parametrize(("value", "says"), [
    ("self", "write 'self' with its single quotes"),
    ("https://city.gov.by; script-src *", "is none of them"),
    ("ftp://files.gov.by", "'ftp://files.gov.by' is none of them"),
    ("'none' https://city.gov.by", "'none' cannot be combined"),
    ("   ", "it is empty"),
])
def test_a_wrong_setting_stops_the_start_with_the_variable_named(tmp_path, value, says):
    server = Portal(tmp_path / "var")
    server.env["GEOPORTAL_EMBED_FRAME_ANCESTORS"] = value
    result = server.cli("init", check=False)
    assert result.returncode != 0
    assert "GEOPORTAL_EMBED_FRAME_ANCESTORS" in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
