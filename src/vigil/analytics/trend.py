"""The Mann-Kendall trend test, used for every "increasing/decreasing/stable" verdict.

Given counts per equal-width time bucket x_1..x_n, the statistic is
S = Σ_{i<j} sign(x_j − x_i). Under "no trend" S has mean 0 and variance
(n(n−1)(2n+5) − Σ_t t(t−1)(2t+5)) / 18, where t runs over the sizes of groups
of tied values. With the continuity-corrected Z = (S − sign(S)) / √Var, the
two-sided p-value is 2·(1 − Φ(|Z|)). The trend is ``increasing`` (S > 0) or
``decreasing`` (S < 0) when p < α (0.05), else ``stable``. Fewer than 4 buckets
or fewer than 3 events are ``stable``: too little data to call a trend. The
magnitude is Sen's slope, the median of (x_j − x_i)/(j − i).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

__all__ = ["TrendResult", "mann_kendall"]

ALPHA = 0.05


@dataclass(frozen=True)
class TrendResult:
    """Outcome of the test on one series."""

    trend: str
    s: int
    z: float
    p_value: float
    sen_slope: float


def mann_kendall(series: Sequence[float], *, alpha: float = ALPHA) -> TrendResult:
    """Classify ``series`` as increasing, decreasing or stable."""
    n = len(series)
    if n < 4 or sum(series) < 3:
        return TrendResult("stable", 0, 0.0, 1.0, 0.0)
    s = 0
    slopes = []
    for i in range(n - 1):
        xi = series[i]
        for j in range(i + 1, n):
            d = series[j] - xi
            s += (d > 0) - (d < 0)
            slopes.append(d / (j - i))
    ties = Counter(series).values()
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18
    if var <= 0 or s == 0:
        return TrendResult("stable", s, 0.0, 1.0, float(median(slopes)))
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var)
    p = 2 * (1 - 0.5 * (1 + math.erf(abs(z) / math.sqrt(2))))
    trend = ("increasing" if s > 0 else "decreasing") if p < alpha else "stable"
    return TrendResult(trend, s, z, p, float(median(slopes)))
