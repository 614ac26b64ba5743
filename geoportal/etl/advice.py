"""Advice in the words the user typed: manifest keys, or the CLI's options.

The ETL's messages name manifest keys, in one shape: "set source.crs in the manifest"
(``source.layer``, ``source.encoding``, ...). That is right for a manifest file and for the
admin API (whose client sends a manifest). A bare ``geoportal ingest FILE`` has no manifest:
the CLI builds one from its options, so ``for_cli`` says the option instead ("use --crs").
``CLI_OPTIONS`` is the one table from manifest key to CLI option; ``tests/cli/test_advice.py``
checks it against the ``ingest`` command's options and the manifest's source keys.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["CLI_OPTIONS", "for_cli", "rewrite"]

CLI_OPTIONS: Mapping[str, str] = {
    "path": "the file argument",
    "crs": "--crs",
    "encoding": "--encoding",
    "layer": "--layer",
    "x_field": "--x-field",
    "y_field": "--y-field",
    "geometry_field": "--geometry-field",
    "id_field": "--id-field",
    "header_row": "--header-row",
    "split_geometry": "--split-geometry",
}
"""Manifest ``source.<key>`` -> what a bare ``geoportal ingest FILE`` takes instead."""

# Keys that are yes/no: "set source.split_geometry in the manifest to publish ..." is said
# "use --split-geometry to publish ...", as a flag takes no value.
_FLAGS = frozenset({"split_geometry"})
_KEY = r"source\.(\w+)"
# In order: the most specific phrase first. Each replacement gets the options of the keys.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement) for pattern, replacement in (
        (rf"\bset {_KEY} and {_KEY} in the manifest to\b", r"set {0} and {1} to"),
        (rf"\bset {_KEY} and {_KEY} in the manifest\b", r"use {0} and {1}"),
        (rf"\bset {_KEY} in the manifest to\b", r"set {0} to"),
        (rf"\bset {_KEY} in the manifest\b", r"use {0}"),
        (rf"\b{_KEY} in the manifest\b", r"{0}"),
        (rf"\bthe manifest's {_KEY}\b", r"{0}"),
        (rf"(?<![\w.]){_KEY}\b", r"{0}"),
    ))
_SET_IN_MANIFEST = re.compile(r"\bset in the manifest\b")


def rewrite(message: str, names: Mapping[str, str]) -> str:
    """``message`` with each ``source.<key>`` phrase said with ``names[key]``; keys that
    ``names`` lacks stay as they are."""
    for pattern, replacement in _RULES:
        def _say(found: re.Match[str], template: str = replacement) -> str:
            keys = found.groups()
            if not all(k in names for k in keys):
                return found.group(0)
            if template == "set {0} to" and keys[0] in _FLAGS:
                template = "use {0} to"
            return template.format(*(names[k] for k in keys))

        message = pattern.sub(_say, message)
    return message


def for_cli(message: str) -> str:
    """``message`` as a bare ``geoportal ingest FILE`` user reads it: the CLI's options for
    the manifest's keys ("use --crs" for "set source.crs in the manifest"), and "given on the
    command line" for what a report says was "set in the manifest"."""
    return _SET_IN_MANIFEST.sub("given on the command line", rewrite(message, CLI_OPTIONS))
