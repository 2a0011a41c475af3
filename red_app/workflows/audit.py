"""Quality without gold: draw an audit sample of current labels, let people answer it as
ordinary human decisions, and estimate the labels' accuracy from the answers.

The figures are in :func:`quality_report`; the math is in :mod:`red_app.method.quality`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa

from ..errors import RedError
from ..project.audits import (
    active_audit,
    audit_items,
    audited_population,
    labeled_pool,
    save_audit,
)
from ..project.store import NO_LABEL, Project
from ..method.quality import (
    CURVE_GRID,
    NO_ESTIMATE,
    Estimate,
    draw,
    estimate_items,
    stratum_of,
    wilson,
)
from .review import decide, decide_many, plan_decision

ANSWERS = ("right", "wrong", "fits-none")
MIN_PER_STRATUM = 3
MIN_PER_LABEL = 5
# Fewer answers than this and a figure is not shown: with 2 answers both right, the Wilson
# interval runs from 34% to 100% (and a stratum counted in full reads 100% [100%, 100%]).
MIN_ANSWERS = 10
REVIEW_BELOW = "review_below"


@dataclass(frozen=True)
class AuditReport:
    audit_id: int
    drawn: int
    population: int
    strata: dict

    def summary(self) -> str:
        return (f"audit {self.audit_id}: {self.drawn} of {self.population:,} labeled pool texts drawn from "
                f"{len(self.strata)} strata (origin × confidence band); answer them on the Review page "
                "(Audit sample) or with `red audit-answer`")


FITS_NONE_STRATUM = "judge|fits no label"


def audit_strata(pool) -> np.ndarray:
    """Each labeled pool text's stratum: ``origin|confidence band``, and the judge's "fits no
    label" decisions in one stratum of their own."""
    strata = stratum_of(pool.origin.to_numpy(), pool.confidence.to_numpy())
    strata[(pool.label == NO_LABEL).to_numpy()] = FITS_NONE_STRATUM
    return strata


def draw_audit(project: Project, n: int = 200, seed: int | None = None,
               min_per_stratum: int = MIN_PER_STRATUM) -> AuditReport:
    """Draw a stratified random sample of ``n`` current labels of the pool and store it as
    the active audit."""
    if n < 1:
        raise RedError("an audit sample needs at least 1 text: pass --n 1 or more")
    pool = labeled_pool(project)
    if not len(pool):
        raise RedError("no pool text has a label yet: run the loop or `red predict` first")
    strata = audit_strata(pool)
    idx, weights = draw(strata, n, seed=seed, min_per=min_per_stratum)
    chosen = pool.iloc[idx]
    items = pa.table({
        "sample_id": pa.array(chosen.sample_id.tolist(), pa.string()),
        "stratum": pa.array(strata[idx].tolist(), pa.string()),
        "label": pa.array(chosen.label.tolist(), pa.string()),
        "origin": pa.array(chosen.origin.tolist(), pa.string()),
        "confidence": pa.array(chosen.confidence.astype(float).tolist(), pa.float64()),
        "weight": pa.array(weights.tolist(), pa.float64()),
    })
    audit_id = save_audit(project, n, seed, len(pool), items)
    keys, counts = np.unique(strata[idx], return_counts=True)
    return AuditReport(audit_id, len(idx), len(pool), dict(zip(keys.tolist(), counts.tolist())))


def current_audit(project: Project, audit_id: int | None = None):
    """(audit row, its items with answers) of the active (newest) or the given audit."""
    audit = active_audit(project) if audit_id is None else {"audit_id": audit_id}
    if audit is None:
        raise RedError("no audit sample yet: draw one (Audit page, or red audit-sample PROJECT --n 200)")
    return audit, audit_items(project, int(audit["audit_id"]))


def answer_item(project: Project, sample_id: str, answer: str, reviewer: str, label: str | None = None,
                audit_id: int | None = None) -> list[int]:
    """Record a person's answer on one audit item as an ordinary human decision on the
    item's label: right → accept; wrong with ``label`` → override; wrong alone → reject;
    fits-none → the text fits none of the labels (the label is wrong, and no other is right)."""
    _, items = current_audit(project, audit_id)
    return decide(project, **_answer_plan(project, items, sample_id, answer, reviewer, label, audit_id))


def answer_items(project: Project, answers: Sequence[dict], reviewer: str, audit_id: int | None = None) -> int:
    """Record many answers at once (``sample_id``, ``answer``, ``label`` each, e.g. from a file):
    every answer is checked first, then all are recorded in one transaction as one action —
    all or none, and one undo takes them back. Returns how many were recorded."""
    _, items = current_audit(project, audit_id)
    plans, seen = [], set()
    for k, a in enumerate(answers, start=1):
        sid = a.get("sample_id")
        if sid in seen:
            raise RedError(f"answer {k}: {sid!r} is answered twice in the file; keep one")
        seen.add(sid)
        try:
            plans.append(plan_decision(project, **_answer_plan(project, items, sid, a.get("answer"), reviewer,
                                                               a.get("label") or None, audit_id)))
        except RedError as exc:
            raise RedError(f"answer {k} ({sid!r}): {exc}; nothing was recorded") from None
    return decide_many(project, plans)


def _answer_plan(project: Project, items, sample_id: str, answer: str, reviewer: str, label: str | None,
                 audit_id: int | None) -> dict:
    """The review decision an audit answer is (see :func:`answer_item`)."""
    if answer not in ANSWERS:
        raise RedError(f"answer right, wrong or fits-none (the text fits none of the labels), not {answer!r}")
    row = items[items.sample_id == sample_id]
    if not len(row):
        raise RedError(f"{sample_id!r} is not in the audit sample: list its texts with red audit-items PROJECT")
    item = row.iloc[0]
    if answer == "right":
        action = "accept"
    elif answer == "fits-none":
        action = "fits_none"
    else:
        if label == item["label"]:
            raise RedError(f"{label!r} is the label under audit; answer right, or pick another label")
        action = "override" if label else "reject"
    return dict(sample_id=sample_id, proposed=item["label"], action=action, reviewer=reviewer, label=label,
                seen_event=int(item["last_human_event"]), note=f"audit {int(_aid(project, audit_id))}")


def _aid(project: Project, audit_id: int | None) -> int:
    return int(audit_id if audit_id is not None else active_audit(project)["audit_id"])


def _pop(items) -> dict:
    """Each stratum's population: an item's weight times the items drawn from its stratum."""
    g = items.groupby("stratum")["weight"].agg(["first", "count"])
    return {k: float(r["first"] * r["count"]) for k, r in g.iterrows()}


def _est(e: Estimate, right: int | None = None, drawn: int | None = None) -> dict:
    out = e.as_dict()
    out["too_few"] = e.answered < MIN_ANSWERS
    if right is not None:
        out["right"] = int(right)
    if drawn is not None:
        out["drawn"] = int(drawn)
    return out


def _pct(x) -> str:
    return "–" if x is None or x != x else f"{x:.1%}"


def estimate_text(e: dict) -> str:
    """One estimate in words: ``92.3% [85.1%, 96.2%] · 45 of 50 answers right``; under
    :data:`MIN_ANSWERS` answers, "too few answers" instead of a figure that would mislead."""
    counts = (f"{e['right']} of {e['answered']} answers right" if "right" in e
              else f"{e['answered']} answers")
    if "drawn" in e:
        counts += f", {e['drawn']} drawn"
    if not e["answered"]:
        return "no answers yet" + (f" ({e['drawn']} drawn)" if "drawn" in e else "")
    if e.get("too_few", e["answered"] < MIN_ANSWERS):
        return f"too few answers ({counts}; {MIN_ANSWERS} needed for an estimate)"
    return f"{_pct(e['estimate'])} [{_pct(e['low'])}, {_pct(e['high'])}] · {counts}"


def _fits_none(ans, strata, population: dict, drawn: int) -> dict:
    """"Fits no label" as an answer of its own (issue 20): the estimated share of labels whose
    text fits none of the labels, and how many answers said so (``said``)."""
    said = (ans.human_label.to_numpy() == NO_LABEL) if len(ans) else np.zeros(0, bool)
    out = _est(estimate_items(strata, said, population) if len(ans) else NO_ESTIMATE, drawn=drawn)
    out["said"] = int(said.sum())
    return out


def quality_report(project: Project, audit_id: int | None = None, curve: bool = True) -> dict:
    """Estimated accuracy of the pool's labels from the active audit's answered items.

    ``overall``, ``per_origin``, ``per_label`` (labels with ≥ 5 answered items),
    ``judge_precision`` (judge labels people checked), ``per_stratum`` (plain Wilson), and
    with ``curve`` the accuracy of labels with confidence ≥ t beside the share of texts
    they cover. With hidden gold, ``truth`` holds the same figures measured on the whole
    audited population (labels as drawn).
    """
    audit, items = current_audit(project, audit_id)
    aid = int(audit["audit_id"])
    population = _pop(items)
    ans = items[items.answered.astype(bool)]
    strata = ans.stratum.to_numpy()
    ok = ans.correct.astype(bool).to_numpy()
    est = (lambda mask=None: estimate_items(strata, ok, population, mask)) if len(ans) else (lambda mask=None: NO_ESTIMATE)
    out: dict = {"audit_id": aid, "drawn": int(len(items)), "answered": int(len(ans)),
                 "population": int(round(sum(population.values()))),
                 "method": "stratified estimator; 95% Wilson interval on Kish's effective sample size",
                 "min_answers": MIN_ANSWERS,
                 "overall": _est(est(), int(ok.sum()), len(items))}
    out["per_origin"] = {o: _est(est(ans.origin.to_numpy() == o), int(ok[ans.origin.to_numpy() == o].sum()),
                                 int((items.origin == o).sum()))
                         for o in sorted(items.origin.unique())}
    out["judge_precision"] = out["per_origin"].get("judge", _est(NO_ESTIMATE))
    out["fits_none"] = _fits_none(ans, strata, population, len(items))
    labels = ans.label.value_counts()
    out["per_label"] = {lab: _est(est(ans.label.to_numpy() == lab), int(ok[ans.label.to_numpy() == lab].sum()),
                                  int((items.label == lab).sum()))
                        for lab in sorted(labels[labels >= MIN_PER_LABEL].index)}
    per_stratum = {}
    for key, g in items.groupby("stratum"):
        a = g[g.answered.astype(bool)]
        k = int(a.correct.astype(bool).sum())
        lo, hi = wilson(k, len(a))
        per_stratum[key] = {"population": int(round(population[key])), "drawn": int(len(g)), "answered": int(len(a)),
                            "right": k, "estimate": k / len(a) if len(a) else float("nan"), "low": lo, "high": hi}
    out["per_stratum"] = per_stratum
    pop = audited_population(project, aid)
    gold = pop.gold_label.notna()
    if curve:
        conf_items = ans.confidence.to_numpy()
        conf_pop = pop.confidence.to_numpy()
        rows = []
        for t in CURVE_GRID:
            row = {"threshold": t, "coverage": float((conf_pop >= t).mean()) if len(pop) else float("nan"),
                   **_est(est(conf_items >= t))}
            if gold.any():
                sel = (conf_pop >= t) & gold.to_numpy()
                row["true_accuracy"] = float((pop.label[sel] == pop.gold_label[sel]).mean()) if sel.any() else float("nan")
            rows.append(row)
        out["curve"] = rows
    if gold.any():
        g = pop[gold]
        # "fits no label" is right where the gold label is none of the project's
        right = (g.label == g.gold_label) | ((g.label == NO_LABEL) & ~g.gold_label.isin(project.labels()))
        out["truth"] = {"overall": float(right.mean()), "texts": int(len(g)),
                        "per_origin": {o: float(right[g.origin == o].mean()) for o in sorted(g.origin.unique())},
                        "per_label": {lab: float(right[g.label == lab].mean()) for lab in out["per_label"]}}
    return out


def best_coverage(curve: list[dict], target: float) -> dict | None:
    """The curve point covering most texts whose accuracy reaches ``target`` *by the low end
    of its interval* (not the point estimate: a handful of right answers is no 100%); points
    with too few answers never qualify."""
    ok = [r for r in curve if r["answered"] and not r.get("too_few") and r["low"] >= target]
    return max(ok, key=lambda r: r["coverage"]) if ok else None


def coverage_line(best: dict) -> str:
    """The curve's advice in words, with its interval."""
    return (f"Label {best['coverage']:.0%} of the texts at an estimated {best['estimate']:.1%} accuracy "
            f"(95% interval {best['low']:.1%}–{best['high']:.1%}; confidence ≥ {best['threshold']:g})"
            + ("; send the rest to review." if best["coverage"] < 1 else "."))


def set_review_below(project: Project, threshold: float | None) -> None:
    """Mark model labels less confident than ``threshold`` needs_review (export's default)."""
    if threshold is None:
        project.set_setting(REVIEW_BELOW, "")
        return
    t = float(threshold)
    if not 0.0 <= t <= 1.0:
        raise RedError(f"--review-below must be between 0 and 1, not {threshold!r}")
    project.set_setting(REVIEW_BELOW, repr(t))
