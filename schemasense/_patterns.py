"""The character pattern of a text column, from the shapes of its sampled values."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._statistics import ColumnStatistics

EMAIL = r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}"
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def shape(value: str) -> str:
    """The character shape of ``value`` as a regular expression.

    >>> shape("ORD-00123"), shape("ab12")
    ('[A-Z]{3}-[0-9]{5}', '[a-z]{2}[0-9]{2}')
    """
    parts = []
    for run in re.finditer(r"[A-Z]+|[a-z]+|[0-9]+|.", value):
        token = run.group()
        if token[0].isdigit():
            parts.append(f"[0-9]{{{len(token)}}}")
        elif token[0].isupper() and token.isalpha() and token.isascii():
            parts.append(f"[A-Z]{{{len(token)}}}")
        elif token[0].islower() and token.isalpha() and token.isascii():
            parts.append(f"[a-z]{{{len(token)}}}")
        else:
            parts.append("\\" + token if token in _REGEX_SPECIAL else token)
    return "".join(parts)


_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")


def text_pattern(stats: ColumnStatistics, min_share: float) -> str | None:
    seen = stats.text_seen
    if not seen:
        return None
    if stats.emails >= min_share * seen:
        return EMAIL
    if stats.uuids >= min_share * seen:
        return UUID
    if not stats.shapes:
        return None
    families: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for shape, count in stats.shapes.items():
        families.setdefault(_classes(shape), []).append((shape, count))
    classes, members = max(families.items(), key=lambda item: sum(c for _, c in item[1]))
    if sum(c for _, c in members) < min_share * seen or "[0-9]" not in classes:
        return None
    lengths = [[int(n) for n in re.findall(r"\{(\d+)\}", shape)] for shape, _ in members]
    parts = []
    position = 0
    for token in classes:
        if token in ("[0-9]", "[A-Z]", "[a-z]"):
            low = min(lens[position] for lens in lengths)
            high = max(lens[position] for lens in lengths)
            parts.append(f"{token}{{{low}}}" if low == high else f"{token}{{{low},{high}}}")
            position += 1
        else:
            parts.append(token)
    return "".join(parts)


def _classes(shape: str) -> tuple[str, ...]:
    """The class sequence of a shape, without run lengths."""
    return tuple(re.findall(r"\[0-9\]|\[A-Z\]|\[a-z\]|\\.|[^{}\d]", re.sub(r"\{\d+\}", "", shape)))
