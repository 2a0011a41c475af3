"""A judge's numbers are checked before they count (issue 23 row 8): a log-probability or a
confidence that is NaN, infinite or impossible is a broken answer — a failed call, never
charged, never applied."""

import math

import pytest

from red_app.judges.base import JudgeRequest
from red_app.judges.ollama_judge import parse_answer
from red_app.judges.prompts import choice_probabilities, parse_choice, probability, yes_probability

BAD = [float("nan"), float("inf"), float("-inf"), 1000.0, "0.5", None]


@pytest.mark.parametrize("bad", BAD)
def test_an_impossible_log_probability_is_a_broken_answer(bad):
    with pytest.raises(ValueError, match="log-probability"):
        yes_probability([{"token": "yes", "logprob": bad}])
    with pytest.raises(ValueError, match="log-probability"):
        choice_probabilities([{"token": "A", "logprob": bad}], 3)


def test_a_possible_log_probability_is_a_probability():
    assert probability(0.0) == 1.0 and probability(1e-9) == 1.0
    assert math.isclose(probability(math.log(0.25)), 0.25)
    assert yes_probability([{"token": "yes", "logprob": math.log(0.75)}, {"token": "No", "logprob": math.log(0.25)}]) \
        == pytest.approx((0.75, 0.25))


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity"])
def test_a_json_confidence_that_is_not_a_number_is_a_broken_answer(raw):
    with pytest.raises(ValueError, match="impossible confidence"):
        parse_answer('{"valid": true, "confidence": %s}' % raw)
    req = JudgeRequest(sample_id="s", text="t", label="a")
    with pytest.raises(ValueError):
        parse_choice('{"choice": "none", "confidence": %s}' % raw, req)
    assert parse_answer('{"valid": true, "confidence": 7}')[1] == 1.0  # a number out of range is clipped
