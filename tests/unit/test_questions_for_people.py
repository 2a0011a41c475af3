"""The question a review-queue row asks a person (red_app.workflows.people.question_from_row)."""

from red_app.workflows.people import DEFAULT_K, question_from_row

LABELS = [f"label_{i}" for i in range(12)]


def _row(**kw):
    base = {"sample_id": "s1", "text": "t", "label": "label_0", "last_human_event": 0, "verdict_id": 7,
            "judge_kind": "human", "valid": True, "candidates": None, "alternatives": None}
    return {**base, **kw}


def test_a_choose_question_keeps_every_candidate_it_was_asked_with():
    asked = LABELS[:8]  # a run with choose_k = 8, above the default of five
    q = question_from_row(_row(candidates=asked), LABELS)
    assert 8 > DEFAULT_K and q.candidates == tuple(asked)
    assert list(q.keys()) == [str(i) for i in range(1, 9)]


def test_the_keys_stop_at_nine_and_unknown_labels_are_dropped():
    q = question_from_row(_row(candidates=["gone", *LABELS[:11]]), LABELS)
    assert q.candidates == tuple(LABELS[:9])


def test_a_yes_no_verdict_asks_the_label_then_k_alternatives_nobody_rejected():
    q = question_from_row(_row(alternatives=LABELS[1:10]), LABELS, rejected={"label_2"})
    assert q.candidates == ("label_0", "label_1", "label_3", "label_4", "label_5")
