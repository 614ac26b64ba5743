"""The bits of mapfile syntax the generated mapfiles share."""

from __future__ import annotations

__all__ = ["quoted", "rgb"]


def quoted(text: str) -> str:
    """``text`` as the inside of a mapfile string (double quotes)."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
            .replace("\r", " "))


def rgb(colour: str) -> str:
    """``#rrggbb`` as MapServer's ``r g b``."""
    value = colour.lstrip("#")
    return " ".join(str(int(value[i:i + 2], 16)) for i in (0, 2, 4))
