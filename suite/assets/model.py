"""The downstream model: a small scikit-learn pipeline that predicts one column of the dataset.

It stands for the models users keep downstream of their pipelines: it is trained with the
contract from the training window, and retrained, on the latest published batches, when a
person grants the ``retrain`` action that DataReflex asks for while drift persists.
"""

from dataclasses import dataclass
from typing import Any

import dagster as dg
import joblib
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import schemasense
from suite.config import DatasetConfig
from suite.storage import IO_MANAGER_KEY, SuiteStorage, atomic_write
from suite.storage.partitions import latest_published, training_frames
from suite.tags import APPROVAL_TAG


def build_model_asset(dataset: DatasetConfig, contract: Any) -> dg.AssetsDefinition:
    target = dataset.model_target

    @dg.asset(
        io_manager_key=IO_MANAGER_KEY,
        key=dg.AssetKey([dataset.name, "model"]),
        deps=[contract],
        group_name=dataset.name,
        kinds={"scikit-learn"},
        description=f"A gradient-boosting model of `{target}` from the contract's numbers and categories.",
    )
    def model(context: dg.AssetExecutionContext, storage: SuiteStorage) -> dg.MaterializeResult:
        current = storage.files.contracts().latest(dataset.name)
        if current is None:
            raise dg.Failure(
                f"dataset {dataset.name!r}: no contract yet; the model waits for the training window"
            )
        approval = context.run.tags.get(APPROVAL_TAG)
        source = latest_published if approval else training_frames
        keys, frames = source(context.instance, dataset, storage.files)
        fitted = fit_model(pd.concat(frames, ignore_index=True), current, target)
        path = storage.files.path([dataset.name, "model"], None, ".joblib")
        atomic_write(path, lambda tmp: joblib.dump(fitted.pipeline, tmp))
        return dg.MaterializeResult(
            metadata={
                "target": target,
                "features": ", ".join(fitted.features),
                "batches": ", ".join(keys),
                "holdout_score": round(fitted.score, 4),
                "baseline_score": round(fitted.baseline, 4),
                "path": dg.MetadataValue.path(str(path)),
                **({"approval": int(approval)} if approval else {}),
            }
        )

    return model


@dataclass(frozen=True)
class FittedModel:
    pipeline: Pipeline
    features: list[str]
    score: float
    """On the 20% of rows held out: R² for a numeric target, accuracy otherwise."""
    baseline: float
    """The same score for a constant guess (the mean, or the most frequent value)."""


def fit_model(frame: pd.DataFrame, contract: schemasense.Contract, target: str) -> FittedModel:
    """Fit on 80% of the rows; score on the other 20% beside a constant guess.

    Features are the contract's numeric columns that are not keys, and its category columns.

    >>> import numpy as np, schemasense
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> kind = rng.choice(["a", "b"], 2000)
    >>> df = pd.DataFrame({"x": x, "kind": kind, "y": 3 * x + (kind == "a") + rng.normal(0, 0.1, 2000)})
    >>> fitted = fit_model(df, schemasense.infer(df, name="t"), "y")
    >>> fitted.features, round(fitted.score, 2), round(fitted.baseline, 2)
    (['x', 'kind'], 0.99, -0.01)
    """
    if target not in contract.columns or target not in frame:
        raise dg.Failure(f"model target {target!r} is not a column of the contract {contract.name!r}")
    numeric = [
        name
        for name, column in contract.columns.items()
        if column.logical_type.is_numeric and not column.unique and name != target and name in frame
    ]
    categories = [
        name
        for name, column in contract.columns.items()
        if column.allowed and name != target and name in frame and name not in numeric
    ]
    rows = frame.dropna(subset=[target])
    encode = ColumnTransformer(
        [
            ("numbers", "passthrough", numeric),
            ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categories),
        ]
    )
    regression = contract.columns[target].logical_type.is_numeric
    estimator = HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier
    pipeline = Pipeline([("encode", encode), ("model", estimator(max_iter=100, random_state=0))])
    train, test = train_test_split(rows, test_size=0.2, random_state=0)
    features = numeric + categories
    pipeline.fit(train[features], train[target])
    guess = DummyRegressor() if regression else DummyClassifier(strategy="most_frequent")
    guess.fit(train[features], train[target])
    return FittedModel(
        pipeline,
        features,
        float(pipeline.score(test[features], test[target])),
        float(guess.score(test[features], test[target])),
    )
