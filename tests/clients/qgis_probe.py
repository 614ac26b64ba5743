"""QGIS's own WMS and WFS providers against a running portal, headless, as a GIS specialist's
QGIS 3.22 would use them: prints one JSON object with what QGIS saw, for tests/clients/test_qgis.py
to assert.

Run by Debian's ``/usr/bin/python3`` (python3-qgis is built for the system Python, not for the
project's venv) with ``QT_QPA_PLATFORM=offscreen``::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/clients/qgis_probe.py \\
        http://127.0.0.1:8000 --identify-at 27.5618,53.9022

Every check runs in its own section: a failure is caught and reported under ``failures`` (with
the section's name), so one broken check never hides the others. Nothing here can hang: every
request has QGIS's network timeout, and a watchdog (faulthandler) ends the process with the
stack of where it was stuck once ``--budget`` seconds are over. The pytest side adds its own
subprocess timeout.

Only the standard library and QGIS's Python bindings: this file never imports the project.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

# Belarus in Web Mercator and in lon/lat, with a margin, squared (the renders are 256x256, so
# QGIS asks the server for exactly these extents): the extents of the test renders
BELARUS_3857 = (2_570_000.0, 6_570_000.0, 3_660_000.0, 7_660_000.0)
BELARUS_LONLAT = (23.1, 48.85, 32.8, 58.55)
SAMPLE_LAYERS = ("oblasts", "raions", "cities", "railway-stations", "minsk-stops",
                 "night-lights-2013", "night-lights-2024")
RENDER_SIZE = 256
RENDER_DPI = 96  # a usual desktop screen's: QGIS sends it to the server as DPI/MAP_RESOLUTION
IDENTIFY_HALF_SIZE_M = 10_000.0  # the identify map: 20 km around the point, 201 px wide
IDENTIFY_PIXELS = 201


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The portal's address and what to check."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the portal's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--checks", default="wms,wfs,wfs11",
                        help="comma-separated sections to run: wms, wfs, wfs11 (default: all)")
    parser.add_argument("--identify-at", default=None, metavar="LON,LAT",
                        help="WMS identify on 'cities' at this lon/lat (skipped when absent)")
    parser.add_argument("--layers", default=",".join(SAMPLE_LAYERS),
                        help="WMS layer names that must each open as a QGIS layer")
    parser.add_argument("--city", default="Гродно",
                        help="the name_ru that the WFS filters select (default: Гродно)")
    parser.add_argument("--page-size", type=int, default=7,
                        help="the WFS page size of the paging check (default: 7)")
    parser.add_argument("--timeout-ms", type=int, default=20_000,
                        help="QGIS's network timeout for each request (default: 20000)")
    parser.add_argument("--save-dir", default=None,
                        help="a folder to write the rendered maps to as PNG (for a look)")
    parser.add_argument("--budget", type=float, default=150.0,
                        help="seconds after which the watchdog ends the whole probe")
    return parser.parse_args(argv)


class Probe:
    """The QGIS application, the layers kept alive while in use, and the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.url = args.url.rstrip("/")
        self.report: dict[str, Any] = {"failures": [], "messages": []}
        self.keep: list[Any] = []  # QGIS objects that Python must not collect while in use

    # -- set-up ---------------------------------------------------------------------------

    def start(self) -> None:
        """QgsApplication without a GUI, QGIS's network timeout, its log into the report."""
        started = time.monotonic()
        from qgis.core import Qgis, QgsApplication, QgsNetworkAccessManager, QgsSettings

        QgsApplication.setPrefixPath("/usr", True)
        self.app = QgsApplication([], False)
        self.app.initQgis()
        QgsNetworkAccessManager.setTimeout(self.args.timeout_ms)
        QgsSettings().setValue("qgis/networkAndProxy/networkTimeout", self.args.timeout_ms)
        messages: list[str] = self.report["messages"]

        def logged(message: str, tag: str, level: Any) -> None:
            if level != Qgis.Info and len(messages) < 50:
                messages.append(f"[{tag}] {message}"[:500])

        QgsApplication.messageLog().messageReceived.connect(logged)
        self.report["qgis_version"] = Qgis.QGIS_VERSION
        self.report["providers"] = [p for p in ("wms", "WFS")
                                    if p in self._registry().providerList()]
        self.report["start_s"] = round(time.monotonic() - started, 3)

    @staticmethod
    def _registry() -> Any:
        from qgis.core import QgsProviderRegistry

        return QgsProviderRegistry.instance()

    def section(self, name: str, check: Callable[[dict[str, Any]], None]) -> None:
        """Run ``check`` on the report's ``name`` entry; an exception becomes a failure."""
        out: dict[str, Any] = self.report.setdefault(name, {})
        started = time.monotonic()
        try:
            check(out)
        except Exception as error:  # every failure is reported, none stops the probe
            self.fail(name, f"{type(error).__name__}: {error}")
            out["traceback"] = traceback.format_exc(limit=4)[-1500:]
        out["seconds"] = round(time.monotonic() - started, 3)

    def fail(self, where: str, what: str) -> None:
        """A check that did not hold, named by where it happened."""
        self.report["failures"].append(f"{where}: {what}")

    # -- WMS ------------------------------------------------------------------------------

    def wms_layer(self, name: str, crs: str = "EPSG:3857") -> Any:
        """A QgsRasterLayer of the portal's WMS, with the URI QGIS's own dialog writes."""
        from qgis.core import QgsRasterLayer

        uri = (f"contextualWMSLegend=0&crs={crs}&dpiMode=7&format=image/png&layers={name}"
               f"&styles=&url={self.url}/wms")
        layer = QgsRasterLayer(uri, name, "wms")
        self.keep.append(layer)
        return layer

    def error_text(self, layer: Any) -> str:
        """Why a layer is not valid: its error's messages, else QGIS's latest log lines.
        (QgsError.summary() of an empty error, and any call on a temporary QgsError, crash
        QGIS 3.22's bindings: the error is kept and read message by message.)"""
        error = layer.error()
        texts = [str(message.message()) for message in error.messageList()]
        return "; ".join(texts) or " | ".join(self.report["messages"][-3:]) or "no message"

    def render(self, name: str, layers: list[Any], crs: str, extent: tuple[float, ...]
               ) -> dict[str, Any]:
        """Draw ``layers`` as QGIS draws its canvas, on a transparent 256x256 image at 96 DPI:
        the share of pixels drawn, the renderer's errors, the time, and what was drawn (the
        image is saved as ``<name>.png`` in ``--save-dir``, for the tests to compare)."""
        from qgis.core import (
            QgsCoordinateReferenceSystem,
            QgsMapRendererSequentialJob,
            QgsMapSettings,
            QgsRectangle,
        )
        from qgis.PyQt.QtCore import QSize
        from qgis.PyQt.QtGui import QColor, QImage

        settings = QgsMapSettings()
        settings.setLayers(layers)
        settings.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
        settings.setExtent(QgsRectangle(*extent))
        settings.setOutputSize(QSize(RENDER_SIZE, RENDER_SIZE))
        settings.setOutputDpi(RENDER_DPI)
        settings.setBackgroundColor(QColor(0, 0, 0, 0))
        started = time.monotonic()
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        saved = None
        if self.args.save_dir:
            saved = os.path.join(self.args.save_dir, f"{name}.png")
            image.save(saved)
        alpha = image.convertToFormat(QImage.Format_Alpha8)
        bits = alpha.constBits()
        bits.setsize(alpha.sizeInBytes())
        data = bytes(bits)
        line = alpha.bytesPerLine()
        drawn = sum(1 for y in range(alpha.height())
                    for value in data[y * line:y * line + alpha.width()] if value)
        return {"share": round(drawn / (alpha.width() * alpha.height()), 4),
                "layers": [layer.name() for layer in layers], "crs": crs,
                "extent": list(extent), "dpi": RENDER_DPI, "file": saved,
                "size": [image.width(), image.height()],
                "errors": [f"{e.layer}: {e.message}" for e in job.errors()],
                "seconds": round(time.monotonic() - started, 3)}

    def check_wms(self, out: dict[str, Any]) -> None:
        """The oblasts layer opens; the capabilities list the sample layers; maps draw in
        EPSG:3857 and EPSG:4326 (WMS 1.3.0's lat/lon axis order); legend; identify."""
        oblasts = self.wms_layer("oblasts")
        out["valid"] = oblasts.isValid()
        if not oblasts.isValid():
            out["error"] = self.error_text(oblasts)
            self.fail("wms", f"the oblasts layer is not valid: {out['error']}")
            return
        provider = oblasts.dataProvider()
        out["crs"] = oblasts.crs().authid()
        extent = oblasts.extent()
        out["extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                         extent.yMaximum()]
        out["sublayers"] = list(provider.subLayers())
        # QGIS's own summary of the capabilities (its layer properties' "Information" tab)
        html = provider.htmlMetadata()
        out["capabilities_layers"] = re.findall(r"<tr><td>Name</td><td>([^<]*)</td></tr>", html)
        count = re.search(r"<td>Layer Count</td><td>(\d+)</td>", html)
        out["capabilities_layer_count"] = int(count.group(1)) if count else None
        formats = re.search(r"<td>Identify Formats</td><td>(.*?)</td>", html)
        out["identify_formats"] = formats.group(1).split("<br />") if formats else []
        # each layer the capabilities name opens; one they do not name does not
        names = [n for n in self.args.layers.split(",") if n]
        out["layers_valid"] = {n: self.wms_layer(n).isValid() for n in names}
        out["unknown_layer_valid"] = self.wms_layer("no-such-layer").isValid()

        for key, run in (
            ("render_oblasts_3857", lambda: ([oblasts], "EPSG:3857", BELARUS_3857)),
            ("render_oblasts_4326", lambda: (
                [self.wms_layer("oblasts", "EPSG:4326")], "EPSG:4326", BELARUS_LONLAT)),
            ("render_night_lights", lambda: (
                [self.wms_layer("night-lights-2024")], "EPSG:3857", BELARUS_3857)),
            ("render_cities", lambda: ([self.wms_layer("cities")], "EPSG:3857", BELARUS_3857)),
        ):
            try:
                out[key] = self.render(key, *run())
            except Exception as error:
                self.fail(f"wms.{key}", f"{type(error).__name__}: {error}")
        try:
            out["legend"] = self.legend(provider)
        except Exception as error:
            self.fail("wms.legend", f"{type(error).__name__}: {error}")
        if self.args.identify_at:
            self.identify(out)

    def legend(self, provider: Any) -> dict[str, Any]:
        """The layer's legend as QGIS's layer tree fetches it (GetLegendGraphic)."""
        from qgis.PyQt.QtCore import QEventLoop, QTimer

        got: dict[str, Any] = {}
        loop = QEventLoop()
        fetcher = provider.getLegendGraphicFetcher(None)
        if fetcher is None:
            return {"supported": provider.supportsLegendGraphic(), "error": "no fetcher"}
        fetcher.finish.connect(lambda image: (got.setdefault("image", image), loop.quit()))
        fetcher.error.connect(lambda message: (got.setdefault("error", message), loop.quit()))
        QTimer.singleShot(self.args.timeout_ms, loop.quit)
        fetcher.start()
        if not got:
            loop.exec_()
        image = got.get("image")
        return {"supported": provider.supportsLegendGraphic(),
                "size": [image.width(), image.height()] if image is not None else None,
                "error": str(got["error"]) if "error" in got else None}

    def identify(self, out: dict[str, Any]) -> None:
        """QGIS's identify tool on the cities layer at ``--identify-at``, in each format the
        provider offers: text, HTML and features (GML parsed by QGIS)."""
        from qgis.core import (
            QgsCoordinateReferenceSystem,
            QgsCoordinateTransform,
            QgsErrorMessage,
            QgsPointXY,
            QgsProject,
            QgsRaster,
            QgsRasterDataProvider,
            QgsRectangle,
        )

        lon, lat = (float(v) for v in self.args.identify_at.split(","))
        cities = self.wms_layer("cities")
        if not cities.isValid():
            self.fail("wms.identify", f"the cities layer is not valid: {self.error_text(cities)}")
            return
        provider = cities.dataProvider()
        caps = provider.capabilities()
        out["identify_capabilities"] = {
            name: bool(caps & getattr(QgsRasterDataProvider, f"Identify{name.title()}"))
            for name in ("text", "html", "feature")}
        to_mercator = QgsCoordinateTransform(QgsCoordinateReferenceSystem("EPSG:4326"),
                                             QgsCoordinateReferenceSystem("EPSG:3857"),
                                             QgsProject.instance())
        point = to_mercator.transform(QgsPointXY(lon, lat))
        extent = QgsRectangle(point.x() - IDENTIFY_HALF_SIZE_M, point.y() - IDENTIFY_HALF_SIZE_M,
                              point.x() + IDENTIFY_HALF_SIZE_M, point.y() + IDENTIFY_HALF_SIZE_M)
        for name, fmt in (("text", QgsRaster.IdentifyFormatText),
                          ("html", QgsRaster.IdentifyFormatHtml),
                          ("feature", QgsRaster.IdentifyFormatFeature)):
            if not out["identify_capabilities"][name]:
                continue
            started = time.monotonic()
            result = provider.identify(point, fmt, extent, IDENTIFY_PIXELS, IDENTIFY_PIXELS)
            entry: dict[str, Any] = {"valid": result.isValid()}
            error = result.error()
            if not error.isEmpty():
                entry["error"] = str(error.message(QgsErrorMessage.Text))
            values: list[Any] = []
            for value in result.results().values():
                if name == "feature":  # a list of QgsFeatureStore per sublayer
                    for store in value or []:
                        for feature in store.features():
                            values.append({k: _plain(v) for k, v in
                                           zip(feature.fields().names(), feature.attributes(),
                                               strict=True)})
                else:
                    values.append(_plain(value))
            entry["results"] = values
            entry["seconds"] = round(time.monotonic() - started, 3)
            out[f"identify_{name}"] = entry

    # -- WFS ------------------------------------------------------------------------------

    def wfs_layer(self, typename: str, *, version: str = "2.0.0", srsname: str = "EPSG:4326",
                  **extra: str) -> Any:
        """A QgsVectorLayer of the portal's WFS with the URI QGIS's own dialog writes;
        ``extra``: more URI keys (pageSize, restrictToRequestBBOX...)."""
        from qgis.core import QgsVectorLayer

        keys = {"pagingEnabled": "true", "preferCoordinatesForWfsT11": "false",
                "restrictToRequestBBOX": "0", "srsname": srsname, "typename": typename,
                "url": f"{self.url}/wfs", "version": version, **extra}
        uri = " ".join(f"{key}='{value}'" for key, value in keys.items())
        layer = QgsVectorLayer(uri, typename.split(":")[-1], "WFS")
        self.keep.append(layer)
        return layer

    def valid_wfs(self, where: str, typename: str, **kwargs: str) -> Any | None:
        """The layer, or None with a failure saying why QGIS refused it."""
        layer = self.wfs_layer(typename, **kwargs)
        if not layer.isValid():
            self.fail(where, f"{typename} {kwargs} is not valid: {self.error_text(layer)}")
            return None
        return layer

    def city_filter(self) -> str:
        """A QGIS expression selecting ``--city`` by its Russian name."""
        return "\"name_ru\" = '{}'".format(self.args.city.replace("'", "''"))

    @staticmethod
    def points(features: list[Any]) -> list[list[float]]:
        """The x/y of point features (a multipoint's first point)."""
        found = []
        for feature in features:
            geometry = feature.geometry()
            if geometry.isNull():
                continue
            point = geometry.vertexAt(0)
            found.append([point.x(), point.y()])
        return found

    def check_wfs(self, out: dict[str, Any]) -> None:
        """WFS 2.0: the cities layer, its count, fields and Cyrillic values; an expression
        filter (in QGIS) and a subset string (FES 2.0 on the server); paging with a small page;
        a server-side BBOX; UTM 35N coordinates; a polygon layer."""
        from qgis.core import QgsFeatureRequest, QgsRectangle, QgsWkbTypes

        cities = self.valid_wfs("wfs", "geoportal:cities")
        out["valid"] = cities is not None
        if cities is None:
            return
        out["feature_count"] = cities.featureCount()
        out["crs"] = cities.crs().authid()
        out["geometry_type"] = QgsWkbTypes.displayString(cities.wkbType())
        out["fields"] = {f.name(): f.typeName() for f in cities.fields()}
        features = list(cities.getFeatures())
        out["features_read"] = len(features)
        names = [f["name_ru"] for f in features]
        out["name_ru"] = sorted(str(n) for n in names)

        request = QgsFeatureRequest().setFilterExpression(self.city_filter())
        found = list(cities.getFeatures(request))
        out["expression_filter"] = {"count": len(found), "points": self.points(found),
                                    "names": [str(f["name_ru"]) for f in found]}

        subset = self.valid_wfs("wfs.subset", "geoportal:cities")
        if subset is not None:  # a subset string goes to the server as a FES 2.0 filter
            out["subset_accepted"] = subset.setSubsetString(self.city_filter())
            found = list(subset.getFeatures())
            out["subset_filter"] = {"count": len(found), "points": self.points(found),
                                    "feature_count": subset.featureCount()}

        paged = self.valid_wfs("wfs.paging", "geoportal:cities",
                               pageSize=str(self.args.page_size))
        if paged is not None:
            found = list(paged.getFeatures())
            out["paging"] = {"page_size": self.args.page_size, "count": len(found),
                             "distinct": len({str(f["city_id"]) for f in found}),
                             "feature_count": paged.featureCount()}

        boxed = self.valid_wfs("wfs.bbox", "geoportal:cities", restrictToRequestBBOX="1")
        if boxed is not None and out["expression_filter"]["points"]:
            x, y = out["expression_filter"]["points"][0]
            found = list(boxed.getFeatures(QgsFeatureRequest(
                QgsRectangle(x - 0.05, y - 0.05, x + 0.05, y + 0.05))))
            out["bbox_request"] = {"names": [str(f["name_ru"]) for f in found]}

        utm = self.valid_wfs("wfs.utm", "geoportal:cities", srsname="EPSG:32635")
        if utm is not None:
            found = list(utm.getFeatures(QgsFeatureRequest().setFilterExpression(
                self.city_filter())))
            out["utm"] = {"crs": utm.crs().authid(), "points": self.points(found)}

        oblasts = self.valid_wfs("wfs.polygons", "geoportal:oblasts")
        if oblasts is not None:
            found = list(oblasts.getFeatures())
            out["oblasts"] = {
                "feature_count": oblasts.featureCount(), "count": len(found),
                "geometry_type": QgsWkbTypes.displayString(oblasts.wkbType()),
                "valid_geometries": sum(1 for f in found if f.geometry().isGeosValid()),
                "area_deg2": round(sum(f.geometry().area() for f in found), 3)}

    def check_wfs11(self, out: dict[str, Any]) -> None:
        """WFS 1.1.0 (old QGIS and ArcGIS speak it): the layer, its count, the city's lon/lat
        (1.1's EPSG:4326 is lat/lon on the wire) and a server-side OGC filter."""
        from qgis.core import QgsFeatureRequest

        cities = self.valid_wfs("wfs11", "geoportal:cities", version="1.1.0")
        out["valid"] = cities is not None
        if cities is None:
            return
        out["feature_count"] = cities.featureCount()
        out["features_read"] = sum(1 for _ in cities.getFeatures())
        found = list(cities.getFeatures(QgsFeatureRequest().setFilterExpression(
            self.city_filter())))
        out["expression_filter"] = {"count": len(found), "points": self.points(found)}
        subset = self.valid_wfs("wfs11.subset", "geoportal:cities", version="1.1.0")
        if subset is not None:
            out["subset_accepted"] = subset.setSubsetString(self.city_filter())
            found = list(subset.getFeatures())
            out["subset_filter"] = {"count": len(found), "points": self.points(found)}


def _plain(value: Any) -> Any:
    """A QGIS attribute or identify value as JSON: NULL QVariants become None."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isNull") and value.isNull():
        return None
    return str(value)


def main(argv: list[str]) -> int:
    """Run the asked sections and print the report as one JSON object on stdout."""
    args = parse_args(argv)
    faulthandler.dump_traceback_later(args.budget, exit=True)  # never hang
    probe = Probe(args)
    try:
        probe.start()
    except Exception as error:
        probe.fail("start", f"{type(error).__name__}: {error}")
    else:
        checks = {"wms": probe.check_wms, "wfs": probe.check_wfs, "wfs11": probe.check_wfs11}
        for name in args.checks.split(","):
            if name in checks:
                probe.section(name, checks[name])
            elif name:
                probe.fail(name, "no such check (wms, wfs, wfs11)")
    sys.stdout.write(json.dumps(probe.report) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    # os._exit: QGIS's teardown at interpreter exit can crash after the report is out
    os._exit(main(sys.argv[1:]))
