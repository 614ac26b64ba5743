"""The typed views of a version's report (geoportal.reports) and the enums of kinds and states
(geoportal.states): round trips, reports written by older versions, the JSON the catalog
stores (unchanged by the types), and the values the catalog's columns hold."""

from __future__ import annotations

import ast
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from geoportal.catalog.models import LayerMetadata, Version
from geoportal.etl.report import Report
from geoportal.reports import EditState, RasterGrid, VersionReport
from geoportal.states import JobState, LayerKind, VersionStatus

ROOT = Path(__file__).resolve().parents[2]

# What RasterInfo.to_dict() writes for a COG (the keys and their order are the stored JSON).
RASTER = {
    "crs": "EPSG:4326", "width": 2340, "height": 1212, "count": 1, "dtypes": ["uint8"],
    "nodata": 0.0, "resolution": [0.0041666, 0.0041666],
    "bounds": [23.1, 51.2, 32.8, 56.2], "extent": [23.1, 51.2, 32.8, 56.2],
    "overviews": [2, 4], "compression": "deflate", "blocksize": [512, 512],
    "band_descriptions": [None],
}


def _version(report: dict) -> Version:
    return Version(layer_id="a", version=1, created=datetime.now(UTC),
                   status=VersionStatus.CURRENT, source_name="a.shp", source_sha256="0" * 64,
                   source_crs="EPSG:4326", store_ref="r", feature_count=1, set_aside_count=0,
                   extent=None, geometry_type="Point", fields=[], report=report)


# -- RasterGrid ------------------------------------------------------------------------------

def test_raster_grid_reads_and_writes_the_stored_dict_byte_for_byte() -> None:
    grid = RasterGrid.from_dict(RASTER)
    assert (grid.width, grid.height, grid.count, grid.overviews) == (2340, 1212, 1, (2, 4))
    assert grid.bounds == (23.1, 51.2, 32.8, 56.2) and grid.blocksize == (512, 512)
    assert json.dumps(grid.to_dict()) == json.dumps(RASTER)
    assert RasterGrid.from_dict(grid.to_dict()) == grid


def test_raster_grid_keeps_a_nan_nodata_as_the_string_nan() -> None:
    grid = RasterGrid.from_dict({**RASTER, "nodata": "nan"})
    assert grid.nodata is not None and math.isnan(grid.nodata)
    assert grid.to_dict()["nodata"] == "nan"
    assert RasterGrid.from_dict(grid.to_dict()) == grid


def test_raster_grid_is_what_the_etl_described() -> None:
    """The ETL's RasterInfo and the catalog's RasterGrid write the same JSON."""
    raster = pytest.importorskip("geoportal.etl.raster")
    info = raster.RasterInfo(
        crs="EPSG:3857", width=10, height=20, count=3, dtypes=["uint8"] * 3,
        nodata=float("nan"), resolution=(30.0, 30.0), bounds=(0.0, 0.0, 300.0, 600.0),
        extent=(0.0, 0.0, 0.1, 0.2), overviews=[2], compression="deflate",
        blocksize=(512, 512), band_descriptions=["red", None, "blue"])
    assert json.dumps(RasterGrid.from_dict(info.to_dict()).to_dict()) == \
        json.dumps(info.to_dict())


def test_raster_grid_of_an_incomplete_row_takes_the_defaults() -> None:
    grid = RasterGrid.from_dict({"width": 5, "height": 4, "bounds": "garbage"})
    assert (grid.crs, grid.count, grid.dtypes, grid.nodata) == ("EPSG:4326", 1, (), None)
    assert grid.bounds is None and grid.resolution is None and grid.overviews == ()
    assert RasterGrid.from_dict(grid.to_dict()) == grid


# -- EditState -------------------------------------------------------------------------------

def test_edit_state_round_trip_is_the_edit_report() -> None:
    stored = {"status": "published",
              "edit": {"action": "delete", "features": [3, 4], "count": 2, "based_on": 7},
              "next_fid": 12}
    state = EditState.from_dict(stored)
    assert state == EditState(next_fid=12, action="delete", features=(3, 4), count=2,
                              based_on=7)
    assert state.edited and state.change() == stored["edit"]
    assert json.dumps({"status": "published", **state.to_dict()}) == json.dumps(stored)
    assert EditState.from_dict(state.to_dict()) == state


def test_a_version_the_etl_published_has_no_edit() -> None:
    state = EditState.from_dict({"status": "published", "features_published": 3})
    assert state == EditState() and not state.edited
    assert state.change() is None and state.next_fid == 0


# -- VersionReport ---------------------------------------------------------------------------

def test_version_report_round_trip() -> None:
    report = VersionReport(status="published", options={"crs": "EPSG:28405"}, encoding="cp1251",
                           features_read=10, features_published=8, repairs={"made valid": 1},
                           set_aside={"no geometry": 2}, notes=("a note",),
                           raster=RasterGrid.from_dict(RASTER),
                           edit=EditState(next_fid=4, action="create", features=(3,), count=1,
                                          based_on=2))
    assert VersionReport.from_dict(report.to_dict()) == report
    assert VersionReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    assert report.set_aside_count == 2


def test_the_etl_report_reads_back_typed() -> None:
    etl = Report(layer_id="a", source="a.shp", options={"id_field": "id"})
    etl.encoding, etl.features_read, etl.features_published = "cp1251", 5, 3
    etl.put_aside(1, "no geometry")
    etl.put_aside(2, "no geometry")
    etl.repairs["made valid"] += 1
    etl.notes.append("checked")
    typed = VersionReport.from_dict(json.loads(json.dumps(etl.to_dict())))
    assert (typed.encoding, typed.features_read, typed.features_published) == ("cp1251", 5, 3)
    assert typed.set_aside == {"no geometry": 2} and typed.repairs == {"made valid": 1}
    assert typed.options == {"id_field": "id"} and typed.notes == ("checked",)
    assert typed.raster is None and typed.edit == EditState()


@pytest.mark.parametrize("old", [None, {}, {"status": "published"},
                                 {"status": "published", "features_read": 2,
                                  "features_published": 2, "set_aside": {}, "notes": []}])
def test_old_reports_without_the_new_keys_read(old: dict | None) -> None:
    typed = VersionReport.from_dict(old)
    assert typed.options is None and typed.raster is None and typed.edit.next_fid == 0
    assert typed.repairs == {} and typed.set_aside_count == 0 and typed.notes == ()
    assert VersionReport.from_dict(typed.to_dict()) == typed


def test_etl_report_stores_the_raster_as_before() -> None:
    """Report.to_dict() writes ``raster`` exactly as the untyped dict it used to hold."""
    etl = Report(layer_id="lights", source="lights.tif", format="GTiff")
    etl.raster = RasterGrid.from_dict({**RASTER, "nodata": "nan"})
    data = etl.to_dict()
    assert json.dumps(data["raster"]) == json.dumps({**RASTER, "nodata": "nan"})
    assert list(data)[-4:] == ["raster", "version", "seconds", "error"]
    etl.status, etl.version = "published", 1
    assert "2340 x 1212 px, 1 band(s), overviews [2, 4]" in etl.summary()
    assert VersionReport.from_dict(json.loads(json.dumps(data))).raster == etl.raster


def test_version_typed_report_follows_its_report() -> None:
    version = _version({"next_fid": 3})
    assert version.typed_report.edit.next_fid == 3
    version.report = {"next_fid": 9}
    assert version.typed_report.edit.next_fid == 9
    assert _version(None).typed_report == VersionReport()  # type: ignore[arg-type]


# -- the enums -------------------------------------------------------------------------------

def test_enum_members_are_their_strings() -> None:
    assert LayerKind.COVERAGE == "coverage" and json.dumps(VersionStatus.CURRENT) == '"current"'
    assert f"{JobState.DONE}" == "done" and {"done": 1}[JobState.DONE] == 1
    assert LayerMetadata(id="a", region="BY", theme="t", title={}).kind == "vector"


def test_job_states_are_the_catalog_columns_values() -> None:
    schema = (ROOT / "geoportal" / "catalog" / "schema.py").read_text(encoding="utf-8")
    comment = re.search(r'Column\("state".*#\s*([\w |]+)', schema)
    assert comment is not None
    assert [s.strip() for s in comment.group(1).split("|")] == [s.value for s in JobState]
    assert re.search(r"state IN \('queued', 'running'\)", schema)
    assert {s for s in JobState if s.active} == {"queued", "running"}
    metrics = pytest.importorskip("geoportal.server.metrics")
    assert metrics.JOB_STATES == ("queued", "running", "done", "rejected", "failed")


def test_layer_kinds_and_version_statuses_are_the_catalogs() -> None:
    schema = (ROOT / "geoportal" / "catalog" / "schema.py").read_text(encoding="utf-8")
    assert 'Column("kind", String(16), nullable=False, default="vector")' in schema
    assert {k.value for k in LayerKind} == {"vector", "coverage"}
    assert {s.value for s in VersionStatus} == {"staged", "current", "retired"}
    repository = (ROOT / "geoportal" / "catalog" / "repository.py").read_text(encoding="utf-8")
    for word in re.findall(r'status\s*[=!]=?\s*"(\w+)"', repository):
        assert word in {s.value for s in VersionStatus}


@pytest.mark.parametrize("name", ["states.py", "reports.py"])
def test_the_new_modules_sit_below_every_layer(name: str) -> None:
    """states imports nothing of ours; reports only states and fields (and the stdlib)."""
    tree = ast.parse((ROOT / "geoportal" / name).read_text(encoding="utf-8"))
    ours = {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geoportal")}
    ours |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names if alias.name.startswith("geoportal")}
    assert ours <= {"geoportal.states", "geoportal.fields"}
    if name == "states.py":
        assert not ours
