"""The upload page in a real Chromium with a real token, in Belarusian: a broken file shows the
job's own error (translated, without server paths) and not the "no layer" answer of the
versions asked for afterwards; job states and report labels are in the page's language, with
numbers formatted for it; a published version links to the viewer with the layer opened; a
rollback happens only after the dialog's confirmation (Escape and Cancel leave the version).
The Belarusian report is saved to docs/img/ for docs/admins.md."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
import requests

from tests.browser.conftest import Watched

pytestmark = pytest.mark.parametrize("portal", ["gpkg"], indirect=True)

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
MINSK_CITY = "5000000000"


def _token(portal, name: str) -> str:
    return portal.cli("token", "create", "--name", name, "--role", "editor",
                      "--region", MINSK_CITY).stdout.strip().split()[-1]


def _stops(path: Path, count: int, without_geometry: int = 0) -> Path:
    """A GeoJSON of ``count`` stops in Minsk, the last ``without_geometry`` of them with none."""
    features = [{"type": "Feature", "properties": {"назва": f"Прыпынак {i}"},
                 "geometry": None if i >= count - without_geometry else
                 {"type": "Point",
                  "coordinates": [27.52 + (i % 50) / 1000, 53.88 + i // 50 / 1000]}}
                for i in range(count)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def _sign_in(site: Watched, portal, token: str) -> None:
    """The upload page in Belarusian with the token checked."""
    page = site.page
    page.goto(f"{portal.url}/admin?lang=be")
    page.fill("#token", token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#upload-section:not([hidden])")


def _upload(site: Watched, path: Path, layer_id: str) -> None:
    page = site.page
    page.set_input_files("#file", str(path))
    page.fill("#layer-id", layer_id)
    page.fill("#title-be", "Прыпынкі для праверкі")
    page.select_option("#region", MINSK_CITY)
    page.select_option("#theme", "transport")
    page.click("#upload-form button[type=submit]")


def _finished(site: Watched) -> str:
    """The state the page shows once the job has ended."""
    site.page.wait_for_selector("#status[data-state=done], #status[data-state=rejected], "
                                "#status[data-state=failed]", timeout=60_000)
    return str(site.page.get_attribute("#status", "data-state"))


def _delete(portal, token: str, layer_id: str) -> None:
    requests.delete(f"{portal.url}/admin/layers/{layer_id}",
                    headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _no_native_dialogs(site: Watched) -> list[str]:
    """window.confirm/alert/prompt seen on the page (the page must use its own dialog)."""
    seen: list[str] = []

    def refuse(dialog) -> None:
        seen.append(dialog.type)
        dialog.dismiss()

    site.page.on("dialog", refuse)
    return seen


def test_a_broken_csv_shows_the_jobs_own_error_in_belarusian(site, portal, tmp_path):
    token = _token(portal, "admin-page-broken")
    layer_id = "admin-page-broken"
    broken = tmp_path / "broken.csv"  # no coordinate or WKT column: nothing to map
    broken.write_text("назва;колькасць\nШкола 1;12\nШкола 2;30\n", encoding="utf-8")
    _sign_in(site, portal, token)
    _upload(site, broken, layer_id)
    state = _finished(site)
    assert state in ("rejected", "failed")
    status = site.page.inner_text("#status")
    # the state in Belarusian, and the job's own error as the API says it in Belarusian
    assert ("адхілена" if state == "rejected" else "не ўдалося") in status, status
    assert "rejected" not in status and "failed" not in status
    asked = [m.group(1) for m in (re.search(r"/admin/jobs/([0-9a-f]{32})", u)
                                  for u in site.requests) if m]
    assert asked, site.requests
    full_id = asked[-1]
    assert f"Заданне {full_id[:8]}" in status
    said = requests.get(f"{portal.url}/admin/jobs/{full_id}", params={"lang": "be"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert said["state"] == state and said["error"]
    assert said["error"] in status
    assert re.search("[ўі]", said["error"]), said["error"]  # said in Belarusian
    # not the "no layer" 404 of the versions asked for afterwards, and no server path
    assert "не існуе" not in status and "no layer" not in status and "няма пласта" not in status
    for path in ("/tmp", "/uploads/", str(portal.data_dir)):
        assert path not in status and path not in said["error"]
    assert site.page.locator("#versions-section").is_hidden()
    assert site.page.locator("#upload-result").is_hidden()
    site.shot("broken-be")
    # in Russian the page asks for the job again: its state and its error follow
    said_ru = requests.get(f"{portal.url}/admin/jobs/{full_id}", params={"lang": "ru"},
                           headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert said_ru["error"] != said["error"]
    site.page.click("[data-lang=ru]")
    site.page.wait_for_function("t => document.querySelector('#status').textContent"
                                ".includes(t)", arg=said_ru["error"])
    status = site.page.inner_text("#status")
    assert f"Задание {full_id[:8]}" in status
    assert ("отклонено" if state == "rejected" else "не удалось") in status
    assert site.errors == []


@pytest.mark.parametrize("name, content", [
    ("damaged.gpkg", b"SQLite format 3\x00" + b"\x01" * 4000),
    ("cut.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feature", '
                    b'"geometry": {"type": "Point", "coordinates": [27.5'),
    ("cut.kml", b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                b"<Document><Placemark><Point><coordinates>27.5,53.9"),
])
def test_a_damaged_files_error_names_no_server_path(site, portal, tmp_path, name, content):
    """GDAL's own messages name files by their full path: the page shows the file's name."""
    token = _token(portal, "admin-page-damaged")
    damaged = tmp_path / name
    damaged.write_bytes(content)
    _sign_in(site, portal, token)
    _upload(site, damaged, "admin-page-damaged")
    assert _finished(site) in ("rejected", "failed")
    status = site.page.inner_text("#status")
    assert name in status, status  # the file is named, as uploaded
    for path in ("/tmp", "/uploads/", str(portal.data_dir), str(tmp_path)):
        assert path not in status, status
    assert "няма пласта" not in status


def test_a_good_upload_shows_translated_labels_and_a_map_link_that_opens_the_layer(
        site, portal, tmp_path):
    token = _token(portal, "admin-page-report")
    layer_id = "admin-page-report"
    data = _stops(tmp_path / "stops.geojson", 1501, without_geometry=1)
    _sign_in(site, portal, token)
    try:
        _upload(site, data, layer_id)
        assert _finished(site) == "done"
        status = site.page.inner_text("#status")
        assert "гатова" in status and "done" not in status
        site.page.wait_for_selector("#versions tr[data-version='1']")
        labels = site.page.eval_on_selector_all("#report-summary dt",
                                                "ds => ds.map(d => d.textContent)")
        values = site.page.eval_on_selector_all("#report-summary dd",
                                                "ds => ds.map(d => d.textContent)")
        report = dict(zip(labels, values, strict=True))
        for english in ("read", "published", "set aside", "format", "version", "CRS"):
            assert english not in labels
        # numbers as Belarusian writes them: 1 501 (a space between the thousands)
        assert re.fullmatch(r"1\s501", report["Прачытана аб'ектаў"]), report
        assert re.fullmatch(r"1\s500", report["Апублікавана аб'ектаў"]), report
        assert report["Адкладзена"] == "1: няма геаметрыі"
        assert report["Фармат"] and report["Версія"] == "1"
        assert "(з файла" in report.get("Сістэма каардынат", "(з файла")
        result = site.page.inner_text("#upload-result")
        assert "Версія 1 апублікавана." in result and "Паказаць на карце" in result
        site.page.locator("#report-section").scroll_into_view_if_needed()
        shot = site.shot("report-be")
        DOCS_IMG.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS_IMG / "admin-report-be.png")
        # the link opens the home page's viewer with the new layer on the map
        href = site.page.get_attribute("#upload-map-link", "href")
        assert href.endswith(f"/#layers={layer_id}&lang=be")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # every worker sees the new layer within seconds
            if requests.get(f"{portal.url}/collections/{layer_id}", timeout=30).ok:
                break
            time.sleep(0.3)
        site.page.click("#upload-map-link")
        site.page.wait_for_selector("body[data-ready=true]")
        site.page.wait_for_selector(f".layer[data-id={layer_id}]")
        assert layer_id in site.page.evaluate("window.portal.opened()")
        assert site.page.evaluate("document.documentElement.lang") == "be"
    finally:
        _delete(portal, token, layer_id)
    assert site.errors == []


def test_a_rollback_needs_the_dialogs_confirmation(site, portal, tmp_path):
    token = _token(portal, "admin-page-rollback")
    layer_id = "admin-page-rollback"
    natives = _no_native_dialogs(site)
    _sign_in(site, portal, token)
    page = site.page
    try:
        _upload(site, _stops(tmp_path / "five.geojson", 5), layer_id)
        assert _finished(site) == "done"
        page.wait_for_selector("#versions tr[data-version='1']")
        _upload(site, _stops(tmp_path / "three.geojson", 3), layer_id)
        page.wait_for_selector("#versions tr[data-version='2']", timeout=60_000)
        dialog = page.locator("#rollback-dialog")

        def current() -> int:
            body = requests.get(f"{portal.url}/admin/layers/{layer_id}/versions",
                                headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
            return next(v["version"] for v in body["versions"] if v["status"] == "current")

        # Escape cancels: the focus starts on Cancel, nothing is sent
        page.locator("#versions tr[data-version='1'] button").click()
        dialog.wait_for(state="visible")
        assert page.evaluate("document.activeElement.id") == "rollback-cancel"
        assert "Вярнуць версію 1?" in dialog.inner_text()
        site.shot("rollback-dialog")
        page.keyboard.press("Escape")
        dialog.wait_for(state="hidden")
        assert current() == 2
        # Cancel leaves the version too
        page.locator("#versions tr[data-version='1'] button").click()
        dialog.wait_for(state="visible")
        page.click("#rollback-cancel")
        dialog.wait_for(state="hidden")
        assert current() == 2
        assert page.locator("#rollback-result").is_hidden()
        # confirmed: version 1 serves again, said with a link to the map
        page.locator("#versions tr[data-version='1'] button").click()
        dialog.wait_for(state="visible")
        page.click("#rollback-confirm")
        page.wait_for_selector("#versions tr[data-version='2'] button")
        assert current() == 1
        result = page.inner_text("#rollback-result")
        assert "Версія 1 пласта «admin-page-rollback» зноў бягучая." in result
        href = page.get_attribute("#rollback-map-link", "href")
        assert href.endswith(f"/#layers={layer_id}&lang=be")
        site.shot("rolled-back-be")
    finally:
        _delete(portal, token, layer_id)
    assert natives == [] and site.errors == []


def test_a_set_aside_reason_with_values_is_said_in_belarusian(site, portal, tmp_path):
    """A reason the ETL writes with values in it ("geometry type LineString in a Point layer")
    reaches the report in the page's language, values kept; the skip link leads to the form."""
    token = _token(portal, "admin-page-reasons")
    layer_id = "admin-page-reasons"
    features = [{"type": "Feature", "properties": {"назва": f"Прыпынак {i}"},
                 "geometry": {"type": "Point", "coordinates": [27.52 + i / 1000, 53.88]}}
                for i in range(5)]
    features.append({"type": "Feature", "properties": {"назва": "Лінія"},
                     "geometry": {"type": "LineString",
                                  "coordinates": [[27.52, 53.88], [27.53, 53.89]]}})
    data = tmp_path / "mixed.geojson"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    _sign_in(site, portal, token)
    page = site.page
    try:
        _upload(site, data, layer_id)
        assert _finished(site) == "done"
        page.wait_for_selector("#report-summary dd")
        values = page.eval_on_selector_all("#report-summary dd",
                                           "ds => ds.map(d => d.textContent)")
        aside = [v for v in values if "LineString" in v]
        assert aside, values
        assert "1: геаметрыя LineString у пласце Point" in aside, aside
        assert not any("in a Point layer" in v for v in values), values
        # the skip link: the first Tab stop, and it moves focus to the page's content
        page.goto(f"{portal.url}/admin?lang=be")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        _delete(portal, token, layer_id)
    assert site.errors == []
