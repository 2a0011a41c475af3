"""The fit cache: a flat-model fit is computed once per project for the same inputs, and a
run's first iteration takes the fits `red embed` stored — the same numbers, bit for bit."""

import shutil

import numpy as np
import pytest

from red_app.workflows.inputs import load_inputs
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.method.softmax import SoftmaxRegression
from red_app.project.store import Project
from red_app.workflows.runner import fit_after_embedding, run_project


def fit(X, y, memo=None, C=10.0, sample_weight=None):
    est = SoftmaxRegression(C=C)
    if memo is not None:
        est.memo_ = memo
    return est.fit(X, y, sample_weight=sample_weight)


def test_same_inputs_take_the_stored_solution_and_other_inputs_do_not(small_copy):
    with Project(small_copy) as p:
        data, state = load_inputs(p)
        lab = state.y >= 0
        X, y = data.X[lab], state.y[lab]
        first = fit(X, y, memo=p)
        assert not first.from_cache_
        again = fit(X, y, memo=p)
        assert again.from_cache_ and again.n_iter_[0] == first.n_iter_[0]
        np.testing.assert_array_equal(again.coef_, first.coef_)
        np.testing.assert_array_equal(again.predict_proba(X), fit(X, y).predict_proba(X))  # as computed
        # one label changed, another C, a weight: each is another fit
        y2 = y.copy()
        y2[0] = (y2[0] + 1) % (y.max() + 1)
        assert not fit(X, y2, memo=p).from_cache_
        assert not fit(X, y, memo=p, C=1.0).from_cache_
        X2 = X.copy()
        X2[5, 7] += 1e-3
        assert not fit(X2, y, memo=p).from_cache_
        warm = SoftmaxRegression(C=10.0, warm_start=True)
        warm.memo_ = p
        warm.coef_, warm.intercept_, warm.classes_ = first.coef_ * 0.5, first.intercept_, first.classes_
        assert not warm.fit(X, y).from_cache_  # another start: another fit
        assert not fit(X, y, memo=p, sample_weight=np.full(len(y), 0.5)).from_cache_
        kept = p.cursor().execute("SELECT count(*) FROM fit_cache").fetchone()[0]
        assert kept == 6  # the first, y2, C=1, X2, the other start, the weighted one


def test_the_cache_keeps_the_newest_fits_only(small_copy):
    with Project(small_copy) as p:
        data, state = load_inputs(p)
        lab = np.flatnonzero(state.y >= 0)
        for k in range(p.FITS_KEPT + 2):
            fit(data.X[lab[k:]], state.y[lab[k:]], memo=p)
        assert p.cursor().execute("SELECT count(*) FROM fit_cache").fetchone()[0] == p.FITS_KEPT


def test_a_run_starts_from_the_fits_red_embed_stored(small_project, tmp_path):
    cached, plain = tmp_path / "cached.duckdb", tmp_path / "plain.duckdb"
    shutil.copy(small_project, cached)
    shutil.copy(small_project, plain)
    with Project(cached) as p:
        took = fit_after_embedding(p)
        assert took and took > 0
        assert fit_after_embedding(p) == 0.0  # both fits found: nothing computed
        stored = dict(p.cursor().execute("SELECT key, created_at FROM fit_cache").fetchall())
        assert len(stored) == 2  # the seeds' fit and its self-training refit

    def first_iteration(path):
        with Project(path) as p:
            judge = SimulatedJudge({**p.seed_labels(), **p.hidden_gold(role="pool")})
            rec = next(iter(run_project(p, judge, LoopConfig(budget=40, batch=20), label_everything=False)))
            preds = p.cursor().execute(
                "SELECT sample_id, label, score FROM predictions ORDER BY sample_id").fetchall()
            return rec, preds, dict(p.cursor().execute("SELECT key, created_at FROM fit_cache").fetchall())

    rec_c, preds_c, after = first_iteration(cached)
    rec_p, preds_p, after_plain = first_iteration(plain)
    # taken, not computed again (a computed fit is stored anew, with a new time)
    assert after == stored
    # a run without them computes and keeps the same two (its later fits are not kept)
    assert set(after_plain) == set(stored)
    assert preds_c == preds_p  # the run's scores, the same to the last bit
    assert (rec_c.accepted, rec_c.pool_accuracy, rec_c.eval_accuracy) == (rec_p.accepted, rec_p.pool_accuracy,
                                                                          rec_p.eval_accuracy)


def test_nothing_to_fit_is_said_plainly(tmp_path):
    with Project(tmp_path / "empty.duckdb", create=True) as p:
        assert fit_after_embedding(p) is None
    with Project(tmp_path / "empty.duckdb", read_only=True) as p:
        assert fit_after_embedding(p) is None


@pytest.mark.parametrize("selector", ["red"])
def test_only_the_flat_selector_is_prepared(small_copy, selector):
    with Project(small_copy) as p:
        assert fit_after_embedding(p, LoopConfig(selector=selector)) is None
