"""Value types that describe a layer's attributes, shared by the stores, the ETL and the catalog.

They live here, below all of them, because a store keeps tables and must not depend on the
catalog (which only says which table is current); the catalog re-exports them
(``from geoportal.catalog import Field`` keeps working).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FALLBACK", "Field", "pick_language"]

# The order a text missing in the asked language is looked for in (issue 19): the official
# languages first, then English.
FALLBACK = ("be", "ru", "en")


def pick_language(texts: dict[str, str] | None, lang: str) -> str | None:
    """The text of ``lang`` in a ``{be, ru, en}`` mapping, else be, ru, en, else the first
    given; None when there is none (so a caller can fall back to something else)."""
    if not texts:
        return None
    for code in (lang, *FALLBACK):
        if texts.get(code):
            return texts[code]
    return next((text for text in texts.values() if text), None)


@dataclass(frozen=True)
class Field:
    """One attribute of a layer: its stored name, JSON-Schema-like type and original title.

    ``titles`` (issue 19): the manifest's title per language (``{be, ru, en}``, any subset),
    for the viewer and queryables in the page's language; ``title`` stays the original name
    (or the manifest's single title), which is what clients that ask no language see."""

    name: str
    type: str
    title: str | None = None
    # not hashed (a dict cannot be): a Field stays usable as a key or in a set
    titles: dict[str, str] | None = field(default=None, hash=False)

    def title_in(self, lang: str) -> str:
        """The field's title in ``lang``: that language's, else be, ru, en (``titles``), else
        the original ``title``, else the name."""
        return pick_language(self.titles, lang) or self.title or self.name

    def to_dict(self) -> dict[str, Any]:
        """The field as a plain dict (what the catalog stores in a version row); ``titles``
        only when there are some, so rows of fields without them stay as they were."""
        out = asdict(self)
        if not self.titles:
            del out["titles"]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Field:
        """The field back from :meth:`to_dict`'s output (``title`` and ``titles`` may be
        missing: rows written before them)."""
        titles = d.get("titles")
        return cls(name=d["name"], type=d["type"], title=d.get("title"),
                   titles=dict(titles) if isinstance(titles, dict) and titles else None)
