"""DriftGuard: calibrated drift detection on mergeable per-batch profiles.

>>> import numpy as np, pandas as pd, driftguard
>>> rng = np.random.default_rng(1)
>>> reference = pd.DataFrame({"amount": rng.lognormal(3, 0.5, 3000)})
>>> driftguard.detect(reference, pd.DataFrame({"amount": rng.lognormal(3, 0.5, 500)})).drifted
False
>>> driftguard.detect(reference, pd.DataFrame({"amount": rng.lognormal(3.4, 0.5, 500)})).drifted
True
"""

from ._chi_square import ChiSquare
from ._classifier import DomainClassifier, DomainClassifierResult
from ._detector import METHODS, DriftDetector, detect
from ._history import batch_metrics, watch
from ._html import distribution_svg
from ._jensen_shannon import JensenShannon
from ._ks import KolmogorovSmirnov
from ._l_infinity import LInfinity
from ._method import ColumnMethod, Comparison
from ._missing_rate import MissingRate
from ._page_hinkley import PageHinkley
from ._profile import OTHER, ColumnProfile, Profile, merge_all, profile
from ._psi import PSI
from ._reference import batch_date, reference_batches, rolling, same_weekday
from ._report import ColumnDrift, Distribution, DriftReport
from ._total_variation import TotalVariation
from ._wasserstein import Wasserstein
from .errors import DriftGuardError, IncompatibleProfilesError, NotFittedError

__all__ = [
    "ChiSquare",
    "ColumnDrift",
    "ColumnMethod",
    "ColumnProfile",
    "Comparison",
    "Distribution",
    "DomainClassifier",
    "DomainClassifierResult",
    "DriftDetector",
    "DriftGuardError",
    "DriftReport",
    "IncompatibleProfilesError",
    "JensenShannon",
    "KolmogorovSmirnov",
    "LInfinity",
    "METHODS",
    "MissingRate",
    "NotFittedError",
    "OTHER",
    "PSI",
    "PageHinkley",
    "Profile",
    "TotalVariation",
    "Wasserstein",
    "batch_date",
    "batch_metrics",
    "detect",
    "distribution_svg",
    "merge_all",
    "profile",
    "reference_batches",
    "rolling",
    "same_weekday",
    "watch",
]
