import numpy as np
import pytest

from red_app.method.uncertainty import entropy, margin, select_top_k, uncertainty


def test_entropy_is_max_for_uniform_and_zero_for_certain():
    P = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0, 0, 0], [0.7, 0.1, 0.1, 0.1]])
    e = entropy(P)
    assert np.isclose(e[0], np.log(4)) and np.isclose(e[1], 0.0) and e[1] < e[2] < e[0]


def test_entropy_normalises_unnormalised_scores():
    assert np.allclose(entropy(np.array([[2.0, 2.0]])), entropy(np.array([[0.5, 0.5]])))


def test_margin_orders_close_calls_first():
    m = margin(np.array([[0.5, 0.49, 0.01], [0.9, 0.05, 0.05]]))
    assert m[0] > m[1]


def test_select_top_k_respects_the_per_label_cap():
    u = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    pred = np.array([0, 0, 0, 1, 2])
    assert select_top_k(u, pred, 3).tolist() == [0, 1, 2]
    assert select_top_k(u, pred, 3, per_label_cap=1).tolist() == [0, 3, 4]
    assert select_top_k(u, pred, 10, per_label_cap=2).tolist() == [0, 1, 3, 4]


def test_unknown_measure_is_an_error():
    import pytest

    with pytest.raises(ValueError):
        uncertainty(np.ones((1, 2)), "vibes")


def test_loop_settings_are_checked_with_a_config_error():
    import pytest

    from red_app.errors import ConfigError, RedError
    from red_app.method.config import LoopConfig

    for bad in ({"batch": 0}, {"uncertainty": "vibes"}, {"noise": "loud"}, {"partition_method": "kmeans"}, {"n": 0}):
        with pytest.raises(ConfigError) as err:
            LoopConfig(**bad)
        assert isinstance(err.value, RedError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize("width", [40, 9000])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("measure", ["margin", "least_confident", "band"])
def test_top_only_measures_are_the_normalised_ones_to_the_bit(measure, dtype, width):
    """margin, least_confident and band read only a row's top entries: computed without the
    normalised matrix, they are the same float64 numbers as computed from it."""
    from red_app.method.uncertainty import _normalise

    rng = np.random.default_rng(0)
    S = rng.random((500 if width < 100 else 40, width)).astype(dtype) ** 4
    S[0] = 0  # a row with no score: uniform
    S[1, :3] = -0.1  # negative scores count as 0
    S[2] = 0.25  # ties
    p = _normalise(S)
    top2 = np.sort(p, axis=1)[:, -2:]
    want = {"margin": 1.0 - (top2[:, 1] - top2[:, 0]), "least_confident": 1.0 - top2[:, 1],
            "band": -np.abs(top2[:, 1] - 0.3)}[measure]
    np.testing.assert_array_equal(uncertainty(S, measure, target=0.3), want)
    if measure == "least_confident":  # the top entries themselves, not only what they round to
        from red_app.method.uncertainty import _top_normalised

        np.testing.assert_array_equal(_top_normalised(S, 2), top2)
