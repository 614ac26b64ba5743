"""The portal's user-facing messages in Belarusian and Russian, by message id.

A message id is the English template (gettext's convention: the msgid is the source text), with
a ``{name}`` for each value: ``"feature {id} not found"``. A raise site passes the id and the
values, ``tr("feature {id} not found", id=repr(fid))`` (``geoportal.i18n.tr``), and the server
looks the id up in the request's language. An English template as the id keeps a raise site
readable, and a changed sentence is a new id, so a stale translation cannot survive it.

The table is split by the part of the portal whose raise sites use the messages, so that a
change to one part edits one file: ``sources`` (opening and reading a file), ``etl`` (the rest
of the ETL), ``storage``, ``server``, ``ows`` (WMS, WFS), ``admin`` (tokens, jobs, uploads,
audit, the catalog) and ``shared`` (the texts several parts raise). Each part also has its
``*_FRAGMENTS``: phrases that only occur as the ``NESTED`` values of other messages, merged
into ``FRAGMENTS``.
``foreign`` holds the texts of werkzeug and pygeoapi, which arrive formatted, without an id:
those (and a message of ours that crossed a library as a plain ``str``) are matched back to a
template as finished text, the last resort of ``geoportal.i18n.Texts``.

Add a message: write the raise site with ``tr(id, **values)``, add the id with ``be`` (official
orthography) and ``ru`` to the part's table. ``tests/unit/test_message_ids.py`` walks every raise
site of the portal and fails on a user-facing text that is not an id of this table;
``tests/unit/test_i18n.py`` checks that translations keep the placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping

from geoportal.messages.admin import ADMIN, ADMIN_FRAGMENTS
from geoportal.messages.etl import ETL, ETL_FRAGMENTS
from geoportal.messages.foreign import FOREIGN
from geoportal.messages.ows import OWS
from geoportal.messages.server import SERVER, SERVER_FRAGMENTS
from geoportal.messages.shared import NESTED, SHARED, SHARED_FRAGMENTS
from geoportal.messages.sources import SOURCES, SOURCES_FRAGMENTS
from geoportal.messages.storage import STORAGE, STORAGE_FRAGMENTS

__all__ = ["FOREIGN", "FRAGMENTS", "FRAGMENT_PARTS", "MESSAGES", "NESTED", "PARTS"]

# Each part's table by its name; an id defined in two parts must say the same in both.
PARTS: dict[str, Mapping[str, Mapping[str, str]]] = {
    "foreign": FOREIGN, "shared": SHARED, "sources": SOURCES, "etl": ETL, "storage": STORAGE,
    "server": SERVER, "ows": OWS, "admin": ADMIN}
FRAGMENT_PARTS: dict[str, Mapping[str, Mapping[str, str]]] = {
    "shared": SHARED_FRAGMENTS, "sources": SOURCES_FRAGMENTS, "etl": ETL_FRAGMENTS,
    "storage": STORAGE_FRAGMENTS, "server": SERVER_FRAGMENTS, "admin": ADMIN_FRAGMENTS}


def _merged(parts: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    where: dict[str, str] = {}
    for name, table in parts.items():
        for key, translations in table.items():
            if key in merged and merged[key] != dict(translations):
                raise RuntimeError(f"message {key!r} is translated differently in "
                                   f"geoportal/messages/{where[key]}.py and {name}.py")
            merged[key], where[key] = dict(translations), name
    return merged


MESSAGES = _merged(PARTS)
FRAGMENTS = _merged(FRAGMENT_PARTS)
