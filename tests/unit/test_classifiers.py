import numpy as np
import pytest

from red_app.method.classifiers import FlatClassifier, RedClassifier
from red_app.method.subsets import LabelPartition


def _blobs(n_labels=12, per=20, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_labels, d)) * 4
    y = np.repeat(np.arange(n_labels), per)
    X = centers[y] + rng.normal(size=(len(y), d))
    return X.astype(np.float32), y


def _fixed_partition(n_labels, n):
    subsets = [list(range(i, min(i + n, n_labels))) for i in range(0, n_labels, n)]
    return LabelPartition(subsets=subsets, coords2d=np.zeros((n_labels, 2)), method="fixed", n=n)


@pytest.mark.parametrize("ratio", [0.0, 1.0, 2.0, 3.5])
def test_noise_class_is_last_and_sized_by_the_ratio(ratio):
    X, y = _blobs()
    m = RedClassifier(n=4, noise_ratio=ratio, partition=_fixed_partition(12, 4)).fit(X, y)
    for (members, model), noise in zip(m.models_, m.noise_counts_):
        avg = 20  # 20 examples per label
        assert noise == round(ratio * avg)
        if noise:
            assert model.classes_[-1] == len(members)  # noise is the last class


def test_rejected_samples_join_the_noise_class_of_their_labels_subset():
    X, y = _blobs()
    part = _fixed_partition(12, 4)
    neg = (X[:3], np.array([5, 5, 9]))
    m = RedClassifier(n=4, noise_ratio=1.0, partition=part).fit(X, y, negatives=neg)
    assert m.noise_counts_ == [20, 22, 21]


def test_red_and_flat_classify_separable_blobs():
    X, y = _blobs(seed=1)
    Xt, yt = _blobs(seed=1, per=5)
    for model in (RedClassifier(n=5), FlatClassifier()):
        model.fit(X, y)
        S, assigned = model.scores(Xt)
        assert S.shape == (len(Xt), 12)
        assert (model.predict(Xt) == yt).mean() > 0.9
        assert np.allclose(model.predict_proba(Xt).sum(axis=1), 1.0, atol=1e-5)


def test_far_away_samples_are_left_unassigned_by_red():
    X, y = _blobs()
    m = RedClassifier(n=4, noise_ratio=3.0, partition=_fixed_partition(12, 4)).fit(X, y)
    _, assigned = m.scores(X[:50])
    assert assigned.mean() > 0.8
    outliers = np.full((5, X.shape[1]), 60.0, dtype=np.float32)
    _, assigned_out = m.scores(outliers)
    assert assigned_out.mean() <= assigned.mean()


def test_any_sklearn_classifier_with_predict_proba_works():
    from sklearn.naive_bayes import GaussianNB

    X, y = _blobs()
    m = RedClassifier(n=6, estimator=GaussianNB()).fit(X, y)
    assert (m.predict(X) == y).mean() > 0.9
