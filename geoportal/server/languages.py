"""The request's language in the server: negotiated once, told to pygeoapi, said in the headers.

``seams`` points pygeoapi at our negotiation and our translations (the functions below), so
that its routes and ours agree on one language per request:

- ``APIRequest._get_locale``: pygeoapi's own reads ``lang`` and Accept-Language but divides by
  the q-value (``Accept-Language: ru;q=0`` was a 500) and takes an unknown ``lang`` as English
  without looking at Accept-Language. Ours is ``geoportal.i18n.negotiate``.
- ``API.get_exception``: the description of pygeoapi's own errors (``Collection not found``,
  ``bbox values must be numbers``...) in the request's language, and the HTML error page too.
  Its 5xx are logged here, once, with the request id and the traceback (``log_server_error``):
  pygeoapi's own logger stays quiet, as it logs every 4xx as an error.
- The HTML pages and the fixed link titles (``This document as JSON``): pygeoapi 0.24 ships no
  Belarusian or Russian catalog, and its templates look for compiled ``.mo`` files under a
  ``locale`` folder relative to the working directory. Ours are the ``.po`` files beside our
  templates (``templates/locale/<lang>/LC_MESSAGES/messages.po``), compiled in memory with
  babel on first use: nothing compiled is committed, nothing is written at start-up, and an
  edited ``.po`` takes effect at the next start.

``localize`` (an after-request hook) says ``Content-Language`` on every textual answer and
``Vary: Accept-Language`` when the header chose (or could have chosen) the language.
"""

from __future__ import annotations

import logging
import sys
from functools import lru_cache
from gettext import NullTranslations
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Response, g, has_request_context, request
from pygeoapi import api as core_api
from pygeoapi import l10n
from pygeoapi import util as pygeoapi_util
from pygeoapi.api import API, APIRequest
from pygeoapi.formats import F_HTML, FORMAT_TYPES

from geoportal.i18n import DEFAULT, TAGS, Choice, language_of, negotiate, translate

__all__ = ["CATALOGS", "configure", "localize", "log_server_error", "page_translations", "pick",
           "request_choice", "request_language"]

log = logging.getLogger("geoportal.server")
CATALOGS = Path(__file__).parent / "templates" / "locale"
_TEXTUAL = ("json", "html", "xml", "text/", "javascript")
_default = DEFAULT


def request_choice() -> Choice:
    """The current request's language (negotiated once per request); the default outside
    one."""
    if not has_request_context():
        return Choice(_default)
    choice: Choice | None = g.get("_language")
    if choice is None:
        choice = g._language = negotiate(request.args.get("lang"),
                                         request.headers.get("Accept-Language"),
                                         default=_default)
    return choice


def request_language() -> str:
    """``be``, ``ru`` or ``en``: what the current request's answer is written in."""
    return request_choice().language


def pick(texts: dict[str, str], fallback: str = "") -> str:
    """The request's language's text of a layer's ``{be, ru, en}`` texts, else English, else
    any the layer has (a region may describe a layer in one language only)."""
    return (texts.get(request_language()) or texts.get("en")
            or next((t for t in texts.values() if t), fallback))


def localize(response: Response) -> Response:
    """``Content-Language`` on a textual answer (JSON, HTML, XML, text; not tiles, rasters,
    streamed downloads or static files), and ``Vary: Accept-Language`` when it chose."""
    if (response.is_streamed or response.direct_passthrough
            or request.path.startswith("/static/")
            or not any(k in (response.mimetype or "") for k in _TEXTUAL)):
        return response
    if response.mimetype == "text/html" and "charset" not in response.content_type:
        response.content_type = "text/html; charset=utf-8"  # pages are UTF-8; say so
    choice = request_choice()
    response.headers["Content-Language"] = choice.tag
    if choice.varies:
        response.vary.add("Accept-Language")
    return response


@lru_cache(maxsize=8)
def page_translations(language: str) -> NullTranslations:
    """The HTML pages' catalog of ``language`` (gettext), compiled in memory from its .po;
    English (and a language without a catalog) translates nothing."""
    path = CATALOGS / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)  # fuzzy entries are left out, as msgfmt does
    compiled.seek(0)
    return Translations(compiled, domain="messages")


class _PageCatalogs:
    """Stands in for ``babel.support.Translations`` in ``pygeoapi.util``: its templates ask
    for ``Translations.load(locale_dir, [locale])``; they get our catalog of that language."""

    @staticmethod
    def load(dirname: Any = None, locales: Any = None, domain: Any = None) -> NullTranslations:
        first = (locales or [None])[0]
        language = language_of(str(first).replace("_", "-")) if first is not None else None
        return page_translations(language or _default)


def _translate_gettext(value: str, locale_: Any) -> str:
    """pygeoapi's ``l10n.translate_gettext`` (the fixed link titles) over our catalogs."""
    language = language_of(str(getattr(locale_, "language", locale_) or ""))
    return page_translations(language or _default).gettext(value)


def _get_locale(self: APIRequest, headers: Any, supported_locales: Any) -> tuple[str | None,
                                                                                 Locale]:
    """``APIRequest._get_locale`` by our negotiation: (the tag asked for, the Locale)."""
    locales = [l10n.str2locale(loc) for loc in supported_locales]
    args = getattr(self, "_args", None) or {}
    choice = negotiate(args.get("lang") if hasattr(args, "get") else None,
                       headers.get("Accept-Language") if hasattr(headers, "get") else None,
                       default=language_of(str(locales[0])) or _default)
    found = next((loc for loc in locales if loc.language == choice.language), locales[0])
    return (choice.tag if choice.source != "default" else None), found


def log_server_error(description: str) -> None:
    """One ERROR line for a 5xx that pygeoapi answers itself (a provider's failure it turned
    into an exception document), as the server's error handler logs ours: the request id, the
    cause and the traceback of the exception being handled (with the store error it was
    raised from), so that an operator finds it by the id the client was given."""
    handled = sys.exc_info()[1]
    cause = str(handled) if handled is not None else ""
    log.error("request_id=%s error=%s", g.get("request_id") if has_request_context() else None,
              cause if cause not in ("", "None") else description, exc_info=handled)


def _get_exception(self: API, status: int, headers: dict[str, str], format_: str | None,
                   code: str, description: str) -> tuple[dict[str, str], int, str]:
    """``API.get_exception`` with the description (and the HTML page) in the request's
    language; a 5xx is logged (once: pygeoapi's own logging of it is not called)."""
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        log_server_error(description)
    choice = request_choice()
    exception = {"code": code, "type": code,
                 "description": translate(description, choice.language)}
    headers["Content-Language"] = choice.tag
    if format_ == F_HTML:
        headers["Content-Type"] = FORMAT_TYPES[F_HTML]
        content = pygeoapi_util.render_j2_template(
            self.tpl_config, self.config["server"]["templates"], "exception.html", exception,
            l10n.str2locale(choice.tag))
    else:
        content = core_api.to_json(exception, self.pretty_print)
    if status == HTTPStatus.NO_CONTENT:
        content = ""
    return headers, status, content


def configure(default: str | None = None) -> None:
    """Set the language of a request that says nothing (a tag such as ``en-US``; unknown or
    None: ``geoportal.i18n.DEFAULT``) and compile the page catalogs, so that a broken catalog
    fails the start, not a page. ``seams.install`` calls it after pointing pygeoapi at this
    module's ``_get_locale``, ``_get_exception``, ``_PageCatalogs`` and ``_translate_gettext``."""
    global _default
    _default = language_of(default) or DEFAULT
    for tag in TAGS.values():
        page_translations(language_of(tag) or _default)
