"""A folder of contract versions: one readable YAML file per version, never overwritten."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ._contract import Contract
from ._evolve import rebase
from .errors import ContractError

_ATTEMPTS = 20


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

    def save(self, contract: Contract, based_on: Contract | None = None) -> Contract:
        """Store ``contract`` as the next version and return it with that version number.

        With ``based_on`` (the version ``contract`` was made from) this is a compare-and-swap:
        if another writer stored a newer version meanwhile, ``contract``'s changes are replayed
        on it (:func:`~schemasense.rebase`) and the swap is tried again, so concurrent changes
        never drop each other's columns. Without it, ``contract`` is stored as it is.

        >>> import tempfile, schemasense, pandas as pd
        >>> registry = ContractRegistry(tempfile.mkdtemp())
        >>> base = registry.save(schemasense.infer(pd.DataFrame({"id": range(50)}), name="t"))
        >>> one = schemasense.evolve(base, pd.DataFrame({"id": range(50), "a": ["x"] * 50})).contract
        >>> two = schemasense.evolve(base, pd.DataFrame({"id": range(50), "b": ["y"] * 50})).contract
        >>> registry.save(one, based_on=base).version, registry.save(two, based_on=base).version
        (2, 3)
        >>> list(registry.latest("t").columns)
        ['id', 'a', 'b']
        """
        for _ in range(_ATTEMPTS):
            versions = self.versions(contract.name)
            latest = versions[-1] if versions else 0
            wanted = contract
            if based_on is not None and latest > based_on.version:
                wanted = rebase(contract, based_on, self.get(contract.name, latest))
            stored = Contract(contract.name, dict(wanted.columns), latest + 1)
            if self._swap(stored):
                return stored
        raise ContractError(f"{self.root / contract.name}: {_ATTEMPTS} writers raced for the next version")

    def _swap(self, stored: Contract) -> bool:
        """Write ``stored`` as its version unless another writer took that version first."""
        path = self._path(stored.name, stored.version)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
            tmp.write(stored.to_yaml())
        try:
            os.link(tmp.name, path)  # atomic: fails if the version exists
        except FileExistsError:
            return False
        finally:
            os.unlink(tmp.name)
        return True

    def _path(self, name: str, version: int) -> Path:
        return self.root / name / f"v{version:04d}.yaml"
