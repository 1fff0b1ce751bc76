"""Page–Hinkley: a streaming detector of a change in the mean of a metric over partitions."""

from __future__ import annotations


class PageHinkley:
    """Watch a metric (row count, null rate, a mean, a drift score) one partition at a time.

    ``update(x)`` takes the next value; ``drift_detected`` says whether the cumulative deviation
    from the running mean, beyond a tolerance ``delta``, passed ``threshold`` (in the metric's
    own units) in either direction. After a detection the detector starts afresh.

    >>> import numpy as np
    >>> rng = np.random.default_rng(42)
    >>> stream = np.r_[rng.normal(100, 2, 30), rng.normal(112, 2, 30)]
    >>> detector = PageHinkley(threshold=40)
    >>> for i, x in enumerate(stream):
    ...     detector.update(x)
    ...     if detector.drift_detected:
    ...         print(f"drift at index {i}")
    drift at index 32
    """

    def __init__(
        self, min_instances: int = 5, delta: float = 0.005, threshold: float = 50.0, alpha: float = 0.9999
    ) -> None:
        self.min_instances = min_instances
        self.delta = delta
        self.threshold = threshold
        self.alpha = alpha
        self._reset()

    def _reset(self) -> None:
        self._count = 0
        self._mean = 0.0
        self._up = self._down = 0.0
        self._up_min = self._down_max = 0.0
        self._drift = False

    def update(self, x: float) -> None:
        if self._drift:
            self._reset()
        self._count += 1
        self._mean += (x - self._mean) / self._count
        self._up = self.alpha * self._up + (x - self._mean - self.delta)
        self._down = self.alpha * self._down + (x - self._mean + self.delta)
        self._up_min = min(self._up_min, self._up)
        self._down_max = max(self._down_max, self._down)
        if self._count >= self.min_instances:
            rise, fall = self._up - self._up_min, self._down_max - self._down
            self._drift = max(rise, fall) > self.threshold

    @property
    def drift_detected(self) -> bool:
        return self._drift
