"""The catalog repository on a real SQLite database."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from geoportal.catalog import Field, Version
from geoportal.catalog import schema as t
from geoportal.catalog.models import LayerMetadata
from geoportal.errors import NotFound


def _meta(layer_id: str = "schools", **kw) -> LayerMetadata:
    return LayerMetadata(id=layer_id, region=kw.pop("region", "4000000000"),
                         theme=kw.pop("theme", "social-services"),
                         title={"be": "Школы", "ru": "Школы", "en": "Schools"}, **kw)


def _draft(layer_id: str = "schools", ref: str = "schools/a.gpkg", count: int = 3) -> Version:
    return Version(
        layer_id=layer_id, version=0, created=datetime.now(UTC), status="staged",
        source_name="schools.geojson", source_sha256="ab" * 32, source_crs="EPSG:4326",
        store_ref=ref, feature_count=count, set_aside_count=1, extent=(23.5, 52.7, 26.7, 55.0),
        geometry_type="Point", fields=[Field("name", "string", "Название")],
        report={"status": "published"},
    )


def test_init_twice_keeps_layers_and_loads_every_region(catalog, registry):
    catalog.publish(_meta(), _draft())
    catalog.init(registry)
    assert [layer.id for layer in catalog.list_layers()] == ["schools"]
    with catalog.engine.connect() as conn:
        codes = {r[0] for r in conn.execute(t.regions.select().with_only_columns(t.regions.c.code))}
    assert codes == set(registry.regions)


def test_first_publish_creates_version_one_as_current(catalog):
    version = catalog.publish(_meta(), _draft())
    layer = catalog.get_layer("schools")
    assert version.version == 1
    assert layer.current is not None and layer.current.version == 1
    assert layer.current.fields == [Field("name", "string", "Название")]
    assert layer.current.extent == (23.5, 52.7, 26.7, 55.0)
    assert layer.meta.title["en"] == "Schools"


def test_republish_retires_the_previous_version_leaving_exactly_one_current(catalog):
    catalog.publish(_meta(), _draft(ref="schools/a.gpkg"))
    catalog.publish(_meta(), _draft(ref="schools/b.gpkg", count=5))
    versions = catalog.versions("schools")
    assert [(v.version, v.status) for v in versions] == [(2, "current"), (1, "retired")]
    assert catalog.get_layer("schools").current.feature_count == 5


def test_every_publish_bumps_the_generation_the_server_polls(catalog):
    before = catalog.generation()
    catalog.publish(_meta(), _draft())
    assert catalog.generation() == before + 1


def test_saving_unchanged_metadata_changes_nothing(catalog):
    catalog.publish(_meta(), _draft())
    generation = catalog.generation()
    assert catalog.save_metadata(_meta()) is False
    assert catalog.generation() == generation
    changed = dataclasses.replace(_meta(), title={"be": "Школы", "ru": "Школы", "en": "Schools 2"})
    assert catalog.save_metadata(changed) is True
    assert catalog.get_layer("schools").meta.title["en"] == "Schools 2"
    assert catalog.generation() == generation + 1


def test_prune_forgets_old_retired_versions_and_returns_their_tables(catalog):
    for name in "abcd":
        catalog.publish(_meta(), _draft(ref=f"schools/{name}.gpkg"))
    dropped = catalog.prune("schools", keep=2)
    assert dropped == ["schools/b.gpkg", "schools/a.gpkg"]
    assert [v.version for v in catalog.versions("schools")] == [4, 3]


def test_unknown_layer_is_not_found(catalog):
    with pytest.raises(NotFound, match="nope"):
        catalog.get_layer("nope")
    assert catalog.find_layer("nope") is None


def test_schema_compiles_for_postgresql_too():
    ddl = "\n".join(str(CreateTable(table).compile(dialect=postgresql.dialect()))
                    for table in t.metadata.sorted_tables)
    assert "CREATE TABLE versions" in ddl
    assert "JSON" in ddl
