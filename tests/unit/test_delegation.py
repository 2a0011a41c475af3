"""Judge-aware delegation as pure functions: likelihood ratios, posteriors, the gate."""

import numpy as np
import pytest

from red_app.judges.base import Verdict
from red_app.method.delegation import (
    Calibration,
    Delegation,
    JudgeProfile,
    fit_temperature,
    posterior,
    roc_auc,
    temper,
    verdict_score,
)


def test_roc_auc_counts_ties_half_and_needs_both_classes():
    assert roc_auc([0.1, 0.9], [False, True]) == 1.0
    assert roc_auc([0.9, 0.1], [False, True]) == 0.0
    assert roc_auc([0.5, 0.5], [False, True]) == 0.5
    assert roc_auc([0.5, 0.7], [True, True]) is None


def test_a_binary_yes_biased_judge_gets_its_measured_rates():
    right = np.array([True] * 100 + [False] * 100)
    said = np.r_[np.ones(97), np.zeros(3), np.ones(55), np.zeros(45)]
    prof = JudgeProfile.fit(said, right)
    assert prof.binary
    assert prof.likelihood_ratio(1.0) == pytest.approx(98 / 102 / (56 / 102), rel=1e-6)  # ≈ 1.75
    assert prof.likelihood_ratio(0.0) < 0.1  # a "no" from this judge is strong evidence


def test_posterior_is_bayes_with_the_prior():
    assert posterior(1.0, 0.3) == pytest.approx(0.3)
    assert posterior(9.0, 0.5) == pytest.approx(0.9)
    assert posterior(3.0, 0.25) == pytest.approx(0.5)


def _cal(profile, informative=True):
    return Calibration(profile, temperature=1.0, pairs=80, answered=80, judge_auc=0.8, classifier_auc=0.8,
                       combined_auc=0.85, agreement=0.8, wrong_caught=0.5, right_rejected=0.05,
                       median_latency_ms=1.0, informative=informative, reason="")


def test_the_gate_applies_only_sure_verdicts_in_the_judges_direction():
    prof = JudgeProfile(True, p_yes_right=0.97, p_yes_wrong=0.55)  # LR(yes) ≈ 1.76, LR(no) ≈ 0.067
    d = Delegation(_cal(prof), target=0.9)
    yes, no = Verdict(True, 1.0), Verdict(False, 1.0)
    assert d.decide(yes, 0.95)[0] == "valid"
    assert d.decide(yes, 0.6)[0] == "review"       # a yes that cannot make it sure enough
    assert d.decide(no, 0.3)[0] == "invalid"
    assert d.decide(no, 0.9)[0] == "review"        # a no against a confident classifier
    assert d.decide(Verdict(None, 0.0, error="x"), 0.9)[0] == "error"
    # the lowest prior where a yes still clears 0.9: odds 9 / 1.76 -> p ≈ 0.836
    assert d.min_prior() == pytest.approx(0.836, abs=0.005)


def test_an_uninformative_judge_is_never_applied_unless_trusted():
    prof = JudgeProfile(True, p_yes_right=0.97, p_yes_wrong=0.55)
    assert Delegation(_cal(prof, informative=False)).decide(Verdict(True, 1.0), 0.99)[0] == "review"
    assert Delegation(_cal(prof, informative=False)).min_prior() == 1.0
    assert Delegation(_cal(prof, informative=False), trust=True).decide(Verdict(True, 1.0), 0.99)[0] == "valid"


def test_a_trusted_judge_is_taken_at_its_word():
    d = Delegation(None)
    assert not d.active and d.min_prior() == 0.0
    assert d.decide(Verdict(True, 1.0), 0.01) == ("valid", 1.0)
    assert d.decide(Verdict(False, 1.0), 0.99) == ("invalid", 0.0)


def test_graded_scores_use_p_yes_and_a_monotone_ratio():
    assert verdict_score(Verdict(True, 0.8, extra={"p_yes": 0.8})) == 0.8
    assert verdict_score(Verdict(False, 0.7)) == pytest.approx(0.3)
    rng = np.random.default_rng(0)
    right = np.r_[np.ones(200, bool), np.zeros(200, bool)]
    s = 1 / (1 + np.exp(-np.r_[rng.normal(1.5, 1, 200), rng.normal(-0.5, 1, 200)]))
    prof = JudgeProfile.fit(s, right)
    assert not prof.binary
    lr = prof.likelihood_ratio(np.array([0.1, 0.5, 0.9]))
    assert lr[0] < lr[1] < lr[2] and lr[0] < 1 < lr[2]


def test_temperature_calibration_softens_an_overconfident_model():
    rng = np.random.default_rng(1)
    n, k = 2000, 5
    y = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), y] += 1.0
    P = np.exp(4 * logits)  # four times too sharp
    P /= P.sum(axis=1, keepdims=True)
    T = fit_temperature(P, y)
    assert 3.0 < T < 5.5
    Q = temper(P, T)
    assert np.allclose(Q.sum(axis=1), 1.0)
    assert Q.max(axis=1).mean() < P.max(axis=1).mean()
