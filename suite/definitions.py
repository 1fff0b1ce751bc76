"""The code location ``workspace.yaml`` loads: the suite over the embedded default."""

from suite.build import build_definitions
from suite.config import Settings

defs = build_definitions(Settings.from_env())
