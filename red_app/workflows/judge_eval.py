"""How good is a judge on this project? `red judge-eval`.

Two ways to measure, both storing every verdict with its audit record (purpose
``eval``, never applied) so P(yes) can be read back:

- ``from_seeds`` — no gold needed: seeds under their own and their most plausible wrong
  label, exactly the measurement a run makes before it applies any verdict
  (:func:`red_app.method.delegation.calibrate`);
- hidden gold — the proposals the loop's first iteration would send (its most uncertain
  predictions, per-label cap), checked against the gold.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

import numpy as np

from ..errors import ConfigError, RedError
from .inputs import load_inputs
from ..judges.base import Judge
from ..judges.simulated import ExpertProfile
from ..method.config import CHOICES, DEFAULTS
from ..method.delegation import Delegation, calibrate, calibrate_choice, roc_auc, verdict_score
from ..method.loop import RedLoop
from ..method.questions import build_request
from ..project.store import Project
from .runner import verdict_row


def judge_eval(project: Project, judge: Judge, n: int = 100, seed: int = 0, from_seeds: bool = False,
               question: str = DEFAULTS.question, choose_k: int = DEFAULTS.choose_k) -> dict:
    """Measure ``judge`` on ``n`` proposals (hidden gold) or ``n`` seeds (``from_seeds``).

    On seeds the judge is asked the ``question`` a run would ask it: choose questions (each
    seed once with its own label among ``choose_k`` candidates, once without it), or binary
    ones (each seed under its own and its most plausible wrong label)."""
    if question not in CHOICES["question"]:
        raise ConfigError(f"question must be one of {', '.join(CHOICES['question'])}, not {question!r}")
    data, state = load_inputs(project)
    t0 = time.perf_counter()
    if from_seeds:
        cal = (calibrate_choice(data, state, judge, n=n, k=choose_k, seed=seed) if question == "choose"
               else calibrate(data, state, judge, n=n, seed=seed, c_examples=DEFAULTS.c_examples))
        judged = [(req, v) for req, v, _ in cal.judged]
        result = cal.as_result(question, choose_k)
        try:
            result["profile"] = fit_profile(cal.judged, project.seed_labels(), question,
                                            f"{judge.describe()}, {question}, fitted on seeds").to_dict()
        except RedError as exc:  # too few answers: the figures still stand, there is just no profile
            result["profile"], result["profile_missing"] = None, str(exc)
    else:
        result, judged = on_gold_sample(data, state, judge, n)
    result.update({"judge": judge.describe(), "kind": judge.kind, "model": judge.model,
                   "seconds": time.perf_counter() - t0})
    if not project.read_only:
        project.record_verdicts(None, None, [{**verdict_row(req, v, judge), "purpose": "eval", "applied": False}
                                             for req, v in judged])
        remember(project, result)
    return result


def fit_profile(judged, own: dict, question: str, name: str) -> ExpertProfile:
    """A simulated expert that errs as this judge did on seeds (``--save-profile``), so the
    benchmark can run with its habits. ``judged``: (request, verdict, own label offered / pair
    right) from the seed measurement; ``own``: sample id → the seed's label.

    Binary: its two rates, P(valid | right) and P(valid | wrong). Choose: how often it found
    the right label at each position, its "none" rates with the right label offered and not,
    and where its wrong picks fell (position bias and plausibility together), each smoothed."""
    answered = [(r, v, flag) for r, v, flag in judged if v.valid is not None]
    if not answered:
        raise RedError("the judge answered none of the seed questions: there is no profile to save")
    if question == "binary":
        right = [bool(v.valid) for _, v, ok in answered if ok]
        wrong = [bool(v.valid) for _, v, ok in answered if not ok]
        if not right or not wrong:
            raise RedError("a binary profile needs answers on right and on wrong pairs; ask more seeds (--n)")
        return ExpertProfile.yes_leaning(float(np.mean(right)), float(np.mean(wrong)))
    k = max(len(r.candidates) for r, _, _ in answered)
    offered, hits, wrong_at = np.zeros(k), np.zeros(k), np.ones(k)  # wrong picks: add-one smoothed
    n_present = none_present = n_absent = none_absent = 0
    for req, v, present in answered:
        labels, truth = req.candidate_labels(), own.get(req.sample_id)
        if present and truth in labels:
            g = labels.index(truth)
            offered[g] += 1
            n_present += 1
            hits[g] += v.choice == truth
            none_present += v.choice is None
        elif not present:
            n_absent += 1
            none_absent += v.choice is None
        if v.choice is not None and v.choice != truth and v.choice in labels:
            wrong_at[labels.index(v.choice)] += 1
    if not n_present or not n_absent:
        raise RedError("a choose profile needs questions with the right label offered and without; ask more seeds")
    overall = hits.sum() / n_present  # a position seldom offered leans on the overall rate
    hit = tuple(float((hits[r] + 2 * overall) / (offered[r] + 2)) for r in range(k))
    return ExpertProfile(name, hit=hit, none_present=none_present / n_present, none_absent=none_absent / n_absent,
                         wrong=tuple(float(x) for x in wrong_at), p_valid_right=float(overall),
                         p_valid_wrong=float(1 - none_absent / n_absent),
                         source=f"red judge-eval --from-seeds: {n_present + n_absent} choose questions")


def remember(project: Project, result: dict) -> None:
    """Keep a judge's measured figures, so wherever this judge is chosen they are shown."""
    project.remember_judge(result["kind"], result["model"], result)


def on_gold_sample(data, state, judge: Judge, n: int) -> tuple[dict, list]:
    """The judge on the ``n`` proposals a first iteration would send, against gold (arrays only):
    AUC, agreement and the base rate (the share of proposals that are right: what a judge that
    always says yes agrees), wrong caught, right rejected, latency. Returns (figures, [(request, verdict)])."""
    if data.gold is None:
        raise RedError("judge-eval needs samples with hidden gold (import a labeled file with --mode hidden-gold), "
                       "or measure on seeds with --from-seeds")
    # the proposals a run's first iteration sends: the selector's most uncertain predictions
    loop = RedLoop(DEFAULTS, judge, delegation=Delegation(None))
    known = data.gold >= 0
    scores = loop.score_pool(loop.fit_model(DEFAULTS.selector, data, state), data, state)
    u = np.where(known[scores.pool], scores.uncertainty, -np.inf)  # only where the truth is known
    k = min(n, int(known[scores.pool].sum()))
    if not k:
        raise RedError("no unlabeled pool sample has a hidden gold label")
    chosen = loop.select(replace(scores, uncertainty=u), state, len(data.label_names), np.random.default_rng(0))[:k]
    chosen = chosen[known[scores.pool[chosen]]]
    pick = scores.pool[chosen]
    pred = scores.pred[chosen]
    reqs = [build_request(data, state, int(i), int(p), c_examples=DEFAULTS.c_examples) for i, p in zip(pick, pred)]
    verdicts = judge.judge_many(reqs)
    truth = np.array([data.gold[i] == p for i, p in zip(pick, pred)])
    ok = np.array([v.valid is not None for v in verdicts])
    said = np.array([bool(v.valid) for v in verdicts])
    tp = int((said & truth & ok).sum())
    lat = [v.latency_ms for v in verdicts if v.valid is not None and not v.cached]
    score = np.array([verdict_score(v) if v.valid is not None else np.nan for v in verdicts])
    result = {
        "mode": "gold", "asked": len(reqs), "answered": int(ok.sum()), "errors": int((~ok).sum()),
        "predictions_correct": float(truth.mean()),  # the base rate: an always-yes judge's agreement
        "accuracy": float((said[ok] == truth[ok]).mean()) if ok.any() else None,
        "precision_valid": tp / max(int((said & ok).sum()), 1),
        "recall_valid": tp / max(int((truth & ok).sum()), 1),
        "wrong_caught": float((~said[ok & ~truth]).mean()) if (ok & ~truth).any() else None,
        "right_rejected": float((~said[ok & truth]).mean()) if (ok & truth).any() else None,
        "auc": roc_auc(score[ok], truth[ok]),
        "classifier_auc": roc_auc(scores.prior[chosen, 0][ok], truth[ok]),
        "median_latency_ms": statistics.median(lat) if lat else None,
    }
    return result, list(zip(reqs, verdicts))


def describe_result(res: dict) -> str:
    """What `red judge-eval` prints and the Run page shows: plain text, no markup."""
    pct = lambda v: "–" if v is None else f"{v:.1%}"  # noqa: E731
    f2 = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    lat = "–" if res.get("median_latency_ms") is None else f"{res['median_latency_ms']:.0f} ms"
    head = f"{res['judge']}: {res['answered']} of {res['asked']} answered ({res['errors']} errors)"
    if res.get("mode") == "seeds":
        how = (f"choose questions on seeds (each seed once with its own label among {res.get('choose_k')} "
               "candidates, once without it)" if res.get("question") == "choose"
               else "seed pairs (each seed under its own and its most plausible wrong label)")
        return "\n".join([head + f" on {how}",
                          f"ROC AUC {f2(res['auc'])} (classifier {f2(res['classifier_auc'])}, both "
                          f"{f2(res['combined_auc'])}); agreement {pct(res['accuracy'])}, wrong caught "
                          f"{pct(res['wrong_caught'])}, right rejected {pct(res['right_rejected'])}; median latency {lat}",
                          res["summary"].split(". ", 1)[-1]])
    return "\n".join([head + f"; {pct(res['predictions_correct'])} of the proposals were right",
                      f"agreement with gold {pct(res['accuracy'])}, precision on 'valid' {pct(res['precision_valid'])}, "
                      f"recall {pct(res['recall_valid'])}, wrong caught {pct(res.get('wrong_caught'))}, right rejected "
                      f"{pct(res.get('right_rejected'))}, ROC AUC {f2(res.get('auc'))} (classifier "
                      f"{f2(res.get('classifier_auc'))}), median latency {lat}"])


def remembered(project: Project, kind: str, model: str | None) -> dict | None:
    """A judge's latest measured figures on this project, or None."""
    return project.remembered_judge(kind, model)
