import numpy as np
import pytest

from red_app.method.subsets import greedy_dissimilar, label_centroids, partition_labels


def _points(n=37, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


@pytest.mark.parametrize("n", [1, 4, 10, 37, 50])
def test_every_label_lands_in_exactly_one_subset_of_at_most_n(n):
    Z = _points()
    subsets = greedy_dissimilar(Z, n, random_state=3)
    flat = [i for s in subsets for i in s]
    assert sorted(flat) == list(range(len(Z)))
    assert all(1 <= len(s) <= n for s in subsets)
    assert sum(len(s) == n for s in subsets) >= len(Z) // n


def test_greedy_rule_takes_the_farthest_label_from_the_subset_mean():
    Z = _points()
    subsets = greedy_dissimilar(Z, 6, random_state=1)
    assigned = set()
    for members in subsets:
        for step in range(1, len(members)):
            mean = Z[members[:step]].mean(axis=0)
            candidates = [i for i in range(len(Z)) if i not in assigned and i not in members[:step]]
            dist = {i: np.linalg.norm(Z[i] - mean) for i in candidates}
            assert np.isclose(dist[members[step]], max(dist.values()), rtol=1e-5)
        assigned.update(members)


def test_greedy_subsets_are_more_dissimilar_than_random_ones():
    # two tight clusters: a good subset of 2 takes one label from each
    Z = np.concatenate([np.zeros((10, 2)), np.full((10, 2), 10.0)]) + _points(20, 2) * 0.1
    subsets = greedy_dissimilar(Z, 2, random_state=0)
    assert all((a < 10) != (b < 10) for a, b in subsets)


def test_partition_is_deterministic_under_a_seed():
    X = _points(200, 16, seed=2)
    y = np.repeat(np.arange(40), 5)
    c = label_centroids(X, y, 40)
    a = partition_labels(c, n=7, random_state=5)
    b = partition_labels(c, n=7, random_state=5)
    assert a.subsets == b.subsets and np.allclose(a.coords2d, b.coords2d)
    assert a.coords2d.shape == (40, 2)
    assert (a.subset_of >= 0).all()


def test_centroids_need_an_example_per_label():
    with pytest.raises(ValueError):
        label_centroids(_points(3, 4), np.array([0, 0, 2]), 3)


def test_umap_warm_up_runs_once_per_process_in_the_background():
    import sys

    from red_app.method.subsets import warm_umap

    first = warm_umap()
    assert warm_umap() is first and first.daemon  # later calls start nothing new
    first.join(timeout=120)
    assert not first.is_alive() and "umap" in sys.modules


def test_label_centroids_are_the_per_label_means_to_the_bit():
    from red_app.method.subsets import label_centroids

    rng = np.random.default_rng(3)
    X = rng.standard_normal((2000, 24)).astype(np.float32)
    y = rng.integers(0, 37, 2000)
    y[:37] = np.arange(37)
    sums = np.zeros((37, 24))
    np.add.at(sums, y, X)  # the reference: every row added in order, in float64
    want = sums / np.bincount(y)[:, None]
    want /= np.linalg.norm(want, axis=1, keepdims=True) + 1e-12
    np.testing.assert_array_equal(label_centroids(X, y, 37), want.astype(np.float32))
    with pytest.raises(ValueError, match="without examples"):
        label_centroids(X, y, 38)
    with pytest.raises(ValueError, match="out of range"):
        label_centroids(X, y, 30)
