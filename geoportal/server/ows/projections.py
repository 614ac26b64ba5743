"""The CRSs MapServer answers in, defined so that it shifts datums as the rest of the portal.

MapServer 8.0 names a request's CRS ``+init=epsg:NNNN``; PROJ builds that CRS without a datum
shift, so Pulkovo 1942 coordinates came out ~130 m away from what pyproj (the ETL, OGC API -
Features) and GDAL give. An ``epsg`` init file of our own, beside a link to the system's
``proj.db``, defines each offered CRS, the Pulkovo ones bound to WGS 84 by the transformation
PROJ itself picks for Belarus, "Pulkovo 1942 to WGS 84 (20)" (accuracy 3 m). A CRS not listed
here is refused by the engine: only these are offered.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["INIT_FILE", "write_projections"]

# EPSG's "Pulkovo 1942 to WGS 84 (20)" as +towgs84 (position-vector rotations)
_PULKOVO = "+ellps=krass +towgs84=23.57,-140.95,-79.8,0,0.35,0.79,-0.22"
_UTM = "+proj=utm +zone={zone} +datum=WGS84 +units=m +no_defs"
_GK = "+proj=tmerc +lat_0=0 +lon_0={lon} +k=1 +x_0={x0} +y_0=0 " + _PULKOVO + \
    " +units=m +no_defs"
INIT_FILE = {
    4326: "+proj=longlat +datum=WGS84 +no_defs",
    3857: "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m "
          "+nadgrids=@null +wktext +no_defs",
    32634: _UTM.format(zone=34),
    32635: _UTM.format(zone=35),
    32636: _UTM.format(zone=36),
    28404: _GK.format(lon=21, x0=4500000),
    28405: _GK.format(lon=27, x0=5500000),
    28406: _GK.format(lon=33, x0=6500000),
    4284: "+proj=longlat " + _PULKOVO + " +no_defs",
}
_PROJ_DB = ("/usr/share/proj/proj.db", "/usr/local/share/proj/proj.db")


def write_projections(folder: Path) -> Path | None:
    """``folder`` with the ``epsg`` file and a link to the system's ``proj.db`` (the one the
    engine's PROJ reads), for the engine's ``PROJ_DATA``; None when there is no ``proj.db``."""
    database = next((Path(p) for p in _PROJ_DB if Path(p).exists()), None)
    if database is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(f"<{code}> {definition} <>\n" for code, definition in INIT_FILE.items())
    tmp = folder / f".epsg.{os.getpid()}"
    tmp.write_text(text, encoding="ascii")
    os.replace(tmp, folder / "epsg")
    link = folder / "proj.db"
    if not link.exists():
        tmp_link = folder / f".proj.db.{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(database)
        os.replace(tmp_link, link)
    return folder
