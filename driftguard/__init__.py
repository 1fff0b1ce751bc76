"""DriftGuard: calibrated drift detection on mergeable per-batch profiles.

>>> import numpy as np, pandas as pd, driftguard
>>> rng = np.random.default_rng(1)
>>> reference = pd.DataFrame({"amount": rng.lognormal(3, 0.5, 3000)})
>>> driftguard.detect(reference, pd.DataFrame({"amount": rng.lognormal(3, 0.5, 500)})).drifted
False
>>> driftguard.detect(reference, pd.DataFrame({"amount": rng.lognormal(3.4, 0.5, 500)})).drifted
True
"""

from ._detector import DriftDetector, detect
from ._profile import MISSING, ColumnProfile, Profile, merge_all, profile
from ._report import ColumnDrift, DriftReport
from .errors import DriftGuardError, IncompatibleProfilesError, NotFittedError

__all__ = [
    "ColumnDrift",
    "ColumnProfile",
    "DriftDetector",
    "DriftGuardError",
    "DriftReport",
    "IncompatibleProfilesError",
    "MISSING",
    "NotFittedError",
    "Profile",
    "detect",
    "merge_all",
    "profile",
]
