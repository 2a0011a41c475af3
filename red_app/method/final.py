"""A label for every text: the final model's prediction with a calibrated confidence.

The final model is the loop's own (``final_model``, self-training included). Its raw
probabilities are overconfident on the pool — self-training teaches it its own pool
predictions — so a temperature is fitted the way the pool is seen: labeled samples are
split in folds, each fold is *returned to the pool* (unlabeled, so self-training sees it
too), the final model is fitted on the rest, and the fold's scores against its known
labels fit the temperature. Only what the project knows is used, never hidden gold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import LoopConfig
from .delegation import fit_temperature, temper
from .model import RedModel, mask_excluded


@dataclass(frozen=True)
class ModelLabels:
    """Predictions for ``index`` (positions in the loop's data): label, confidence, top 3."""

    index: np.ndarray
    label: np.ndarray
    confidence: np.ndarray
    top3: np.ndarray          # label indices, best first
    top3_confidence: np.ndarray
    temperature: float


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """ECE over equal-width confidence bins (the usual 10-bin definition)."""
    c = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(c, edges[1:-1], right=True), 0, bins - 1)
    err = 0.0
    for b in range(bins):
        m = which == b
        if m.any():
            err += m.mean() * abs(ok[m].mean() - c[m].mean())
    return float(err)


def _final_model(config: LoopConfig, data, y: np.ndarray, excluded: set) -> RedModel:
    return RedModel.from_config(config, len(data.label_names)).fit(data.X, y, excluded)


def _scores(model: RedModel, data, rows: np.ndarray, excluded: set) -> np.ndarray:
    S, _ = model.scores(data.X[rows])
    S = np.asarray(S, dtype=np.float64)
    mask_excluded(S, rows, excluded)
    return S


def final_temperature(config: LoopConfig, data, state, folds: int = 3, seed: int = 0,
                      reference: np.ndarray | None = None) -> float:
    """The temperature that calibrates the final model, fitted on labeled folds returned to the pool.

    ``reference`` (a boolean mask) limits the folds to labeled samples drawn like the pool
    (seeds, imports): labels the loop chose to ask about are harder than a random text.
    """
    lab = np.flatnonzero((state.y >= 0) & (True if reference is None else reference))
    rng = np.random.default_rng(seed)
    fold_of = rng.permutation(len(lab)) % folds
    S_all, y_all = [], []
    for f in range(folds):
        rows = lab[fold_of == f]
        y = state.y.copy()
        y[rows] = -1
        if len(np.unique(y[y >= 0])) < len(data.label_names):
            # a label would lose every example: keep one of each in training
            for k in np.unique(state.y[rows]):
                if not (y == k).any():
                    y[rows[state.y[rows] == k][0]] = k
            rows = rows[y[rows] < 0]
        S_all.append(_scores(_final_model(config, data, y, state.excluded), data, rows, state.excluded))
        y_all.append(state.y[rows])
    return fit_temperature(np.concatenate(S_all), np.concatenate(y_all))


def predict_labels(config: LoopConfig, data, state, temperature: float | None = None,
                   rows: np.ndarray | None = None, chunk: int = 8192,
                   reference: np.ndarray | None = None) -> ModelLabels:
    """The final model's label, calibrated confidence and top 3 for ``rows`` (default: unlabeled)."""
    if temperature is None:
        temperature = final_temperature(config, data, state, seed=config.seed, reference=reference)
    rows = np.flatnonzero(state.y < 0) if rows is None else np.asarray(rows)
    top3 = np.zeros((len(rows), 3), dtype=np.int64)
    conf3 = np.zeros((len(rows), 3), dtype=np.float64)
    model = _final_model(config, data, state.y, state.excluded)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        P = temper(_scores(model, data, part, state.excluded), temperature)
        order = np.argsort(-P, axis=1)[:, :3]
        top3[start : start + chunk] = order
        conf3[start : start + chunk] = np.take_along_axis(P, order, axis=1)
    return ModelLabels(index=rows, label=top3[:, 0] if len(rows) else np.zeros(0, np.int64),
                       confidence=conf3[:, 0] if len(rows) else np.zeros(0), top3=top3, top3_confidence=conf3,
                       temperature=float(temperature))
