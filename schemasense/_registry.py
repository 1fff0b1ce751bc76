"""A folder of contract versions: one readable YAML file per version, never overwritten."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._contract import Contract
from .errors import ContractError


class ContractRegistry:
    """Stores every version of a dataset's contract under ``root/<name>/v0001.yaml``.

    >>> import tempfile, schemasense, pandas as pd
    >>> registry = ContractRegistry(tempfile.mkdtemp())
    >>> registry.latest("orders") is None
    True
    >>> registry.save(schemasense.infer(pd.DataFrame({"a": [1, 2]}), name="orders")).version
    1
    >>> registry.latest("orders").version, registry.versions("orders")
    (1, [1])
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def versions(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(int(p.stem[1:]) for p in folder.glob("v*.yaml") if p.stem[1:].isdigit())

    def get(self, name: str, version: int) -> Contract:
        path = self._path(name, version)
        if not path.exists():
            raise ContractError(f"{path}: no version {version} of contract {name!r}")
        return Contract.from_yaml(path.read_text())

    def latest(self, name: str) -> Contract | None:
        versions = self.versions(name)
        return self.get(name, versions[-1]) if versions else None

    def save(self, contract: Contract) -> Contract:
        """Store ``contract`` as the next version and return it with that version number."""
        versions = self.versions(contract.name)
        version = versions[-1] + 1 if versions else 1
        stored = Contract(contract.name, dict(contract.columns), version)
        path = self._path(contract.name, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(stored.to_yaml())
        try:
            os.link(tmp.name, path)  # fails if another writer took this version first
        finally:
            os.unlink(tmp.name)
        return stored

    def _path(self, name: str, version: int) -> Path:
        return self.root / name / f"v{version:04d}.yaml"
