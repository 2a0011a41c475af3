"""SoftmaxRegression: scikit-learn's LogisticRegression objective, evaluated in float32."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from red_app.method.softmax import SoftmaxRegression


def blobs(n_classes=8, per=40, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((n_classes, dim))
    X = np.concatenate([c + 0.9 * rng.standard_normal((per, dim)) for c in centers])
    X /= np.linalg.norm(X, axis=1, keepdims=True)  # unit vectors, like the embeddings
    y = np.repeat(np.arange(n_classes), per)
    return X.astype(np.float32), y


def objective(est, X, y, C, sw=None):
    """scikit-learn's lbfgs objective, in float64."""
    sw = np.ones(len(y)) if sw is None else sw
    Z = X.astype(np.float64) @ est.coef_.T + est.intercept_
    Z -= Z.max(axis=1, keepdims=True)
    ce = np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), np.searchsorted(est.classes_, y)]
    return float(sw @ ce / sw.sum() + 0.5 / (C * sw.sum()) * np.sum(est.coef_ ** 2))


@pytest.mark.parametrize("weighted", [False, True])
def test_same_optimum_as_scikit_learn(weighted):
    X, y = blobs()
    sw = np.random.default_rng(1).uniform(0.2, 2.0, len(y)) if weighted else None
    ref = LogisticRegression(C=10.0, max_iter=1000, tol=1e-8).fit(X, y, sample_weight=sw)
    ours = SoftmaxRegression(C=10.0, tol=1e-8).fit(X, y, sample_weight=sw)
    assert objective(ours, X, y, 10.0, sw) == pytest.approx(objective(ref, X, y, 10.0, sw), rel=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=2e-3)
    assert (ours.predict(X) == ref.predict(X)).all()
    assert ours.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0, rtol=1e-5)


def test_labels_need_not_be_0_to_k():
    X, y = blobs(n_classes=5)
    names = np.array([3, 7, 11, 20, 42])[y]
    est = SoftmaxRegression().fit(X, names)
    assert list(est.classes_) == [3, 7, 11, 20, 42]
    assert (est.predict(X) == names).mean() > 0.9


def test_warm_start_starts_from_the_last_solution():
    X, y = blobs()
    cold = SoftmaxRegression(C=10.0).fit(X, y)
    warm = SoftmaxRegression(C=10.0, warm_start=True).fit(X, y)
    again = warm.fit(X, y)  # the same data: the last solution already meets the tolerance
    assert again.n_iter_[0] <= 1 < cold.n_iter_[0]
    # other classes: the last solution cannot be a start, so the fit starts from zeros
    X3, y3 = blobs(n_classes=3)
    X3 = np.concatenate([X3, X3[:1]])
    y3 = np.concatenate([y3, [0]])
    warm.fit(X3, y3)
    assert warm.coef_.shape == (3, X.shape[1])


def test_two_classes_are_scikit_learns_binomial_model():
    X, y = blobs(n_classes=2)
    ref = LogisticRegression(C=10.0, max_iter=1000).fit(X, y)
    ours = SoftmaxRegression(C=10.0).fit(X, y)
    assert ours.coef_.shape == (1, X.shape[1])
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


def test_tiny_entries_are_read_as_zero_and_the_input_is_left_alone():
    X, y = blobs()
    X[:, 3] = 3.9e-38  # MiniLM's vectors have such components (float32 subnormal territory)
    kept = X.copy()
    est = SoftmaxRegression().fit(X, y)
    Z = X.copy()
    Z[:, 3] = 0
    np.testing.assert_array_equal(X, kept)
    zeroed = SoftmaxRegression().fit(Z, y)
    np.testing.assert_array_equal(est.coef_, zeroed.coef_)  # the same arithmetic, bit for bit
    np.testing.assert_allclose(est.predict_proba(X), zeroed.predict_proba(Z), atol=1e-6)


def test_bad_input_says_what_is_wrong():
    X, y = blobs(n_classes=3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        SoftmaxRegression().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="rows"):
        SoftmaxRegression().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        SoftmaxRegression().fit(X, y, sample_weight=-np.ones(len(y)))
