"""`red audit-sample`, `red audit-answer`, `red quality`: the labels' quality without gold."""

from __future__ import annotations

import json
import math

from .common import add_reviewer, clean, read_rows


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1%}"


def _ci(e: dict) -> str:
    from ..workflows.audit import estimate_text

    return estimate_text(e)


def _json_safe(value):
    """NaN (no answers yet) as null: JSON has no NaN, and strict parsers refuse it."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def cmd_audit_sample(a) -> int:
    from ..workflows.audit import draw_audit
    from ..project.store import Project

    with Project(a.project) as p:
        rep = draw_audit(p, a.n, seed=a.seed)
    print(rep.summary())
    for key, k in sorted(rep.strata.items()):
        print(f"  {clean(key):<20} {k:>5}")
    print(f"list its texts with: red audit-items {clean(a.project)}")
    return 0


def cmd_audit_items(a) -> int:
    """The active audit's texts, so each can be answered with `red audit-answer`."""
    from ..workflows.audit import current_audit
    from ..project.store import Project

    with Project(a.project, read_only=True) as p:
        audit, items = current_audit(p)
    if a.pending:
        items = items[~items.answered.astype(bool)]
    if a.json:
        cols = ["sample_id", "label", "origin", "confidence", "answered", "text"]
        rows = [{c: (None if c == "confidence" and r[c] != r[c] else r[c]) for c in cols}
                for r in items[cols].astype(object).to_dict("records")]
        print(json.dumps({"audit_id": int(audit["audit_id"]), "count": len(rows),
                          "items": [{**r, "answered": bool(r["answered"])} for r in rows]}, indent=2, default=str))
        return 0
    print(f"audit {int(audit['audit_id'])}: {len(items)} item(s)" + (" not answered yet" if a.pending else ""))
    for r in items.itertuples():
        mark = "answered" if bool(r.answered) else "open    "
        text = clean(str(r.text)).replace("\n", " ")
        print(f"  {mark}  {clean(r.sample_id):<28} {clean(r.label) or '(fits no label)':<28} {clean(r.origin):<6} "
              f"{r.confidence:5.2f}  {text[:60] + ('…' if len(text) > 60 else '')}")
    print("answer one with: red audit-answer PROJECT SAMPLE_ID right|wrong|fits-none [--label RIGHT_LABEL] --reviewer NAME")
    return 0


def cmd_audit_answer(a) -> int:
    from ..errors import RedError
    from ..project.store import Project
    from ..workflows.audit import answer_item, answer_items

    if a.file:
        if a.sample_id or a.answer or a.label:
            raise RedError("give either --file or SAMPLE_ID ANSWER, not both")
        rows = read_rows(a.file, ("sample_id", "answer"), ("label",))
        with Project(a.project) as p:
            n = answer_items(p, rows, reviewer=a.reviewer)
        print(f"recorded {n} answer(s) from {clean(a.file)} as one action (`red undo` takes them back)")
        return 0
    if not a.sample_id or a.answer not in ("right", "wrong", "fits-none"):
        raise RedError("give SAMPLE_ID and right, wrong or fits-none (or --file with columns sample_id,answer[,label])")
    with Project(a.project) as p:
        answer_item(p, a.sample_id, a.answer, reviewer=a.reviewer, label=a.label)
    print(f"recorded: {clean(a.sample_id)} {a.answer}" + (f" → {clean(a.label)}" if a.label else ""))
    return 0


def cmd_quality(a) -> int:
    from ..workflows.audit import best_coverage, coverage_line, quality_report, set_review_below
    from ..project.store import Project

    with Project(a.project, read_only=a.review_below is None) as p:
        if a.review_below is not None:
            set_review_below(p, a.review_below)
        q = quality_report(p, curve=True)
    if a.review_below is not None:
        print(f"model labels less confident than {a.review_below:g} are now marked needs_review (export default)")
    if a.json:
        if not a.curve:
            q.pop("curve", None)
        print(json.dumps(_json_safe(q), indent=2, default=float))
        return 0
    truth = q.get("truth")
    print(f"audit {q['audit_id']}: {q['answered']} of {q['drawn']} items answered; "
          f"{q['population']:,} labeled pool texts")
    print(f"estimated accuracy (95% interval; {q['method']})")
    print(f"  overall        {_ci(q['overall'])}" + (f"   true {_pct(truth['overall'])}" if truth else ""))
    print("per origin")
    for o, e in q["per_origin"].items():
        t = f"   true {_pct(truth['per_origin'].get(o))}" if truth else ""
        print(f"  {clean(o):<14} {_ci(e)}{t}")
    print(f"judge precision by people: {_ci(q['judge_precision'])}")
    print(f"labels whose text fits no label at all: {_ci(q['fits_none'])}")
    if q["per_label"]:
        print("per label (≥ 5 answered items)")
        for lab, e in q["per_label"].items():
            t = f"   true {_pct(truth['per_label'].get(lab))}" if truth else ""
            print(f"  {clean(lab):<40} {_ci(e)}{t}")
    if a.curve:
        print("confidence ≥ t: share of texts covered, estimated accuracy" + (", true accuracy" if truth else ""))
        for r in q["curve"]:
            t = f"   true {_pct(r.get('true_accuracy'))}" if truth else ""
            print(f"  t={r['threshold']:<5g} covers {_pct(r['coverage']):>6}   {_ci(r)}{t}")
        for target in (0.95, 0.9):
            best = best_coverage(q["curve"], target)
            if best:
                print(coverage_line(best))
                break
    return 0


def register(sub) -> None:
    p = sub.add_parser("audit-sample", help="draw a stratified random sample of current labels for people to verify",
                       description="Draw a random sample of the pool's current labels, stratified by origin and "
                       "confidence band (proportional, at least 3 per stratum). It becomes the active audit: answer "
                       "it on the Review page (Audit sample) or with `red audit-answer`; `red quality` estimates "
                       "the labels' accuracy from the answers.")
    p.add_argument("project")
    p.add_argument("--n", type=int, default=200, help="texts to draw (default 200)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    p.set_defaults(func=cmd_audit_sample)

    p = sub.add_parser("audit-items", help="list the active audit's texts (ids to answer)",
                       description="List the active audit's texts with their label, origin and confidence, so each "
                       "can be answered with `red audit-answer` (or on the Review page, Audit sample).")
    p.add_argument("project")
    p.add_argument("--pending", action="store_true", help="only the items not answered yet")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_audit_items)

    p = sub.add_parser("audit-answer", help="answer one item of the active audit (a human decision)",
                       description="Say whether an audit item's label is right; recorded as an ordinary human "
                       "decision (right: accept; wrong with --label: override; wrong alone: reject; fits-none: the text fits "
                       "none of the project's labels).")
    p.add_argument("project")
    p.add_argument("sample_id", nargs="?", help="the item's id (red audit-items lists them)")
    p.add_argument("answer", nargs="?", choices=["right", "wrong", "fits-none"])
    p.add_argument("--label", default=None, help="the right label, when the answer is wrong")
    p.add_argument("--file", default=None, metavar="CSV",
                   help="answer many items at once: a CSV (or .tsv) with the columns sample_id,answer and optionally "
                   "label; every row is checked first, then all are recorded as one action (all or none)")
    add_reviewer(p)
    p.set_defaults(func=cmd_audit_answer)

    p = sub.add_parser("quality", help="estimated accuracy of the labels from the audit's answers",
                       description="Estimate the accuracy of the pool's labels from the answered items of the "
                       "active audit: overall, per origin, per label (≥ 5 answers) and the judge's precision as "
                       "people measured it, each with a 95% interval. With hidden gold, the true figures too.")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--curve", action="store_true",
                   help="accuracy of labels with confidence ≥ t against the share of texts covered")
    p.add_argument("--review-below", type=float, default=None,
                   help="mark model labels less confident than this needs_review (saved in the project)")
    p.set_defaults(func=cmd_quality)
