"""The checks of a manifest's texts that its parts share (``manifest``, ``styles``): a text
or one per language, the names a message shows, the length limit.

Each check notes what is wrong on a ``Problems`` list (the manifest's), naming the key the
admin typed, so one run reports every mistake of a file.
"""

from __future__ import annotations

from typing import Any, Protocol

from geoportal.catalog.models import LANGUAGES

__all__ = ["Problems", "is_text", "shown_names", "text_or_texts", "too_long"]


class Problems(Protocol):
    """Where a check notes what is wrong (the manifest's list of problems)."""

    def add(self, template: str, /, **values: Any) -> None:
        """Note ``template`` (a message id with ``{origin}``) with its values."""


def shown_names(keys: Any) -> str:
    """Keys as the admin typed them, but never an essay: at most 5, each cut."""
    shown = sorted(str(k)[:40] for k in keys)
    return str(shown[:5])[:-1] + (f", ... {len(shown) - 5} more]" if len(shown) > 5 else "]")


def is_text(value: Any) -> bool:
    """A scalar a manifest may give as a text: a string or a number (``label: 2013``)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def too_long(key: str, text: str, limit: int, problems: Problems) -> bool:
    """Note "too long" for ``key`` when ``text`` is over ``limit`` characters."""
    if len(text) <= limit:
        return False
    problems.add("{origin}: '{key}' is {n} characters long; at most {limit}", key=key,
                 n=f"{len(text):,}", limit=f"{limit:,}")
    return True


def text_or_texts(value: Any, key: str, limit: int, problems: Problems
                  ) -> str | dict[str, str] | None:
    """A text for every language, or ``{be, ru, en}`` (1-3 of them) each its own (field
    titles, ``unit``, ``series.label``, a style category's title); each at most ``limit``
    characters. None when absent or wrong (the problem noted, naming ``key``)."""
    if value is None:
        return None
    if is_text(value):
        text = str(value).strip()
        return None if too_long(key, text, limit, problems) or not text else text
    if not isinstance(value, dict) or not value or not all(is_text(v) for v in value.values()):
        problems.add("{origin}: '{key}' must be a text or a mapping of be/ru/en to texts",
                     key=key)
        return None
    unknown = set(map(str, value)) - set(LANGUAGES)
    if unknown:
        problems.add("{origin}: '{key}' has unknown languages {names}; use be, ru, en",
                     key=key, names=shown_names(unknown))
        return None
    texts = {str(lang): str(text).strip() for lang, text in value.items()}
    if not any(texts.values()):
        problems.add("{origin}: '{key}' is empty", key=key)
        return None
    if any([too_long(f"{key}.{lang}", text, limit, problems) for lang, text in texts.items()]):
        return None
    return {lang: text for lang, text in texts.items() if text}
