"""The audit's pure math: bands, allocation, drawing, Wilson and the stratified estimate."""

import numpy as np
import pytest

from red_app.method.quality import (
    allocate,
    confidence_band,
    draw,
    estimate_items,
    stratified_wilson,
    stratum_of,
    wilson,
)


def test_bands_are_half_open_and_one_is_in_the_top_band():
    assert confidence_band([0.0, 0.49, 0.5, 0.69, 0.7, 0.9, 1.0]).tolist() == [
        "0-0.5", "0-0.5", "0.5-0.7", "0.5-0.7", "0.7-0.9", "0.9-1", "0.9-1"]
    assert stratum_of(["judge", "model"], [1.0, 0.3]).tolist() == ["judge|0.9-1", "model|0-0.5"]


def test_allocation_is_proportional_with_a_floor_and_never_exceeds_a_stratum():
    a = allocate({"a": 900, "b": 90, "c": 2, "d": 0}, 100, min_per=3)
    assert sum(a.values()) == 100 and "d" not in a
    assert a["c"] == 2 and a["b"] >= 3 and a["a"] > 8 * a["b"]
    assert allocate({"a": 5, "b": 5}, 50) == {"a": 5, "b": 5}


def test_draw_weights_sum_to_the_population_and_every_stratum_is_drawn():
    strata = np.array(["x"] * 500 + ["y"] * 40 + ["z"] * 4, dtype=object)
    idx, w = draw(strata, 60, seed=0)
    assert len(set(idx)) == len(idx) == 60
    assert set(strata[idx]) == {"x", "y", "z"}
    assert w.sum() == pytest.approx(len(strata))
    idx2, _ = draw(strata, 60, seed=0)
    assert (idx == idx2).all()  # a seed repeats the sample


def test_wilson_stays_inside_zero_one_and_is_not_empty_at_the_edges():
    lo, hi = wilson(10, 10)
    assert 0.65 < lo < 1 and hi == pytest.approx(1.0)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and 0 < hi < 0.35
    assert wilson(0, 0) == (0.0, 1.0)


def test_stratified_estimate_weighs_strata_by_population():
    e = stratified_wilson([900, 100], [10, 10], [10, 0])
    assert e.estimate == pytest.approx(0.9) and e.low < 0.9 < e.high
    # a fully counted population is exact
    e = stratified_wilson([10], [10], [7])
    assert e.estimate == e.low == e.high == pytest.approx(0.7)


def test_the_interval_covers_a_known_accuracy_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    N = np.array([3000, 600, 200, 50])
    acc = np.array([0.98, 0.85, 0.6, 0.3])
    truth = (N * acc).sum() / N.sum()
    hits = 0
    for _ in range(400):
        n = np.array([40, 20, 12, 8])
        k = rng.binomial(n, acc)
        e = stratified_wilson(N, n, k)
        hits += e.low <= truth <= e.high
    assert hits / 400 >= 0.92


def test_a_domain_estimate_uses_only_its_items():
    strata = np.array(["a"] * 10 + ["b"] * 10, dtype=object)
    correct = np.array([True] * 10 + [False] * 10)
    pop = {"a": 100.0, "b": 100.0}
    assert estimate_items(strata, correct, pop).estimate == pytest.approx(0.5)
    assert estimate_items(strata, correct, pop, strata == "a").estimate == pytest.approx(1.0)
    assert estimate_items(strata, correct, pop, np.zeros(20, bool)).answered == 0
