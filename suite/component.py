"""The suite as a Dagster Component: one dataset's closed loop in a user's own ``dg`` project.

Installing the package registers the component (the ``dagster_dg_cli.registry_modules`` entry
point), so in a project ``dg list components`` shows ``suite.component.DataOpsDataset``, and
``dg scaffold defs suite.component.DataOpsDataset payments`` writes ``defs/payments/defs.yaml``
with a policy beside it. The attributes are a dataset's declaration in ``suite.yaml``, the same
keys checked by the same pydantic models, plus the dataset's ``name``::

    type: suite.component.DataOpsDataset
    attributes:
      name: payments
      landing: landing/payments/*.csv    # relative: under DATAOPS_HOME, as in suite.yaml
      keys: [payment_id]
      policy: policy.yaml                # relative: beside this defs.yaml

Several datasets in one project share one set of resources (storage, the ``dask`` cluster and the
``dataops_io_manager``), so the user's own ``io_manager`` and executor stay theirs.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

import dagster as dg
import yaml
from pydantic import AfterValidator, Field

from suite.around import around
from suite.build import dataset_definitions
from suite.config import PACKAGE_DIR, Settings, dataset_config
from suite.config.declaration import DatasetDeclaration, dataset_name
from suite.config.settings import data_home


class DatasetAttributes(DatasetDeclaration):
    """A dataset's declaration in ``suite.yaml``, and its name."""

    name: Annotated[
        str, AfterValidator(dataset_name), Field(description="the dataset's name: asset group and key prefix")
    ]


class DatasetScaffolder(dg.Scaffolder):
    """``dg scaffold defs``: a ``defs.yaml`` for a dataset named after its folder, landing files
    under ``landing/<name>/``, and the bundled policy copied beside it to edit."""

    def scaffold(self, request: dg.ScaffoldRequest[Any]) -> None:
        folder = Path(request.target_path)
        name = folder.name.replace("-", "_")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE_DIR / "orders_policy.yaml", folder / "policy.yaml")
        attributes = {
            "name": name,
            "landing": f"landing/{name}/*.csv",
            "keys": [],
            "training_batches": 3,
            "policy": "policy.yaml",
        }
        text = yaml.safe_dump({"type": request.type_name, "attributes": attributes}, sort_keys=False)
        (folder / "defs.yaml").write_text(text)


@dg.scaffold_with(DatasetScaffolder)
class DataOpsDataset(dg.Component):
    """Sense, decide, act and verify around one dataset: contract and drift checks on each batch,
    remediation by a declarative policy, and only verified rows published."""

    def __init__(self, attributes: DatasetAttributes, defs_yaml: Path) -> None:
        self.attributes = attributes
        self.defs_yaml = defs_yaml

    @classmethod
    def get_model_cls(cls) -> type[DatasetAttributes]:
        return DatasetAttributes

    @classmethod
    def load(cls, attributes: Any, context: dg.ComponentLoadContext) -> DataOpsDataset:
        if not isinstance(attributes, DatasetAttributes):
            attributes = DatasetAttributes.model_validate(attributes or {})
        folder = context.path if context.path.is_dir() else context.path.parent
        return cls(attributes, folder / "defs.yaml")

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        settings = Settings.without_datasets()  # the instance and the storage, as for suite.yaml
        text = self.defs_yaml.read_text() if self.defs_yaml.is_file() else ""
        name = self.attributes.name
        dataset = dataset_config(name, self.attributes, self.defs_yaml, text, data_home(), at=["attributes"])
        if dataset.asset is not None:
            key = dg.AssetKey.from_user_string(dataset.asset)
            return around(dataset, key, _partitions_of(context, key, self.defs_yaml))
        return dataset_definitions(dataset, settings)


def _partitions_of(
    context: dg.ComponentLoadContext, key: dg.AssetKey, defs_yaml: Path
) -> dg.PartitionsDefinition | None:
    """How the project's own asset ``key`` is partitioned: it is looked up in the project's other
    definitions (every entry of its defs folder but this component's)."""
    root = Path(context.defs_module_path)
    here = defs_yaml.parent
    for entry in sorted(root.iterdir()):
        if entry == here or entry in here.parents or entry.name.startswith(("_", ".")):
            continue
        if entry.is_file() and entry.suffix != ".py":
            continue
        for asset in context.build_defs(entry).assets or []:
            if isinstance(asset, dg.AssetsDefinition | dg.AssetSpec) and key in _keys(asset):
                return asset.partitions_def
    raise dg.DagsterInvalidDefinitionError(
        f"{defs_yaml}: attributes.asset: no asset {key.to_user_string()!r} is defined under {root}"
    )


def _keys(asset: dg.AssetsDefinition | dg.AssetSpec) -> set[dg.AssetKey]:
    return {asset.key} if isinstance(asset, dg.AssetSpec) else set(asset.keys)
