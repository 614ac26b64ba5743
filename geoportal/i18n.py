"""Languages: which one a request wants, and the portal's own texts in it.

The portal speaks Belarusian, Russian and English (``LANGUAGES``). ``negotiate`` settles a
request's language: the ``lang`` query parameter first (``be``, ``ru-RU``, ``en_US``, ``bel``...),
then ``Accept-Language`` with its q-values (``q=0`` refuses a language), then the default. A
``lang`` the portal does not speak is not an error: the answer comes in the next choice, and its
``Content-Language`` says which.

``translate`` says a user-facing message in another language. A raise site passes the message
id (the English template, ``"feature {id} not found"``) and its values: ``tr(id, **values)``
gives a ``Message``, an ``str`` holding the English with its id and values attached, which
``translate`` looks up by id (``geoportal.messages``; nested texts by their own ids). A text
that arrives without an id (werkzeug's and pygeoapi's, or one of ours that a library turned into
a plain ``str``) is matched back to a template as finished text, the last resort. Anything
without a translation stays English: a fallback, never an error. ``message_to_json`` keeps the
id and values of a text stored for later (a job's error).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geoportal.messages import FRAGMENTS, MESSAGES, NESTED

__all__ = ["DEFAULT", "LANGUAGES", "MESSAGE_TEXTS", "TAGS", "Choice", "Message", "Texts",
           "accepted_languages", "language_of", "message_from_json", "message_to_json",
           "negotiate", "tr", "translate"]

LANGUAGES = ("be", "ru", "en")
DEFAULT = "en"
# The tags said in Content-Language (and by pygeoapi's configuration, PYGEOAPI_LANGUAGES).
TAGS = {"be": "be-BY", "ru": "ru-RU", "en": "en-US"}
_ALIASES = {"bel": "be", "rus": "ru", "eng": "en"}  # ISO 639-2/3 codes
_MAX_RANGES = 32  # more Accept-Language entries than this are ignored (no browser sends them)


@dataclass(frozen=True)
class Choice:
    """A request's language and where it came from: ``lang``, ``accept-language`` or
    ``default``. An answer chosen without ``lang`` varies with Accept-Language."""

    language: str
    source: str = "default"

    @property
    def tag(self) -> str:
        """The language tag for Content-Language (``ru-RU``)."""
        return TAGS[self.language]

    @property
    def varies(self) -> bool:
        """True when Accept-Language was (or could have been) read to choose."""
        return self.source != "lang"


def language_of(tag: str | None) -> str | None:
    """The portal language a tag names (``be-BY`` -> ``be``, ``RU`` -> ``ru``), else None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-", 1)[0].lower()
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


def accepted_languages(header: str | None) -> list[str]:
    """The portal languages an Accept-Language header accepts, best first.

    q-values order them (ties keep the header's order); ``q=0`` refuses a language; a
    malformed entry is skipped, never an error; ``*`` stands for every language not named."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    refused: set[str] = set()
    for index, part in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, _, params = part.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if not 0.0 <= quality <= 1.0:
            continue
        tag = tag.strip()
        names = [tag] if tag != "*" else ["*"]
        for name in names:
            language = "*" if name == "*" else language_of(name)
            if language is None:
                continue
            if quality == 0.0:
                refused.add(language)
            else:
                ranked.append((-quality, index, language))
    out: list[str] = []
    for _, _, language in sorted(ranked):
        candidates = [language] if language != "*" else [DEFAULT, *LANGUAGES]
        for candidate in candidates:
            if candidate not in refused and candidate not in out:
                out.append(candidate)
                if language == "*":
                    break
    return out


def negotiate(lang: str | None, accept_language: str | None, *,
              default: str = DEFAULT) -> Choice:
    """The language of an answer: ``lang`` when the portal speaks it, else the best of
    Accept-Language, else ``default``."""
    asked = language_of(lang)
    if asked is not None:
        return Choice(asked, "lang")
    accepted = accepted_languages(accept_language)
    if accepted:
        return Choice(accepted[0], "accept-language")
    return Choice(default if default in LANGUAGES else DEFAULT, "default")


class Message(str):
    """An English text that remembers its template and values, so that it can be said in
    another language exactly (``tr("feature {id} not found", id=7)``)."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: Mapping[str, Any]) -> Message:
        text = super().__new__(cls, template.format(**params) if params else template)
        text.template = template
        text.params = dict(params)
        return text

    def __reduce__(self) -> tuple[type[Message], tuple[str, dict[str, Any]]]:
        """Copied and pickled with its id and values (a report copied, an error sent to a
        worker process), not as its English alone."""
        return (Message, (self.template, self.params))


def message_to_json(text: str) -> dict[str, Any] | str:
    """``text`` as JSON that keeps its message id and values (a ``Message``), so that a text
    stored now (a job's error) is said later in the language of whoever reads it; a plain text
    stays a string."""
    if not isinstance(text, Message):
        return str(text)
    values = {name: message_to_json(value) if isinstance(value, Message)
              else value if isinstance(value, int | float | bool) or value is None
              else str(value) for name, value in text.params.items()}
    return {"id": text.template, "values": values, "en": str(text)}


def message_from_json(stored: Any) -> str:
    """The ``Message`` (or the plain text) ``message_to_json`` gave."""
    if isinstance(stored, dict) and isinstance(stored.get("id"), str):
        values = {name: message_from_json(value) if isinstance(value, dict) else value
                  for name, value in (stored.get("values") or {}).items()}
        try:
            return Message(stored["id"], values)
        except (KeyError, IndexError, ValueError):  # stored by an older template
            return str(stored.get("en") or stored["id"])
    return "" if stored is None else str(stored)


def tr(template: str, /, **params: Any) -> Message:
    """A user-facing text: the English ``template`` formatted with ``params``, translatable by
    ``translate`` whatever the values are."""
    return Message(template, params)


# A placeholder of a template: {name}, {name!r}, {name:>10}.
_FIELD = re.compile(r"\{(\w+)(![rsa])?(:[^{}]*)?\}")


def _pattern(template: str) -> re.Pattern[str]:
    """A regular expression matching what ``template`` gives once formatted."""
    out, position, seen = [], 0, set()
    for found in _FIELD.finditer(template):
        out.append(re.escape(template[position:found.start()]))
        name = found.group(1)
        out.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = found.end()
    out.append(re.escape(template[position:]))
    return re.compile("".join(out), re.DOTALL)


def _literal_length(template: str) -> int:
    return len(_FIELD.sub("", template))


def _patterns(table: Mapping[str, Any]) -> list[tuple[re.Pattern[str], str]]:
    """The templates with placeholders, the most specific (longest fixed text) first."""
    return sorted(((_pattern(t), t) for t in table if _FIELD.search(t)),
                  key=lambda item: -_literal_length(item[1]))


def _fill(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each placeholder replaced by the text given for it (as is)."""
    return _FIELD.sub(lambda m: values.get(m.group(1), m.group(0)), template)


Table = Mapping[str, Mapping[str, str]]  # English template -> {language: translation}


class Texts:
    """A table of translations keyed by English templates, and the phrases (``fragments``)
    that only occur as the ``nested`` values of other texts."""

    def __init__(self, table: Table, fragments: Table | None = None,
                 nested: frozenset[str] = frozenset()) -> None:
        self.table = table
        self.fragments = fragments or {}
        self.nested = nested
        self._whole = ((table, _patterns(table)),)
        self._inner = ((self.fragments, _patterns(self.fragments)), *self._whole)
        self._cache: dict[tuple[str, str, bool], str] = {}

    def translate(self, text: str, language: str) -> str:
        """``text`` (English, formatted or a ``Message``) in ``language``; English when there
        is no translation."""
        if language not in LANGUAGES or language == "en" or not text:
            return str(text)
        if isinstance(text, Message):
            found = (self.table.get(text.template) or self.fragments.get(text.template)
                     or {}).get(language)
            if found is not None:
                params = {name: self.translate(value, language) if isinstance(value, Message)
                          else self._text(str(value), language, True, 1)
                          if name in self.nested else value
                          for name, value in text.params.items()}
                try:
                    return found.format(**params)
                except (KeyError, IndexError, ValueError):
                    return str(text)
        return self._text(str(text), language, False, 0)

    def _text(self, text: str, language: str, nested: bool, depth: int) -> str:
        key = (text, language, nested)
        found = self._cache.get(key)
        if found is None:
            found = self._match(text, language, nested, depth)
            if len(self._cache) < 8192:  # messages name values: keep the cache bounded
                self._cache[key] = found
        return found

    def _match(self, text: str, language: str, nested: bool, depth: int) -> str:
        """An exact key, else the first template that matches, with its nested values
        translated in turn."""
        tables = self._inner if nested else self._whole
        for table, _ in tables:
            if text in table:
                return table[text].get(language, text)
        if depth > 3:
            return text
        for table, patterns in tables:
            for pattern, template in patterns:
                match = pattern.fullmatch(text)
                if match is None:
                    continue
                translated = table[template].get(language)
                if translated is None:
                    return text
                values = {name: self._text(value, language, True, depth + 1)
                          if name in self.nested else value
                          for name, value in match.groupdict().items()}
                return _fill(translated, values)
        return text


MESSAGE_TEXTS = Texts(MESSAGES, FRAGMENTS, NESTED)


def translate(text: str, language: str) -> str:
    """``text`` (a user-facing English message, see ``geoportal.messages``) in ``language``;
    English when there is no translation."""
    return MESSAGE_TEXTS.translate(text, language)
