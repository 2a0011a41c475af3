"""Quality without gold: the pure math of an audit sample (no project, no SQL).

Strata are (origin, confidence band); items are drawn with proportional allocation and a
floor per stratum; accuracy is estimated with the stratified estimator and a Wilson
interval on Kish's effective sample size (the design-effect-adjusted Wilson interval):
each stratum's variance uses a smoothed proportion ``(k + 1) / (n + 2)`` so that a stratum
whose answers are all right (or all wrong) still adds uncertainty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Confidence bands: [0, .5), [.5, .7), [.7, .9), [.9, 1]
BAND_EDGES = (0.5, 0.7, 0.9)
BAND_NAMES = ("0-0.5", "0.5-0.7", "0.7-0.9", "0.9-1")
CURVE_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
Z95 = 1.959963984540054


def confidence_band(confidence) -> np.ndarray:
    """The band name of each confidence (``BAND_NAMES``)."""
    idx = np.searchsorted(np.asarray(BAND_EDGES), np.asarray(confidence, dtype=float), side="right")
    return np.asarray(BAND_NAMES, dtype=object)[idx]


def stratum_of(origin, confidence) -> np.ndarray:
    """``origin|band`` for each label."""
    bands = confidence_band(confidence)
    return np.array([f"{o}|{b}" for o, b in zip(np.asarray(origin, dtype=object), bands)], dtype=object)


def allocate(populations: dict[str, int], n: int, min_per: int = 3) -> dict[str, int]:
    """Items to draw per stratum: proportional to its population (largest remainders),
    at least ``min_per`` from every non-empty stratum, never more than it holds."""
    keys = sorted(k for k, v in populations.items() if v > 0)
    pop = np.array([populations[k] for k in keys], dtype=float)
    total = pop.sum()
    if not keys:
        return {}
    if n >= total:
        return {k: int(populations[k]) for k in keys}
    floor = np.minimum(pop, min_per)
    # strata whose proportional share falls under the floor get the floor; the others
    # share what is left in proportion to their populations (repeat until stable)
    fixed = np.zeros(len(keys), dtype=bool)
    while True:
        rest = n - floor[fixed].sum()
        free = ~fixed
        share = np.zeros(len(keys))
        share[free] = rest * pop[free] / pop[free].sum() if free.any() else 0
        under = free & (share < floor)
        if not under.any():
            break
        fixed |= under
    share[fixed] = floor[fixed]
    base = np.floor(share)
    extra = int(round(n - base.sum()))
    order = np.argsort(-(share - base), kind="stable")
    base[order[:max(extra, 0)]] += 1
    alloc = np.minimum(base, pop).astype(int)
    return dict(zip(keys, alloc.tolist()))


def draw(strata: np.ndarray, n: int, seed: int | None = None, min_per: int = 3):
    """Indices of a stratified random sample of ``n`` among items labeled ``strata``, and each
    drawn item's weight (its stratum's population over the items drawn from it)."""
    strata = np.asarray(strata, dtype=object)
    rng = np.random.default_rng(seed)
    keys, counts = np.unique(strata, return_counts=True)
    alloc = allocate(dict(zip(keys.tolist(), counts.tolist())), n, min_per=min_per)
    idx, weights = [], []
    for key in sorted(alloc):
        members = np.flatnonzero(strata == key)
        take = alloc[key]
        if take <= 0:
            continue
        chosen = rng.choice(members, size=take, replace=False)
        idx.extend(sorted(chosen.tolist()))
        weights.extend([len(members) / take] * take)
    return np.asarray(idx, dtype=int), np.asarray(weights, dtype=float)


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` (``n`` may be an effective size)."""
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


@dataclass(frozen=True)
class Estimate:
    """An estimated accuracy with its 95% interval, from ``answered`` items."""

    estimate: float
    low: float
    high: float
    answered: int
    n_eff: float

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high,
                "answered": self.answered, "n_eff": self.n_eff}


NO_ESTIMATE = Estimate(float("nan"), 0.0, 1.0, 0, 0.0)


def stratified_wilson(population, answered, right, z: float = Z95) -> Estimate:
    """Stratified accuracy ``Σ W_h k_h / n_h`` (``W_h`` = population share) with a Wilson
    interval on Kish's effective size ``p(1-p) / Var``. Strata nobody answered are left out
    (their weight goes to the others)."""
    N = np.asarray(population, dtype=float)
    n = np.asarray(answered, dtype=float)
    k = np.asarray(right, dtype=float)
    keep = (n > 0) & (N > 0)
    if not keep.any():
        return NO_ESTIMATE
    N, n, k = N[keep], n[keep], k[keep]
    W = N / N.sum()
    p_hat = float((W * k / n).sum())
    smooth = (k + 1) / (n + 2)
    fpc = np.where(N > 1, np.clip((N - n) / np.maximum(N - 1, 1), 0, 1), 0.0)
    var = float((W ** 2 * smooth * (1 - smooth) / n * fpc).sum())
    p_smooth = float((W * smooth).sum())
    total = float(n.sum())
    n_eff = total if var <= 0 else float(np.clip(p_smooth * (1 - p_smooth) / var, 1.0, total))
    if var <= 0:  # every stratum fully counted: the figure is exact
        return Estimate(p_hat, p_hat, p_hat, int(total), n_eff)
    lo, hi = wilson(p_hat * n_eff, n_eff, z)
    return Estimate(p_hat, lo, hi, int(total), n_eff)


def estimate_items(strata, correct, population: dict[str, float], mask=None) -> Estimate:
    """Accuracy of the answered items in ``mask`` (a domain: one origin, one label, confidence
    ≥ t, …). A stratum's share of the domain is estimated from its answered items."""
    strata = np.asarray(strata, dtype=object)
    correct = np.asarray(correct, dtype=bool)
    mask = np.ones(len(strata), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    Ns, ns, ks = [], [], []
    for key in np.unique(strata):
        in_h = strata == key
        n_all = int(in_h.sum())
        sel = in_h & mask
        n_d = int(sel.sum())
        if n_d == 0:
            continue
        Ns.append(population[key] * n_d / n_all)
        ns.append(n_d)
        ks.append(int(correct[sel].sum()))
    return stratified_wilson(Ns, ns, ks)
