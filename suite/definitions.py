"""The code location ``workspace.yaml`` loads: the suite over the embedded default."""

from .dataset import build_definitions
from .settings import Settings

defs = build_definitions(Settings.from_env())
