"""The R.E.D. classifier (subset classifiers with a noise class) and the flat baseline.

Both follow scikit-learn's estimator conventions and share one extra method,
``scores(X) -> (S, assigned)``: ``S[i, l]`` is the model's probability that sample ``i``
has label ``l``; ``assigned[i]`` is False when every subset classifier called sample
``i`` noise (R.E.D. leaves it unassigned; the flat model always assigns).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from .softmax import SoftmaxRegression
from .subsets import LabelPartition, label_centroids, partition_labels

from .config import NOISE_STRATEGIES  # noqa: F401  (declared with the settings)


def default_estimator(C: float = 10.0) -> SoftmaxRegression:
    # lbfgs: saga is unusable at 1000 classes (over 20 minutes, measured here); C=10 measured best on MiniLM.
    # scikit-learn's LogisticRegression objective, evaluated in float32 (red_app.method.softmax).
    return SoftmaxRegression(C=C, max_iter=1000)


def _check_labels(y: np.ndarray, n_labels: int | None) -> int:
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError("y must hold integer label indices (0..n_labels-1)")
    return int(n_labels if n_labels is not None else y.max() + 1)


class FlatClassifier(ClassifierMixin, BaseEstimator):
    """One classifier over all labels (the baseline R.E.D. is measured against)."""

    def __init__(self, estimator=None, n_labels: int | None = None):
        self.estimator = estimator
        self.n_labels = n_labels

    def fit(self, X, y, negatives=None, sample_weight=None):
        n_labels = _check_labels(y, self.n_labels)
        est = self.estimator if self.estimator is not None else default_estimator()
        # a warm-started estimator is kept, not cloned: its last solution seeds this fit
        self.estimator_ = est if getattr(est, "warm_start", False) else clone(est)
        self.estimator_.fit(X, y, sample_weight=sample_weight)
        self.classes_ = np.arange(n_labels)
        return self

    def scores(self, X):
        check_is_fitted(self, "estimator_")
        P = self.estimator_.predict_proba(X)
        if np.array_equal(self.estimator_.classes_, self.classes_):
            # every label trained: the columns are already the labels (no copy of n × labels)
            return np.asarray(P, dtype=np.float32), np.ones(len(X), dtype=bool)
        S = np.zeros((len(X), len(self.classes_)), dtype=np.float32)
        S[:, self.estimator_.classes_] = P
        return S, np.ones(len(X), dtype=bool)

    def predict_proba(self, X):
        return self.scores(X)[0]

    def predict(self, X):
        return self.classes_[np.argmax(self.scores(X)[0], axis=1)]


class RedClassifier(ClassifierMixin, BaseEstimator):
    """R.E.D.: one ``n+1``-class classifier per subset of mutually dissimilar labels.

    Parameters
    ----------
    n : int
        Labels per subset (the last class of each subset model is *noise*).
    noise_ratio : float
        Noise examples per subset = ``noise_ratio`` × the subset's average class size.
    noise : {"random", "hard"}
        Sample noise uniformly from outside labels, or weighted towards the outside
        labels nearest to the subset's own (hard negatives).
    estimator : scikit-learn classifier with ``predict_proba``
        Cloned per subset; default logistic regression (C=10).
    partition : LabelPartition, optional
        A fixed partition (the loop computes one per run); otherwise computed in ``fit``.
    partition_method, umap_dim : see :func:`red_app.method.subsets.partition_labels`.
    n_labels : int, optional
        Total number of labels (default ``max(y) + 1``).
    random_state : int
    """

    def __init__(
        self, n: int = 10, noise_ratio: float = 2.0, noise: str = "random", estimator=None,
        partition: LabelPartition | None = None, partition_method: str = "greedy",
        umap_dim: int = 5, n_labels: int | None = None, random_state: int = 0,
    ):
        self.n = n
        self.noise_ratio = noise_ratio
        self.noise = noise
        self.estimator = estimator
        self.partition = partition
        self.partition_method = partition_method
        self.umap_dim = umap_dim
        self.n_labels = n_labels
        self.random_state = random_state

    def fit(self, X, y, negatives: tuple[np.ndarray, np.ndarray] | None = None):
        """Fit one model per subset.

        ``negatives`` = (X_neg, y_neg): samples known *not* to have label ``y_neg``
        (rejected by a judge). Each joins the noise class of ``y_neg``'s subset.
        """
        if self.noise not in NOISE_STRATEGIES:
            raise ValueError(f"noise must be one of {NOISE_STRATEGIES}")
        if self.noise_ratio < 0:
            raise ValueError("noise_ratio must be >= 0")
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        n_labels = _check_labels(y, self.n_labels)
        rng = np.random.default_rng(self.random_state)
        centroids = label_centroids(X, y, n_labels)
        self.partition_ = self.partition or partition_labels(
            centroids, n=self.n, method=self.partition_method, umap_dim=self.umap_dim,
            random_state=self.random_state, with_map=False,
        )
        self.classes_ = np.arange(n_labels)
        base = self.estimator if self.estimator is not None else default_estimator()
        self.models_: list = []
        self.noise_counts_: list[int] = []
        sub_of = self.partition_.subset_of
        neg_sub = sub_of[negatives[1]] if negatives is not None and len(negatives[1]) else None
        for k, members in enumerate(self.partition_.subsets):
            members = np.asarray(members)
            local = np.full(n_labels, -1, dtype=np.int64)
            local[members] = np.arange(len(members))
            inside = local[y] >= 0
            Xs, ys = X[inside], local[y[inside]]
            n_noise = int(round(self.noise_ratio * inside.sum() / len(members)))
            outside = np.flatnonzero(~inside)
            parts_X, parts_y = [Xs], [ys]
            if n_noise and len(outside):
                if self.noise == "hard":
                    # weight outside examples by how close their label is to the subset
                    sim = centroids[y[outside]] @ centroids[members].T
                    w = np.exp(8.0 * sim.max(axis=1))
                    w /= w.sum()
                else:
                    w = None
                pick = rng.choice(outside, size=n_noise, replace=n_noise > len(outside), p=w)
                parts_X.append(X[pick])
                parts_y.append(np.full(len(pick), len(members)))
            if neg_sub is not None:
                mine = neg_sub == k
                if mine.any():
                    parts_X.append(np.asarray(negatives[0], dtype=np.float32)[mine])
                    parts_y.append(np.full(int(mine.sum()), len(members)))
            Xk, yk = np.concatenate(parts_X), np.concatenate(parts_y)
            self.noise_counts_.append(int((yk == len(members)).sum()))
            present = np.unique(yk)
            if len(present) == 1:
                model = _Constant(int(present[0]))
            else:
                model = clone(base).fit(Xk, yk)
            self.models_.append((members, model))
        return self

    def scores(self, X):
        """(S, assigned): S[i, l] = P(label l) from l's subset model; see module doc."""
        check_is_fitted(self, "models_")
        X = np.asarray(X, dtype=np.float32)
        S = np.zeros((len(X), len(self.classes_)), dtype=np.float32)
        assigned = np.zeros(len(X), dtype=bool)
        for members, model in self.models_:
            P = np.zeros((len(X), len(members) + 1), dtype=np.float32)
            P[:, model.classes_] = model.predict_proba(X)
            S[:, members] = P[:, : len(members)]
            assigned |= P.argmax(axis=1) < len(members)
        return S, assigned

    def predict_proba(self, X):
        S, _ = self.scores(X)
        tot = S.sum(axis=1, keepdims=True)
        return np.divide(S, tot, out=np.full_like(S, 1.0 / S.shape[1]), where=tot > 0)

    def predict(self, X):
        """Best non-noise label per sample (use ``scores`` to see the unassigned ones)."""
        return self.classes_[np.argmax(self.scores(X)[0], axis=1)]


class _Constant:
    """A subset with a single class present (no noise available): always that class."""

    def __init__(self, cls: int):
        self.classes_ = np.array([cls])

    def predict_proba(self, X):
        return np.ones((len(X), 1), dtype=np.float32)


def make_model(kind: str, **params):
    """``"red"`` → :class:`RedClassifier`, ``"flat"`` → :class:`FlatClassifier`."""
    if kind == "red":
        return RedClassifier(**params)
    if kind == "flat":
        allowed = {k: v for k, v in params.items() if k in ("estimator", "n_labels")}
        return FlatClassifier(**allowed)
    raise ValueError(f"unknown model kind {kind!r}; use 'red' or 'flat'")
