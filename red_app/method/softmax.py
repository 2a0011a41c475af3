"""Multinomial logistic regression with scikit-learn's objective, computed in float32.

scikit-learn's ``LogisticRegression(solver="lbfgs")`` converts the data to float64 before it
fits, so every loss-and-gradient evaluation of a 1,000-class model runs two float64 matrix
products over ``n × 384 × 1,000`` and a float64 softmax. Embeddings are float32 and carry
no more precision than that. :class:`SoftmaxRegression` minimises the *same* objective

    sum_i w_i · CE(softmax(W x_i + b), y_i) / sum_i w_i  +  ||W||² / (2 · C · sum_i w_i)

with the same optimiser (scipy's L-BFGS-B, scikit-learn's options: ``gtol=tol``,
``maxls=50``), but evaluates it in float32 (the optimiser's state stays float64). The
optimum is the same within float32 rounding; each evaluation takes about a third of the
time (``bench/REPORT.md``, "Speed": the fit command and figures).

Two classes use scikit-learn's own binomial model (one weight vector; what
``LogisticRegression`` fits), so small subset models are unchanged.

A fit can be remembered: give the estimator a ``memo_`` (an object with ``cached_fit(key)``
and ``store_fit(key, classes, coef, intercept, n_iter, seconds)``, e.g. a
:class:`red_app.project.store.Project`) and a fit whose inputs — rows, labels, weights,
start, settings — digest to a stored key takes the stored solution instead of computing it:
the same numbers, bit for bit.
"""

from __future__ import annotations

import hashlib
import logging
import time
import warnings

import numpy as np
from scipy import optimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d

from .vectors import flush_tiny

log = logging.getLogger(__name__)

# float32 subnormals (below ~1.2e-38) make BLAS several times slower. Two sources, both
# cleared here with no effect a float32 result could show:
# - embeddings: MiniLM's vectors have two components near 1e-38 in every row (O*NET: 19,802
#   of 9,901 × 384 entries below 1e-12). The fit reads them as 0 (red_app.method.vectors.flush_tiny);
#   predictions take X as given, and Project.embedding_matrix flushes once per load.
# - softmax: exp of logits far below the row's best. The fit floors them at e^-30 (≈ 1e-13,
#   under float32's resolution against a row sum ≥ 1), so the gradient's products stay normal;
#   predictions floor at e^-87, the smallest normal float32.
_SOLVER = "softmax-lbfgs-float32-v1"  # part of every memo key: change it when the fit's arithmetic changes
_FIT_FLOOR, _PREDICT_FLOOR = -30.0, -87.0


def _arithmetic() -> tuple:
    """What else decides a fit's last bits: numpy, scipy, the BLAS libraries and their threads."""
    import scipy
    from threadpoolctl import threadpool_info

    blas = sorted((i.get("internal_api"), i.get("version"), i.get("architecture"), i.get("num_threads"))
                  for i in threadpool_info())
    return np.__version__, scipy.__version__, repr(blas)


def fit_key(X: np.ndarray, yi: np.ndarray, classes: np.ndarray, sw: np.ndarray, w0: np.ndarray,
            settings: tuple) -> str:
    """A digest of everything a multinomial fit is computed from, this machine's arithmetic included."""
    h = hashlib.blake2b(digest_size=20)
    h.update(repr((_SOLVER, X.shape, settings, _arithmetic())).encode())
    for a in (X, yi.astype(np.int64), classes.astype(np.int64), sw, w0):
        h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()


def _exp_shifted(Z: np.ndarray, floor: float) -> None:
    """exp, in place, of max-shifted logits (all ≤ 0), floored to stay a normal float32."""
    np.maximum(Z, floor, out=Z)
    np.exp(Z, out=Z)


class SoftmaxRegression(ClassifierMixin, BaseEstimator):
    """L2-regularised multinomial logistic regression (lbfgs), float32 evaluations.

    Parameters mean what they mean for ``LogisticRegression``: ``C`` the inverse
    regularisation strength, ``max_iter`` and ``tol`` the L-BFGS limits, ``warm_start``
    to start from the last solution (``coef_``, ``intercept_``) when the classes match.
    """

    def __init__(self, C: float = 10.0, max_iter: int = 1000, tol: float = 1e-4, warm_start: bool = False):
        self.C = C
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start

    def fit(self, X, y, sample_weight=None):
        X = flush_tiny(check_array(X, dtype=np.float32, order="C"))
        y = column_or_1d(y)
        self.from_cache_ = False
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        classes, yi = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"needs samples of at least 2 classes; the data has one: {classes[0]!r}")
        if len(classes) == 2:
            return self._fit_binary(X, y, sample_weight)
        n, d = X.shape
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        if sw.shape != (n,) or (sw < 0).any() or not sw.sum() > 0:
            raise ValueError("sample_weight must be one non-negative number per row, not all 0")
        w0 = self._start(classes, d)
        memo = getattr(self, "memo_", None)
        key = None
        if memo is not None and classes.dtype.kind in "iu":
            key = fit_key(X, yi, classes, sw, w0, (self.C, self.tol, self.max_iter))
            if self._from_memo(memo, key, classes, d):
                return self
        t0 = time.perf_counter()
        res = optimize.minimize(_objective(X, yi, sw, len(classes), self.C), w0.ravel(), method="L-BFGS-B", jac=True,
                                options={"maxiter": self.max_iter, "maxls": 50, "gtol": self.tol,
                                         "ftol": 64 * np.finfo(float).eps})
        if res.status != 0:  # 1: iteration limit, 2: the line search stopped (scikit-learn warns on both)
            warnings.warn(f"lbfgs failed to converge (status={res.status}): {res.message}", ConvergenceWarning,
                          stacklevel=2)
        W = res.x.reshape(len(classes), d + 1)
        self.coef_ = np.ascontiguousarray(W[:, :d])
        self.intercept_ = W[:, d].copy()
        self.classes_ = classes
        self.n_iter_ = np.array([res.nit])
        self.n_features_in_ = d
        if key is not None:
            try:
                memo.store_fit(key, classes, self.coef_, self.intercept_, int(res.nit), time.perf_counter() - t0)
            except Exception as exc:  # not kept: the next identical fit computes it again
                log.warning("fit cache not written (%s)", exc)
        return self

    def _start(self, classes: np.ndarray, d: int) -> np.ndarray:
        """Where lbfgs starts: the last solution when warm-starting on the same classes, else zeros."""
        K = len(classes)
        w0 = np.zeros((K, d + 1))
        prev = getattr(self, "coef_", None)
        if (self.warm_start and prev is not None and prev.shape == (K, d)
                and np.array_equal(getattr(self, "classes_", None), classes)):
            w0[:, :d] = prev
            w0[:, d] = self.intercept_
        return w0

    def _from_memo(self, memo, key: str, classes: np.ndarray, d: int) -> bool:
        """Take the fit remembered under ``key``, if any; whether it was."""
        try:
            hit = memo.cached_fit(key)
        except Exception as exc:  # a cache that cannot be read only costs the fit
            log.warning("fit cache unreadable (%s); fitting", exc)
            return False
        if hit is None or hit["coef"].shape != (len(classes), d) or not np.array_equal(hit["classes"], classes):
            return False
        self.coef_, self.intercept_, self.classes_ = hit["coef"], hit["intercept"], classes
        self.n_iter_, self.n_features_in_, self.from_cache_ = np.array([hit["n_iter"]]), d, True
        return True

    def _fit_binary(self, X, y, sample_weight):
        lr = LogisticRegression(C=self.C, max_iter=self.max_iter, tol=self.tol).fit(X, y, sample_weight=sample_weight)
        self.coef_, self.intercept_, self.classes_ = lr.coef_, lr.intercept_, lr.classes_
        self.n_iter_, self.n_features_in_ = lr.n_iter_, lr.n_features_in_
        return self

    def decision_function(self, X):
        check_is_fitted(self, "coef_")
        # not flushed here (a pass over every row, per call: 100 subset models predicting a 100k
        # pool spent seconds on it); the project's embeddings come flushed (Project.embedding_matrix)
        X = check_array(X, dtype=np.float32, order="C")
        Z = X @ self.coef_.T.astype(np.float32)
        Z += self.intercept_.astype(np.float32)
        return Z[:, 0] if len(self.classes_) == 2 else Z

    def predict_proba(self, X):
        Z = self.decision_function(X)
        if len(self.classes_) == 2:
            p = expit(Z)
            return np.column_stack([1 - p, p])
        Z -= Z.max(axis=1, keepdims=True)
        _exp_shifted(Z, _PREDICT_FLOOR)
        Z /= Z.sum(axis=1, keepdims=True)
        return Z

    def predict(self, X):
        Z = self.decision_function(X)
        if len(self.classes_) == 2:
            return self.classes_[(Z > 0).astype(int)]
        return self.classes_[Z.argmax(axis=1)]


def _objective(X: np.ndarray, yi: np.ndarray, sw: np.ndarray, K: int, C: float):
    """scikit-learn's multinomial loss (mean over weighted rows, plus l2 / 2 · |W|²) and its
    gradient, with the n × K products in float32."""
    n, d = X.shape
    sw_sum = float(sw.sum())
    l2 = 1.0 / (C * sw_sum)
    row_w = (sw / sw_sum).astype(np.float32)
    rows = np.arange(n)

    def loss_grad(w: np.ndarray):
        W = w.reshape(K, d + 1)
        Z = X @ W[:, :d].T.astype(np.float32)
        Z += W[:, d].astype(np.float32)
        Z -= Z.max(axis=1, keepdims=True)
        z_true = Z[rows, yi]  # fancy indexing copies: taken before the exp below
        _exp_shifted(Z, _FIT_FLOOR)
        s = Z.sum(axis=1)
        loss = float(np.dot(sw, (np.log(s) - z_true).astype(np.float64))) / sw_sum
        Z *= (row_w / s)[:, None]  # P, weighted: the pointwise gradient
        Z[rows, yi] -= row_w
        grad = np.empty((K, d + 1))
        grad[:, :d] = Z.T @ X
        grad[:, d] = Z.sum(axis=0)
        grad[:, :d] += l2 * W[:, :d]
        loss += 0.5 * l2 * float(np.vdot(W[:, :d], W[:, :d]))
        return loss, grad.ravel()

    return loss_grad
