"""The character pattern of a text column, from the shapes of its sampled values."""

from __future__ import annotations

import re

from ._statistics import EMAIL, UUID, ColumnStatistics


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
