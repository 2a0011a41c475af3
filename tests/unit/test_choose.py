"""Choose questions on arrays: building the request, the candidates offered, the simulated
choose judge's error model, the calibration of its answers and the loop in choose mode."""

import json

import numpy as np
import pytest

from red_app.errors import ConfigError
from red_app.judges.base import Candidate, JudgeRequest, Verdict
from red_app.judges.prompts import (
    choice_from_probabilities,
    choice_probabilities,
    choose_json_messages,
    choose_messages,
    choose_schema,
    parse_choice,
)
from red_app.judges.simulated import REALISTIC, ExpertProfile, SimulatedJudge, parse_profile
from red_app.method.config import CHOICES, LoopConfig
from red_app.method.delegation import ChoiceProfile, Delegation, calibrate_choice
from red_app.method.loop import LoopData, LoopState, PoolScores, RedLoop
from red_app.method.questions import build_choose_request
from red_app.method.subsets import LabelPartition


def _partition(n_labels: int, n: int = 5) -> LabelPartition:
    """A fixed partition: the loop on arrays without UMAP's compile time."""
    return LabelPartition([list(range(k, min(k + n, n_labels))) for k in range(0, n_labels, n)],
                          np.zeros((n_labels, 2)), "fixed", n)


def _blobs(labels=12, per=40, seeds=3, dim=16, noise=0.9, seed=0):
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(labels, dim))
    X = np.concatenate([C[k] + noise * rng.normal(size=(per, dim)) for k in range(labels)]).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.repeat(np.arange(labels), per)
    ids = [f"s{i}" for i in range(len(y))]
    names = [f"label_{k}" for k in range(labels)]
    is_seed = np.zeros(len(y), bool)
    for k in range(labels):
        is_seed[k * per : k * per + seeds] = True
    data = LoopData(ids=ids, texts=[f"text {i}" for i in ids], X=X, label_names=names,
                    descriptions={names[0]: "the first label"})
    return data, y, is_seed, {ids[i]: names[y[i]] for i in range(len(y))}


def test_choose_is_a_declared_setting_and_the_default():
    assert CHOICES["question"] == ("binary", "choose")
    assert LoopConfig().question == "choose"  # it won every benchmark (bench/REPORT.md); binary stays selectable
    assert LoopConfig(question="binary").question == "binary"
    with pytest.raises(ConfigError):
        LoopConfig(question="pick")
    with pytest.raises(ConfigError):
        LoopConfig(choose_k=1)


def test_a_choose_request_keeps_the_candidate_order_and_never_shows_the_text_as_its_own_example():
    data, y, is_seed, _ = _blobs()
    state = LoopState(y=np.where(is_seed, y, -1))
    i = 0  # a seed of label 0: it must not appear among label 0's examples
    req = build_choose_request(data, state, i, [3, 0, 7])
    assert req.is_choice and req.candidate_labels() == ("label_3", "label_0", "label_7")
    assert req.label == "label_3" and req.alternatives == ("label_0", "label_7")
    assert req.candidates[1].description == "the first label"
    for cand, lab in zip(req.candidates, [3, 0, 7]):
        assert cand.examples and all(data.ids[i] != e.id for e in cand.examples)
        assert all(y[data.ids.index(e.id)] == lab for e in cand.examples)


def test_pool_candidates_leave_out_rejected_labels_and_keep_the_score_order():
    S = np.array([[0.5, 0.3, 0.0, 0.2], [0.1, 0.2, 0.3, 0.4]])  # label 2 of row 0 was rejected (masked)
    order = np.argsort(-S, axis=1)
    scores = PoolScores(pool=np.array([10, 11]), S=S, assigned=np.ones(2, bool), order=order, pred=order[:, 0],
                        uncertainty=np.zeros(2), top=S.max(1), uncertain_mask=np.ones(2, bool), prior=S)
    labs, ranks = scores.candidates(0, 5)
    assert labs.tolist() == [0, 1, 3] and ranks.tolist() == [0, 1, 2]
    labs, _ = scores.candidates(1, 2)
    assert labs.tolist() == [3, 2]


def _choice_calibration(prof, judge_auc, wrong_caught, right_rejected, informative=True):
    """A choose judge's seed measurement with the given profile and figures (200 answered)."""
    from red_app.method.delegation import Calibration

    return Calibration(None, temperature=1.0, pairs=200, answered=200, judge_auc=judge_auc, classifier_auc=None,
                       combined_auc=None, agreement=judge_auc, wrong_caught=wrong_caught,
                       right_rejected=right_rejected, median_latency_ms=None, informative=informative, reason="",
                       choice=prof)


def _req(sid, labels):
    return JudgeRequest(sid, "t", labels[0], candidates=tuple(Candidate(x) for x in labels))


def test_the_perfect_simulated_judge_picks_the_gold_or_none():
    j = SimulatedJudge({"a": "x", "b": "z"})
    v = j.judge(_req("a", ["y", "x", "w"]))
    assert v.valid and v.choice == "x"
    v = j.judge(_req("b", ["y", "x", "w"]))
    assert v.valid is False and v.choice is None


def test_the_realistic_choose_judge_misses_a_present_gold_rarely_and_names_plausible_wrong_labels():
    n = 4000
    gold = {f"s{i}": "g" for i in range(n)}
    j = SimulatedJudge(gold, p_valid_right=REALISTIC[0], p_valid_wrong=REALISTIC[1], seed=3)
    present = [j.judge(_req(f"s{i}", ["a", "g", "b"])) for i in range(n)]
    absent = [j.judge(_req(f"s{i}", ["a", "b", "c"])) for i in range(n)]
    hit = np.mean([v.choice == "g" for v in present])
    wrong_when_present = [v.choice for v in present if v.choice not in ("g", None)]
    named = [v.choice for v in absent if v.choice is not None]
    assert abs(hit - REALISTIC[0]) < 0.015
    assert abs(len(named) / n - REALISTIC[1]) < 0.03
    # a wrong pick falls on any wrong candidate, likelier where the classifier ranked it higher
    # (weights 1, 1/2, 1/3 by rank): never only the first, as the old simulator did
    shares = {lab: named.count(lab) / len(named) for lab in "abc"}
    assert shares["a"] == pytest.approx(6 / 11, abs=0.04) and shares["b"] == pytest.approx(3 / 11, abs=0.04)
    assert shares["c"] == pytest.approx(2 / 11, abs=0.04)
    assert set(wrong_when_present) == {"a", "b"} and wrong_when_present.count("a") > wrong_when_present.count("b")
    # re-asking gives the same answer
    assert j.judge(_req("s1", ["a", "b", "c"])).choice == absent[1].choice


def test_a_profile_sets_position_bias_none_rates_and_survives_a_file(tmp_path):
    n = 3000
    gold = {f"s{i}": "g" for i in range(n)}
    # finds the right label at A 90% of the time but at D only 30%; never says none; wrong picks go to A or D
    prof = ExpertProfile("letter-biased", hit=(0.9, 0.6, 0.5, 0.3), none_present=0.0, none_absent=0.0,
                         wrong=(5.0, 0.0, 0.0, 4.0))
    j = SimulatedJudge(gold, profile=prof, seed=1)
    at_a = np.mean([j.judge(_req(f"s{i}", ["g", "x", "y", "z"])).choice == "g" for i in range(n)])
    at_d = np.mean([j.judge(_req(f"s{i}", ["x", "y", "z", "g"])).choice == "g" for i in range(n)])
    assert at_a == pytest.approx(0.9, abs=0.02) and at_d == pytest.approx(0.3, abs=0.03)
    absent = [j.judge(_req(f"s{i}", ["w", "x", "y", "z"])).choice for i in range(n)]
    assert None not in absent and set(absent) == {"w", "z"}
    assert absent.count("w") / n == pytest.approx(5 / 9, abs=0.03)
    assert not j.trusted and SimulatedJudge(gold).trusted
    # a profile file is read back as the same profile; a bad one is refused with the reason
    path = tmp_path / "judge.json"
    path.write_text(json.dumps(prof.to_dict()))
    assert parse_profile(str(path)) == prof
    assert parse_profile("embedded-1.5b").none_absent == 0.0
    assert parse_profile("0.8,0.3") == ExpertProfile.yes_leaning(0.8, 0.3)
    path.write_text(json.dumps({**prof.to_dict(), "hit": [1.5]}))
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_profile(str(path))
    path.write_text(json.dumps({**prof.to_dict(), "shoe_size": 3}))
    with pytest.raises(ValueError, match="unknown keys shoe_size"):
        parse_profile(str(path))
    with pytest.raises(ValueError, match="cannot read"):
        parse_profile(str(tmp_path / "missing.json"))


def test_a_profile_fitted_on_a_judges_seed_answers_reproduces_its_habits():
    from red_app.workflows.judge_eval import fit_profile

    data, y, is_seed, gold = _blobs(seeds=8)
    state = LoopState(y=np.where(is_seed, y, -1))
    biased = ExpertProfile("biased", hit=(0.95, 0.5), none_present=0.0, none_absent=0.4, wrong=(1.0, 0.0, 0.0, 1.0))
    cal = calibrate_choice(data, state, SimulatedJudge(gold, profile=biased, seed=4), n=60, k=4)
    fitted = fit_profile(cal.judged, gold, "choose", "fitted")
    assert fitted.none_present == 0.0 and fitted.none_absent == pytest.approx(0.4, abs=0.15)
    assert fitted.hit[0] > 0.8  # found at A nearly always
    assert fitted.wrong[1] == fitted.wrong[2] == 1.0  # never picked B or C wrongly: only the smoothing
    assert fitted.wrong[0] > 1.0 and fitted.wrong[3] > 1.0


def test_a_choice_is_applied_only_where_its_probability_clears_the_target():
    # a yes-leaning profile: finds the gold 97% when offered, names the first candidate 55% when not
    prof = ChoiceProfile(k=3, n_present=100, hits=97, none_present=3, n_absent=100, picks_absent=(55, 0, 0),
                         none_absent=45, picks_wrong_present=(0, 0, 0))
    d = Delegation(_choice_calibration(prof, judge_auc=0.7, wrong_caught=0.45, right_rejected=0.03), target=0.9)
    labels = ["a", "b", "c"]
    pick = lambda lab: Verdict(valid=True, confidence=1.0, choice=lab)  # noqa: E731
    none = Verdict(valid=False, confidence=1.0)
    # the first candidate at a middling prior: a pick of it is what this judge does anyway
    assert d.decide_choice(pick("a"), labels, [0.5, 0.2, 0.1])[0] == "review"
    # a later candidate: this judge picks it only when it is right
    dec, p = d.decide_choice(pick("b"), labels, [0.5, 0.2, 0.1])
    assert dec == "valid" and p >= 0.9
    # the first candidate with a high prior clears the target
    assert d.decide_choice(pick("a"), labels, [0.9, 0.05, 0.02])[0] == "valid"
    # "none" rejects every candidate only where the gold is likely absent anyway
    assert d.decide_choice(none, labels, [0.05, 0.02, 0.01])[0] == "invalid"
    assert d.decide_choice(none, labels, [0.6, 0.2, 0.1])[0] == "review"
    # an answer naming no candidate is an error, a pending one waits for people
    assert d.decide_choice(pick("zzz"), labels, [0.5, 0.2, 0.1])[0] == "error"
    assert d.decide_choice(Verdict(valid=None, confidence=0.0, pending=True), labels, [0.5, 0.2, 0.1])[0] == "review"
    # eligible rows: some pick could clear the target
    ok = d.choice_eligible(np.array([[0.5, 0.2, 0.1], [0.2, 0.3, 0.01], [0.2, 0.01, 0.01]]))
    assert ok.tolist() == [True, True, False]
    # a profile survives the run record
    assert ChoiceProfile.from_dict(prof.to_dict()) == prof


def test_calibrating_a_choose_judge_on_seeds_tells_a_perfect_from_a_yes_leaning_one():
    data, y, is_seed, gold = _blobs(seeds=6)
    state = LoopState(y=np.where(is_seed, y, -1))
    good = calibrate_choice(data, state, SimulatedJudge(gold), n=30, k=4)
    assert good.answered == 60 and good.choice.hits == good.choice.n_present == 30
    assert good.choice.none_absent == 30 and good.informative
    leaning = calibrate_choice(data, state, SimulatedJudge(gold, p_valid_right=0.97, p_valid_wrong=0.55, seed=2),
                               n=30, k=4)
    # wrong picks fall on every rank, most on the classifier's first
    picks = leaning.choice.picks_absent
    assert picks[0] > 5 and picks[0] >= max(picks[1:]) and sum(picks[1:]) > 0
    # the measurement's questions offered the seed's own label (present) or not (absent), 4 candidates each
    for req, _, present in leaning.judged:
        assert len(req.candidates) == 4 and (gold[req.sample_id] in req.candidate_labels()) == present


@pytest.mark.parametrize("profile", [None, REALISTIC])
def test_the_loop_in_choose_mode_labels_more_than_binary_for_the_same_calls(profile):
    data, y, is_seed, gold = _blobs(labels=15, per=40, noise=1.0)
    out = {}
    for q in ("binary", "choose"):
        state = LoopState(y=np.where(is_seed, y, -1))
        judge = SimulatedJudge(gold, p_valid_right=profile[0] if profile else None,
                               p_valid_wrong=profile[1] if profile else None, seed=1)
        loop = RedLoop(LoopConfig(budget=200, batch=100, question=q, patience=None, n=5), judge,
                       partition=_partition(15))
        list(loop.run(data, state))
        new = (state.y >= 0) & ~is_seed
        out[q] = (int(new.sum()), float((state.y[new] == y[new]).mean()), state)
        assert state.calls <= 200
    if profile is None:
        assert out["choose"][0] >= 1.5 * out["binary"][0] and out["choose"][1] == 1.0
        # a "none" excluded every candidate it was offered
        assert len(out["choose"][2].excluded) > 0
    else:
        assert out["choose"][1] >= 0.9  # applied picks clear the precision target


def test_prompts_letter_the_candidates_and_read_the_answer():
    req = _req("s", ["refund", "card_lost", "top_up"])
    msgs = choose_messages(req)
    assert "A. refund —" in msgs[-1]["content"] and "C. top_up —" in msgs[-1]["content"]
    assert msgs[-1]["content"].startswith("Text to label") and msgs[-1]["content"].count("</text>") == 1
    probs, p_none = choice_probabilities([{"token": "B", "logprob": np.log(0.6)}, {"token": " none", "logprob": np.log(0.3)},
                                          {"token": "b", "logprob": np.log(0.05)}], 3)
    assert probs == pytest.approx([0.0, 0.6, 0.0]) and p_none == pytest.approx(0.3)
    choice, conf, extra = choice_from_probabilities(req, probs, p_none)
    assert choice == "card_lost" and conf == pytest.approx(0.6 / 0.9)
    assert choice_from_probabilities(req, [0.1, 0.0, 0.0], 0.5)[0] is None
    with pytest.raises(ValueError):
        choice_from_probabilities(req, [0.0, 0.0, 0.0], 0.0)
    assert choose_schema(req)["properties"]["choice"]["enum"] == ["refund", "card_lost", "top_up", "none"]
    assert parse_choice('{"choice": "top_up", "confidence": 0.8, "rationale": "x"}', req)[0] == "top_up"
    assert parse_choice('{"choice": "none", "confidence": 0.8, "rationale": "x"}', req)[0] is None
    with pytest.raises(ValueError):
        parse_choice('{"choice": "other", "confidence": 0.8}', req)
    assert "top_up" in choose_json_messages(req)[-1]["content"]


def test_a_simulated_person_answers_held_verdicts_within_their_budget_and_errs_like_one():
    from red_app.workflows.bench_sink import BenchSink

    data, y, is_seed, gold = _blobs(labels=15, per=40, noise=1.0)
    results = {}
    for budget in (0, 25):
        state = LoopState(y=np.where(is_seed, y, -1))
        # a judge right 80% of the time: the answers that cannot clear the precision target are held
        judge = SimulatedJudge(gold, profile=ExpertProfile.symmetric(0.8), seed=1)
        sink = BenchSink(y, person_budget=budget, person_accuracy=0.8, seed=2)
        loop = RedLoop(LoopConfig(budget=150, batch=50, patience=None, n=5), judge, sink=sink,
                       partition=_partition(15))
        list(loop.run(data, state))
        decided = sorted(state.decided)
        results[budget] = (sink, decided, state)
    none_sink, none_decided, none_state = results[0]
    assert none_sink.person_answers == 0 and not none_decided and len(none_state.held) > 25
    sink, decided, state = results[25]
    assert sink.person_answers == len(decided) == 25  # the budget, no more
    assert state.calls <= 150  # a person's answer costs no judge call
    right = int((state.y[decided] == y[decided]).sum())
    assert right == sink.person_right and 15 <= right < 25  # people err too (80% here)
    assert sink.tokens > 150 * 50  # every judge question's prompt counted, measuring on seeds included


def test_the_chance_an_answer_is_applied_weighs_what_the_loop_asks_about():
    # finds an offered right label 90% of the time; wrong picks mostly at A; "none" when absent 80%
    prof = ChoiceProfile(k=3, n_present=98, hits=88, none_present=0, n_absent=98, picks_absent=(15, 3, 0),
                         none_absent=80, picks_wrong_present=(6, 2, 2))
    cal = _choice_calibration(prof, judge_auc=0.9, wrong_caught=0.8, right_rejected=0.1)
    d = Delegation(cal, target=0.9)
    priors = np.array([[0.9, 0.05, 0.02], [0.4, 0.3, 0.2], [0.02, 0.01, 0.01]])
    p = d.choice_applied(priors)
    # row 0: a pick of A clears the target and is what the judge nearly always answers
    right = 0.9 * prof.p_hit
    pick_a = right + 0.07 * prof.pick_wrong_present(0) + 0.03 * prof.pick_absent(0)
    assert right >= 0.9 * pick_a and p[0] >= pick_a - 1e-9
    # row 1: three plausible labels: only some of the judge's possible answers would clear the target
    assert 0.0 < p[1] < p[0]
    # at a stricter target nothing it could answer about row 1 clears: the chance is 0, and it is not eligible
    strict = Delegation(cal, target=0.99)
    assert strict.choice_applied(priors)[1] == 0.0 and not strict.choice_eligible(priors[1:2])[0]
    # row 2: the right label is almost surely absent: a "none" is applied
    assert p[2] == pytest.approx(0.96 * prof.p_none_absent + 0.04 * prof.p_none_present, rel=0.05)
    # every answer clearing a near-zero target: the chances of the judge's answers are a whole
    assert Delegation(cal, target=1e-9).choice_applied(priors) == pytest.approx([1.0, 1.0, 1.0])
    # the weighting keeps the uncertainty's order where the chances are equal, whatever its sign
    # (band's scores are ≤ 0), and a text whose answer cannot be applied goes last
    from red_app.method.delegation import weigh_by_applied

    band = np.array([-0.5, -0.1, -0.3])
    assert np.argsort(-weigh_by_applied(band, np.array([0.5, 0.5, 0.5]))).tolist() == [1, 2, 0]
    assert np.argsort(-weigh_by_applied(band, np.array([0.5, 0.0, 0.5]))).tolist()[-1] == 1
    assert weigh_by_applied(band, None) is not None and (weigh_by_applied(band, None) == band).all()
    # a judge taken at its word: every answer applies; one measured as adding nothing: none does
    assert Delegation(None).choice_applied(priors).tolist() == [1.0, 1.0, 1.0]
    unhelpful = _choice_calibration(prof, judge_auc=0.5, wrong_caught=0.5, right_rejected=0.5, informative=False)
    assert Delegation(unhelpful, target=0.9).choice_applied(priors).tolist() == [0.0, 0.0, 0.0]
