"""Stopping rules, each asked alone: one question, one reason."""

from types import SimpleNamespace

import numpy as np

from red_app.method.config import LoopConfig
from red_app.method.stopping import (
    BudgetSpent,
    FirstOf,
    NoNewLabels,
    PoolExhausted,
    Saturation,
    default_rules,
)


def rec(iteration=1, uncertain=10, accepted=1, errors=0, selected=5):
    return SimpleNamespace(iteration=iteration, uncertain_count=uncertain, accepted=accepted, errors=errors,
                           selected=selected)


def state(calls=0, y=(-1, 0)):
    return SimpleNamespace(calls=calls, y=np.array(y))


def test_saturation_counts_iterations_without_fewer_uncertain():
    rule = Saturation(patience=2)
    assert rule.stop(rec(uncertain=10), state()) is None
    assert rule.stop(rec(uncertain=10), state()) is None
    assert rule.stop(rec(uncertain=12), state()).startswith("saturated: uncertain count has not fallen for 2")
    fresh = Saturation(patience=2)
    for u in (10, 9, 8, 7):  # falling every time: never stale
        assert fresh.stop(rec(uncertain=u), state()) is None


def test_no_new_labels_only_when_every_answer_was_no():
    assert NoNewLabels().stop(rec(accepted=0), state()) == "saturated: no new validated samples"
    assert NoNewLabels().stop(rec(accepted=0, errors=1), state()) is None  # a broken judge is not saturation
    assert NoNewLabels().stop(rec(accepted=0, selected=0), state()) is None


def test_hard_limits():
    assert BudgetSpent(5).stop(rec(), state(calls=5)) == "budget spent"
    assert BudgetSpent(5).stop(rec(), state(calls=4)) is None
    assert PoolExhausted().stop(rec(), state(y=(0, 1))) == "pool exhausted"
    assert PoolExhausted().stop(rec(), state(y=(0, -1))) is None


def test_first_reason_wins_and_every_rule_keeps_counting():
    sat = Saturation(patience=1)
    rules = FirstOf([BudgetSpent(1), sat])
    assert rules.stop(rec(uncertain=5), state(calls=1)) == "budget spent"
    assert sat.best == 5  # asked although the budget answered first


def test_default_rules_follow_the_config():
    assert default_rules(LoopConfig(patience=None)).stop(rec(accepted=0), state()) is None
    assert default_rules(LoopConfig(patience=3)).stop(rec(accepted=0), state()) == "saturated: no new validated samples"
