"""``suite.yaml``: the datasets the suite watches, declared as data.

Each entry of ``datasets`` becomes one :class:`~suite.settings.DatasetConfig`, and each of those
gets its own assets, checks, sensors and schedule. Relative ``landing`` paths are under the data
home (``DATAOPS_HOME``); relative ``policy`` paths are beside the YAML file::

    datasets:
      orders:
        description: Orders from the web shop, one file a day.
        owners: [team:data-platform]
        landing: landing/orders/*.csv    # a folder, or a folder and a file pattern
        format: csv                      # csv, parquet or auto (by suffix)
        keys: [order_id]                 # unique, never null
        training_batches: 3
        contract: {margin: 2.0, max_categories: 50}
        drift: {reference: fixed, methods: {amount: ks}}
        policy: orders_policy.yaml
        schedule: "0 6 * * *"            # re-score drift against the current reference
        model: {target: amount}          # a scikit-learn model of this column, retrained on approval
        sensor_interval_seconds: 30
        freshness_hours: 30              # a batch is expected at least this often

A mistake fails at load, naming the file, the line and the key.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import driftguard

from .settings import DatasetConfig, DriftSettings

_FORMATS = {"csv": ("*.csv",), "parquet": ("*.parquet",), "auto": ("*.parquet", "*.csv")}


class ConfigError(ValueError):
    """A wrong ``suite.yaml``: the message names the file, the line and the key."""


def load_datasets(path: str | os.PathLike[str], data_home: Path) -> tuple[DatasetConfig, ...]:
    """Read every dataset declared in ``path``.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "suite.yaml").write_text("datasets:\\n  sales: {landing: in/*.csv, keys: [id]}\\n")
    >>> [(d.name, d.landing.name, d.patterns, d.keys) for d in load_datasets(folder / "suite.yaml", folder)]
    [('sales', 'in', ('*.csv',), ('id',))]
    """
    path = Path(path)
    source = str(path)
    try:
        root = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the suite's configuration: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if root is None:
        raise ConfigError(f"{source}: the file is empty; it needs a 'datasets' mapping")
    reader = _Reader(source)
    top = reader.mapping(root, "the file", {"datasets"})
    if "datasets" not in top:
        raise ConfigError(f"{source}, line {root.start_mark.line + 1}: 'datasets' is missing")
    datasets = reader.mapping(top["datasets"][1], "datasets", None)
    if not datasets:
        raise ConfigError(f"{source}, line {top['datasets'][1].start_mark.line + 1}: no dataset is declared")
    return tuple(_dataset(reader, name, node, path.parent, data_home) for name, (_, node) in datasets.items())


_DATASET_KEYS = {
    "description",
    "owners",
    "landing",
    "format",
    "keys",
    "training_batches",
    "contract",
    "drift",
    "policy",
    "schedule",
    "sensor_interval_seconds",
    "model",
    "freshness_hours",
}
_CONTRACT_KEYS = {
    "margin": (float, lambda v: v >= 0, "a number of at least 0"),
    "max_categories": (int, lambda v: v >= 0, "a whole number of at least 0"),
    "min_rows_per_category": (int, lambda v: v >= 0, "a whole number of at least 0"),
    "min_rows_for_key": (int, lambda v: v >= 1, "a whole number of at least 1"),
    "min_format_share": (float, lambda v: 0 <= v <= 1, "a share between 0 and 1"),
    "min_pattern_share": (float, lambda v: 0 <= v <= 1, "a share between 0 and 1"),
}
"""The options of :func:`schemasense.infer` a declaration may set, with their types."""
_DRIFT_KEYS = {"reference", "window", "methods"}


def _dataset(reader: _Reader, name: str, node: yaml.Node, config_dir: Path, data_home: Path) -> DatasetConfig:
    where = f"datasets.{name}"
    entries = reader.mapping(node, where, _DATASET_KEYS)
    if "landing" not in entries:
        raise ConfigError(f"{reader.source}, line {node.start_mark.line + 1}: {where} needs 'landing'")
    value = reader.value
    options: dict[str, Any] = {}
    fmt = value(
        entries.get("format"), f"{where}.format", str, lambda v: v in _FORMATS, "csv, parquet or auto"
    )
    landing = value(entries["landing"], f"{where}.landing", str, bool, "a folder or a folder/pattern")
    folder, pattern = _split_glob(Path(os.path.expanduser(os.path.expandvars(landing))))
    options["landing"] = folder if folder.is_absolute() else data_home / folder
    options["patterns"] = (pattern,) if pattern else _FORMATS[fmt or "auto"]
    if fmt and pattern and not pattern.endswith(_FORMATS[fmt][0][1:]) and fmt != "auto":
        raise ConfigError(
            f"{reader.source}, line {entries['landing'][1].start_mark.line + 1}: {where}.landing pattern "
            f"{pattern!r} does not match format {fmt!r}"
        )
    for key, kind, check, expected in (
        ("description", str, None, "text"),
        ("schedule", str, _is_cron, "a cron expression such as '0 6 * * *'"),
        ("training_batches", int, lambda v: v >= 1, "a whole number of at least 1"),
        ("sensor_interval_seconds", int, lambda v: v >= 1, "a whole number of seconds, at least 1"),
        ("freshness_hours", float, lambda v: v >= 1 / 60, "a number of hours, at least one minute"),
    ):
        if key in entries:
            options[key] = value(entries[key], f"{where}.{key}", kind, check, expected)
    if "schedule" in options:
        options["drift_schedule"] = options.pop("schedule")
    for key in ("owners", "keys"):
        if key in entries:
            items = value(entries[key], f"{where}.{key}", list, None, "a list")
            if not all(isinstance(i, str) and i for i in items):
                raise ConfigError(
                    f"{reader.source}, line {entries[key][1].start_mark.line + 1}: {where}.{key} "
                    "must be a list of names"
                )
            if key == "owners":
                _check_owners(reader, entries[key][1], f"{where}.owners", items)
            options[key] = tuple(items)
    if "policy" in entries:
        policy = Path(value(entries["policy"], f"{where}.policy", str, bool, "a file path"))
        options["policy"] = policy if policy.is_absolute() else config_dir / policy
        if not options["policy"].is_file():
            raise ConfigError(
                f"{reader.source}, line {entries['policy'][1].start_mark.line + 1}: {where}.policy: "
                f"no such file {options['policy']}"
            )
    if "contract" in entries:
        contract = reader.mapping(entries["contract"][1], f"{where}.contract", set(_CONTRACT_KEYS))
        options["contract"] = {
            key: value(item, f"{where}.contract.{key}", *_CONTRACT_KEYS[key])
            for key, (_, item) in contract.items()
        }
    if "drift" in entries:
        options["drift"] = _drift(reader, entries["drift"][1], f"{where}.drift")
    if "model" in entries:
        model = reader.mapping(entries["model"][1], f"{where}.model", {"target"})
        if "target" not in model:
            raise ConfigError(
                f"{reader.source}, line {entries['model'][1].start_mark.line + 1}: "
                f"{where}.model needs 'target'"
            )
        options["model_target"] = value(model["target"], f"{where}.model.target", str, bool, "a column name")
    try:
        return DatasetConfig(name, **options)
    except ValueError as exc:
        raise ConfigError(f"{reader.source}, line {node.start_mark.line + 1}: {where}: {exc}") from None


def _drift(reader: _Reader, node: yaml.Node, where: str) -> DriftSettings:
    entries = reader.mapping(node, where, _DRIFT_KEYS)
    options: dict[str, Any] = {}
    if "reference" in entries:
        options["reference"] = reader.value(
            entries["reference"],
            f"{where}.reference",
            str,
            lambda v: v in DriftSettings.REFERENCES,
            f"one of {list(DriftSettings.REFERENCES)}",
        )
    if "window" in entries:
        options["window"] = reader.value(
            entries["window"],
            f"{where}.window",
            int,
            lambda v: v >= 1,
            "a whole number of batches, at least 1",
        )
    if "methods" in entries:
        methods = reader.mapping(entries["methods"][1], f"{where}.methods", None)
        options["methods"] = {
            column: reader.value(
                item,
                f"{where}.methods.{column}",
                str,
                lambda v: v in driftguard.METHODS,
                f"one of {sorted(driftguard.METHODS)}",
            )
            for column, (_, item) in methods.items()
        }
    return DriftSettings(**options)


def _check_owners(reader: _Reader, node: yaml.Node, where: str, owners: list[str]) -> None:
    """Dagster's rule for owners: an e-mail address or ``team:`` and a name."""
    from dagster._core.definitions.utils import is_valid_owner

    wrong = [owner for owner in owners if not is_valid_owner(owner)]
    if wrong:
        raise ConfigError(
            f"{reader.source}, line {node.start_mark.line + 1}: {where}: {wrong} are not owners; "
            "an owner is an e-mail address or 'team:' and a name"
        )


def _split_glob(path: Path) -> tuple[Path, str]:
    """``landing/*.csv`` → (``landing``, ``*.csv``); a plain folder has no pattern."""
    parts = path.parts
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            if index != len(parts) - 1:
                raise ConfigError(f"landing {path}: only the last part of the path may be a pattern")
            return Path(*parts[:index]), part
    return path, ""


def _is_cron(value: str) -> bool:
    from dagster._utils.schedules import is_valid_cron_string

    return bool(is_valid_cron_string(value))


class _Reader:
    """Typed values out of YAML nodes; every error names the file, the line and the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def mapping(
        self, node: yaml.Node, where: str, valid: set[str] | None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(f"{self.source}, line {node.start_mark.line + 1}: {where} must be a mapping")
        entries = {str(k.value): (k, v) for k, v in node.value}
        for key, (key_node, _) in entries.items():
            if valid is not None and key not in valid:
                raise ConfigError(
                    f"{self.source}, line {key_node.start_mark.line + 1}: unknown key {key!r} in {where}; "
                    f"valid keys: {sorted(valid)}"
                )
        return entries

    def value(
        self,
        entry: tuple[yaml.Node, yaml.Node] | yaml.Node | None,
        where: str,
        kind: type,
        check: Callable[[Any], bool] | None,
        expected: str,
    ) -> Any:
        if entry is None:
            return None
        node = entry[1] if isinstance(entry, tuple) else entry
        value = yaml.safe_load(yaml.serialize(node))
        if kind is float and isinstance(value, int):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, kind) or (check is not None and not check(value)):
            raise ConfigError(
                f"{self.source}, line {node.start_mark.line + 1}: {where} must be {expected}, got {value!r}"
            )
        return value
