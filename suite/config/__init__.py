"""Configuration: ``suite.yaml`` (the datasets the suite watches) and where things live.

The bundled declaration of the orders demo (``suite.yaml``) and its policy
(``orders_policy.yaml``) sit beside these modules.
"""

from .loader import ConfigError, dataset_config, load_datasets, load_suite
from .settings import (
    BUNDLED_CONFIG,
    PACKAGE_DIR,
    DaskSettings,
    DatasetConfig,
    DriftSettings,
    IntakeSettings,
    ReadSettings,
    Settings,
    SqlSource,
    SqlTarget,
    config_path,
)

__all__ = [
    "BUNDLED_CONFIG",
    "ConfigError",
    "DaskSettings",
    "DatasetConfig",
    "DriftSettings",
    "IntakeSettings",
    "PACKAGE_DIR",
    "ReadSettings",
    "Settings",
    "SqlSource",
    "SqlTarget",
    "config_path",
    "dataset_config",
    "load_datasets",
    "load_suite",
]
