"""The redirect from an old version's tile URL to the current one (server/caching.py) stays on
this site whatever ``SCRIPT_NAME`` a proxy passes through."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, request

from geoportal.server.caching import stale_version, version_token

LAYER = SimpleNamespace(id="roads", current=SimpleNamespace(store_ref="roads_v2"))
PATH = "/collections/roads/tiles/WebMercatorQuad/3/2/1"


def _location(script_name: str) -> str:
    app = Flask(__name__)
    with app.test_request_context(PATH, query_string={"v": "old", "f": "mvt"},
                                  environ_overrides={"SCRIPT_NAME": script_name}):
        response = stale_version(request, LAYER)  # type: ignore[arg-type]
    assert response is not None and response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"
    return response.headers["Location"]


@pytest.mark.parametrize("forged", ["//evil.example", "/\\evil.example", "//evil.example/",
                                    "http://evil.example", "/a//evil.example"])
def test_a_forged_script_name_cannot_send_the_redirect_elsewhere(forged: str) -> None:
    location = _location(forged)
    assert location.startswith(f"{PATH}?"), location
    assert "evil" not in location
    assert f"v={version_token(LAYER)}" in location  # type: ignore[arg-type]
    assert "f=mvt" in location


def test_a_plain_mount_path_is_kept() -> None:
    assert _location("/geo/portal").startswith(f"/geo/portal{PATH}?")
    assert _location("").startswith(f"{PATH}?")
