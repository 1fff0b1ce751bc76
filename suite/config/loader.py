"""``suite.yaml``: the datasets the suite watches, declared as data.

Each entry of ``datasets`` becomes one :class:`~suite.config.DatasetConfig`, and each of those
gets its own assets, checks, sensors and schedule. The file is validated by the pydantic models
of :mod:`suite.config.declaration` (``dataops schema suite`` prints their JSON Schema). Relative
``landing`` paths are under the data home (``DATAOPS_HOME``), and a landing may be any fsspec URL
(``s3://bucket/orders/*.csv``, see :mod:`suite.storage.objects`); relative ``policy`` paths are
beside the YAML file::

    datasets:
      orders:
        description: Orders from the web shop, one file a day.
        owners: [team:data-platform]
        landing: landing/orders/*.csv    # a folder, or a folder and a file pattern; or s3://…
        format: csv                      # csv, parquet or auto (by suffix)
        keys: [order_id]                 # unique, never null
        training_batches: 3
        contract: {margin: 2.0, max_categories: 50}
        columns: {customer_id: {role: identifier}, country: {categories: open}}
        drift: {reference: fixed, methods: {amount: ks}, exclude: [day_of_month]}
        policy: orders_policy.yaml
        schedule: "0 6 * * *"            # re-score drift against the current reference
        model: {target: amount}          # a scikit-learn model of this column, retrained on approval
        sensor_interval_seconds: 30
        freshness_hours: 30              # a batch is expected at least this often
    dask:                                # batches of more rows than threshold_rows
      scheduler: tcp://10.0.0.5:8786     # unset: a local cluster of `workers` processes
      threshold_rows: 5000000            # are kept on disk and scanned chunk_rows at a time

A mistake fails at load, naming the file, the line and the key; so does a mistake in a policy
the file names (each policy is read once at load to check it).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import datareflex

from .declaration import DatasetDeclaration, SuiteDeclaration
from .settings import (
    PACKAGE_DIR,
    DaskSettings,
    DatasetConfig,
    DriftSettings,
    IntakeSettings,
    ReadSettings,
    SqlSource,
    SqlTarget,
)

_FORMATS = {"csv": ("*.csv",), "parquet": ("*.parquet",), "auto": ("*.parquet", "*.csv")}


class ConfigError(datareflex.ConfigError):
    """A wrong ``suite.yaml``: the message names the file, the line and the key."""


def load_datasets(path: str | os.PathLike[str], data_home: Path) -> tuple[DatasetConfig, ...]:
    """Read every dataset declared in ``path`` (:func:`load_suite` without the cluster).

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "suite.yaml").write_text("datasets:\\n  sales: {landing: in/*.csv, keys: [id]}\\n")
    >>> [(d.name, d.landing.name, d.patterns, d.keys) for d in load_datasets(folder / "suite.yaml", folder)]
    [('sales', 'in', ('*.csv',), ('id',))]
    """
    return load_suite(path, data_home)[0]


def load_suite(
    path: str | os.PathLike[str], data_home: Path
) -> tuple[tuple[DatasetConfig, ...], DaskSettings]:
    """The datasets declared in ``path``, and its ``dask:`` block (the cluster for large batches)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the suite's configuration: {exc}") from None
    declaration = datareflex.load_yaml_model(SuiteDeclaration, text, str(path), error=ConfigError)
    for name, entry in declaration.datasets.items():
        if entry.asset is not None:
            where = datareflex.yaml_line(text, ["datasets", name, "asset"])
            raise ConfigError(
                f"{path}, line {where}: datasets.{name}.asset: an asset of your own is the batch only in "
                "your Dagster project (the component suite.component.DataOpsDataset, or suite.loop_for)"
            )
    datasets = tuple(
        dataset_config(name, entry, path, text, data_home) for name, entry in declaration.datasets.items()
    )
    return datasets, DaskSettings(**declaration.dask.model_dump())


def _landing(text: str, data_home: Path) -> tuple[Any, str]:
    """The landing folder and file pattern of ``landing:``: a :class:`Path` (relative: under the
    data home), or a :class:`upath.UPath` for a URL of another filesystem (``s3://bucket/in/*.csv``).

    >>> _landing("s3://bucket/orders/*.csv", Path("/home"))[1], _landing("in", Path("/home"))
    ('*.csv', (PosixPath('/home/in'), ''))
    """
    text = os.path.expanduser(os.path.expandvars(text))
    url = "://" in text and not text.startswith("file://")
    if url:
        scheme, _, rest = text.partition("://")
        head, parts = f"{scheme}://", [part for part in rest.split("/") if part]
    else:
        local = Path(unquote(urlparse(text).path) if text.startswith("file://") else text)
        head, parts = "", list(local.parts)
    magic = [i for i, part in enumerate(parts) if glob.has_magic(part)]
    if magic and magic[0] != len(parts) - 1:
        raise ValueError(f"only the last part of {text!r} may be a pattern")
    folder, pattern = (parts[:-1], parts[-1]) if magic else (parts, "")
    if url:
        if not folder:
            raise ValueError(f"{text!r} names no bucket")
        from suite.storage.objects import storage_root  # not at import: suite.storage needs suite.config

        return storage_root(head + "/".join(folder)), pattern
    path = Path(*folder)
    return (path if path.is_absolute() else data_home / path), pattern


def dataset_config(
    name: str,
    entry: DatasetDeclaration,
    path: Path,
    text: str,
    data_home: Path,
    at: Sequence[str] | None = None,
) -> DatasetConfig:
    """Dataset ``name`` as declared by ``entry`` at keys ``at`` (``datasets.<name>``) of the YAML
    ``text`` of the file ``path``: errors name its lines; relative policies are beside it, relative
    landings under ``data_home``."""
    at = list(at if at is not None else ["datasets", name])

    def fail(key: str, message: str) -> ConfigError:
        where = ".".join([*at, key])
        line = f", line {datareflex.yaml_line(text, [*at, key])}" if text else ""
        return ConfigError(f"{path}{line}: {where}{message}")

    folder, pattern = None, ""
    try:
        if entry.landing is not None:
            folder, pattern = _landing(entry.landing, data_home)
    except ValueError as exc:
        raise fail("landing", f": {exc}") from None
    if pattern and entry.format != "auto" and not pattern.endswith(_FORMATS[entry.format][0][1:]):
        raise fail("landing", f" pattern {pattern!r} does not match format {entry.format!r}")
    policy = PACKAGE_DIR / "orders_policy.yaml"  # the demo's, when none is declared
    if entry.policy is not None:
        policy = Path(entry.policy) if Path(entry.policy).is_absolute() else path.parent / entry.policy
        if not Path(policy).is_file():
            raise fail("policy", f": no such file {policy}")
    try:  # read now, so a wrong policy (a tag, a webhook host not allowed) fails at load
        datareflex.Policy.from_file(policy)
    except datareflex.ConfigError as exc:
        raise ConfigError(str(exc)) from None
    return DatasetConfig(
        name,
        folder,
        policy=policy,
        training_batches=entry.training_batches,
        patterns=(pattern,) if pattern else _FORMATS[entry.format],
        sensor_interval_seconds=entry.sensor_interval_seconds,
        drift_schedule=entry.schedule,
        description=entry.description,
        owners=tuple(entry.owners),
        keys=tuple(entry.keys),
        contract=entry.contract.model_dump(exclude_unset=True),
        columns=dict(entry.columns),
        drift=DriftSettings(
            entry.drift.reference, entry.drift.window, dict(entry.drift.methods), tuple(entry.drift.exclude)
        ),
        read=ReadSettings(**entry.read.model_dump()),
        intake=IntakeSettings(**entry.intake.model_dump()),
        model_target=entry.model.target if entry.model else "",
        source=SqlSource(**_expanded(entry.source.model_dump())) if entry.source else None,
        target=SqlTarget(**_expanded(entry.target.model_dump())) if entry.target else None,
        asset=entry.asset,
        freshness_hours=entry.freshness_hours,
    )


def _expanded(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with ``${VARIABLES}`` of its ``url`` expanded (a password stays out of the YAML).

    >>> os.environ["PGPASS"] = "s3cret"
    >>> _expanded({"url": "postgresql://me:${PGPASS}@db/shop", "table": "t"})["url"]
    'postgresql://me:s3cret@db/shop'
    """
    return {**fields, "url": os.path.expandvars(fields["url"])}
