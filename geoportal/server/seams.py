"""Every attribute of pygeoapi that the portal replaces, in one table, checked and applied here.

pygeoapi has no extension point for what these change (its request-path helpers, its locale
negotiation, its error documents, its conformance lists), so the portal assigns module and class
attributes of pygeoapi once, at start-up (``create_app`` calls ``install``). That is fragile:
a pygeoapi release that renames, moves or stops calling one of them would switch a fix off
without a word. So, before anything is assigned:

- pygeoapi's version is compared with the one the seams were tested on (``TESTED_PYGEOAPI``,
  the pin of ``constraints.txt``): another minor or major version is refused (``SeamError``,
  naming both); another patch release of the tested minor is accepted with a WARNING, because
  ``pyproject.toml`` lets ``pip install`` pick any 0.24.x, a patch release rarely moves
  internals, and the checks below still refuse a start where a target is gone;
- each target must exist, hold what we replace (a function for a function, a list for a
  list) and, for a function, take the parameters we expect (``Seam.parameters``).

Then every seam is assigned in the order of ``SEAMS`` (none depends on another: the Features
conformance list is built here from ``filters`` and ``tiles`` at once, where it used to be set
by one install and appended to by the next, so that swapping them dropped the Tiles classes).
``install`` is idempotent: a second call assigns the same functions and equal lists.
``tests/unit/test_seams.py`` proves, seam by seam, that pygeoapi still calls each replacement.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from dataclasses import dataclass
from typing import Any

import pygeoapi

from geoportal.server import coverages, filters, languages, pygeoapi_speedups, tiles
from geoportal.server.ows import maps

__all__ = ["SEAMS", "TESTED_PYGEOAPI", "Seam", "SeamError", "check", "check_version", "install",
           "original", "resolve"]

log = logging.getLogger("geoportal.server")

# pygeoapi's version the seams were tested on: the pin of constraints.txt (a unit test keeps
# the two equal). Upgrading pygeoapi: change both, run tests/unit/test_seams.py.
TESTED_PYGEOAPI = "0.24.0"


class SeamError(RuntimeError):
    """pygeoapi is not what the portal's replacements were written for: the server refuses to
    start rather than serve with a fix silently switched off."""


@dataclass(frozen=True)
class Seam:
    """One attribute of pygeoapi replaced by the portal.

    ``target`` names a module (``pygeoapi.api.itemtypes``) or a class in one
    (``pygeoapi.api:APIRequest``); ``replacement`` is our function or value; ``parameters``
    are the parameter names pygeoapi's original takes (checked, as its callers pass them so);
    ``provider`` is our module that defines the replacement, ``why`` the reason."""

    target: str
    attribute: str
    replacement: Any
    provider: str
    why: str
    parameters: tuple[str, ...] | None = None

    @property
    def name(self) -> str:
        """``target.attribute``, as in messages and test ids."""
        return f"{self.target.replace(':', '.')}.{self.attribute}"


def _features_conformance() -> list[str]:
    """The Features conformance list: the filters' classes, then the Tiles classes (vector
    tiles are served from Features collections), each once."""
    return list(dict.fromkeys(filters.CONFORMANCE + tiles.CONFORMANCE + maps.CONFORMANCE))


_SPEED = pygeoapi_speedups.__name__
_FILTERING = ("pygeoapi.api", "pygeoapi.api.itemtypes", "pygeoapi.api.coverages",
              "pygeoapi.api.environmental_data_retrieval", "pygeoapi.api.maps",
              "pygeoapi.api.tiles")

# In the order applied. The modules that define the replacements say more about each.
SEAMS: tuple[Seam, ...] = (
    Seam("pygeoapi.api.itemtypes", "transform_bbox", pygeoapi_speedups.transform_bbox, _SPEED,
         "no new pyproj Transformer per request with a bbox (12 ms each)",
         ("bbox", "from_crs", "to_crs", "always_xy")),
    Seam("pygeoapi.api.itemtypes", "to_json", pygeoapi_speedups.to_json, _SPEED,
         "items pages encoded by orjson", ("dict_", "pretty")),
    Seam("pygeoapi.api", "to_json", pygeoapi_speedups.to_json, _SPEED,
         "core answers (landing page, conformance, errors) encoded by orjson",
         ("dict_", "pretty")),
    *(Seam(module, "filter_dict_by_key_value", pygeoapi_speedups.filter_dict_by_key_value,
           _SPEED, "the collection list answered by LazyResources, not by building every "
           "resource", ("dict_", "key", "value")) for module in _FILTERING),
    Seam("pygeoapi.api.itemtypes", "parse_cql2_text", filters.parse_filter, filters.__name__,
         "a GET filter may be CQL2 JSON too; parsed once per request (cached)", ("cql_text",)),
    Seam("pygeoapi.api.itemtypes", "CONFORMANCE_CLASSES_FEATURES", _features_conformance(),
         f"{filters.__name__}, {tiles.__name__}",
         "what our Features collections really do (CQL2 JSON, advanced CQL2, Part 4) and the "
         "Tiles classes, in one list"),
    Seam("pygeoapi.api.coverages", "CONFORMANCE_CLASSES", list(coverages.CONFORMANCE),
         coverages.__name__, "what our coverage routes do (pygeoapi's claims HTML and "
         "datetime subsetting)"),
    Seam("pygeoapi.api:APIRequest", "_get_locale", languages._get_locale, languages.__name__,
         "one negotiation for pygeoapi's routes and ours (q=0 was a 500; an unknown lang "
         "ignored Accept-Language)", ("self", "headers", "supported_locales")),
    Seam("pygeoapi.api:API", "get_exception", languages._get_exception, languages.__name__,
         "pygeoapi's error texts in the request's language; its 5xx logged once with the "
         "request id", ("self", "status", "headers", "format_", "code", "description")),
    Seam("pygeoapi.util", "Translations", languages._PageCatalogs, languages.__name__,
         "the HTML pages' be/ru catalogs from our .po files (pygeoapi ships none)"),
    Seam("pygeoapi.l10n", "translate_gettext", languages._translate_gettext, languages.__name__,
         "the fixed link titles (This document as JSON) in be/ru", ("value", "locale_")),
)

# pygeoapi's own values, kept when first replaced (tests put one back to see the difference)
_ORIGINALS: dict[str, Any] = {}


def resolve(seam: Seam) -> Any:
    """The module or class that holds the seam's attribute; SeamError when it is gone."""
    module_name, _, class_name = seam.target.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SeamError(f"pygeoapi seam {seam.name} ({seam.provider}): module {module_name} "
                        f"cannot be imported ({exc})") from exc
    if class_name:
        owner = vars(owner).get(class_name)
        if not inspect.isclass(owner):
            raise SeamError(f"pygeoapi seam {seam.name} ({seam.provider}): {module_name} has "
                            f"no class {class_name}")
    return owner


def original(seam: Seam) -> Any:
    """pygeoapi's own value of the seam's attribute (before ``install`` replaced it)."""
    return _ORIGINALS.get(seam.name, getattr(resolve(seam), seam.attribute))


def _is_ours(seam: Seam, current: Any) -> bool:
    if isinstance(seam.replacement, list):
        return bool(current == seam.replacement)
    return current is seam.replacement


def _check_one(seam: Seam) -> None:
    """SeamError unless the target holds an attribute of the kind and signature we replace."""
    owner = resolve(seam)
    # the attribute must be the target's own (a class attribute may be inherited from pygeoapi's
    # base class, a module's must be defined or imported there, since pygeoapi reads it there)
    if seam.attribute not in vars(owner):
        raise SeamError(f"pygeoapi seam {seam.name} ({seam.provider}): {seam.target} has no "
                        f"attribute {seam.attribute!r}; pygeoapi {pygeoapi.__version__} moved "
                        f"or removed it (tested on {TESTED_PYGEOAPI})")
    current = vars(owner)[seam.attribute]
    if _is_ours(seam, current):
        return  # installed already: the original was checked then
    if isinstance(seam.replacement, list) != isinstance(current, list) or (
            callable(seam.replacement) and not callable(current)):
        raise SeamError(f"pygeoapi seam {seam.name} ({seam.provider}): expected a "
                        f"{type(seam.replacement).__name__}, pygeoapi {pygeoapi.__version__} "
                        f"has a {type(current).__name__}")
    if seam.parameters is not None:
        try:
            found = tuple(inspect.signature(current).parameters)
        except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
            return
        if found != seam.parameters:
            raise SeamError(f"pygeoapi seam {seam.name} ({seam.provider}): pygeoapi "
                            f"{pygeoapi.__version__} takes ({', '.join(found)}), the "
                            f"replacement was written for ({', '.join(seam.parameters)})")


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def check_version(installed: str | None = None, tested: str = TESTED_PYGEOAPI) -> None:
    """SeamError when pygeoapi's major.minor is not the tested one; a WARNING for another patch
    release of it (``pip install`` may pick one; the seam checks still guard it)."""
    installed = installed if installed is not None else pygeoapi.__version__
    if installed == tested:
        return
    if _minor(installed) != _minor(tested):
        raise SeamError(f"pygeoapi {installed} is installed, but the portal's pygeoapi seams "
                        f"were tested on {tested} (geoportal/server/seams.py); install "
                        f"pygeoapi=={tested} (constraints.txt) or retest the seams")
    log.warning("pygeoapi %s is installed, the seams were tested on %s: same minor version, "
                "starting (geoportal/server/seams.py)", installed, tested)


def check(seams: tuple[Seam, ...] | None = None) -> None:
    """SeamError naming the first seam (of ``seams``, default ``SEAMS``) whose target is
    missing or changed."""
    for seam in SEAMS if seams is None else seams:
        _check_one(seam)


def install(default_language: str | None = None) -> None:
    """Check pygeoapi's version and every seam, then apply them all in the order of ``SEAMS``
    (nothing is assigned if a check fails), and set the language of a request that says
    nothing (``languages.configure``). Idempotent."""
    check_version()
    check()
    for seam in SEAMS:
        owner = resolve(seam)
        current = vars(owner)[seam.attribute]
        if not _is_ours(seam, current):
            _ORIGINALS.setdefault(seam.name, current)
        value = list(seam.replacement) if isinstance(seam.replacement, list) \
            else seam.replacement
        setattr(owner, seam.attribute, value)
    languages.configure(default_language)
