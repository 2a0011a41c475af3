"""`red undo`, `red bulk-review`: take back a decision; decide every verdict a filter matches."""

from __future__ import annotations

import sys

from .common import add_reviewer, clean

DECISIONS = ("right", "wrong", "another")
JUDGE_SAID = ("valid", "invalid", "needs_review")


def cmd_undo(a) -> int:
    from ..project.store import Project
    from ..workflows.review import undo_last

    with Project(a.project) as p:
        done = undo_last(p, a.reviewer)
    ids = done["sample_ids"]
    shown = ", ".join(clean(s) for s in ids[:5]) + (" …" if len(ids) > 5 else "")
    print(f"undone: {clean(a.reviewer)}'s decision of {done['created_at']:%Y-%m-%d %H:%M:%S} "
          f"({len(done['event_ids'])} event(s) on {len(ids)} text(s): {shown}); the events stay in the history")
    return 0


def cmd_bulk_review(a) -> int:
    from ..errors import RedError
    from ..project.store import Project
    from ..workflows.review import bulk_decide, queue_size

    filters = dict(label=a.label, verdict=a.judge, min_conf=a.min_confidence, max_conf=a.max_confidence)
    with Project(a.project) as p:
        n = queue_size(p, a.status, **filters)
        what = {"right": "right", "wrong": "wrong", "another": f"wrong, and {a.to_label} right"}[a.decision]
        print(f"{n} verdicts match ({a.status}); each proposed label would be recorded as {clean(what)} "
              f"by {clean(a.reviewer)}, one event per text")
        if not n:
            return 0
        if not a.yes:
            if not sys.stdin.isatty():
                raise RedError("confirm with --yes (no terminal to ask on)")
            if input(f"record {n} decisions? [y/N] ").strip().lower() not in ("y", "yes"):
                print("nothing recorded")
                return 0
        done = bulk_decide(p, reviewer=a.reviewer, action=a.decision, expected=n, status=a.status,
                           to_label=a.to_label, **filters)
    print(f"recorded {done} decisions as one action; `red undo {clean(a.project)} --reviewer "
          f"{clean(a.reviewer)}` takes them all back")
    return 0


def register(sub) -> None:
    p = sub.add_parser("undo", help="take back your last review decision (kept in the history)",
                       description="Revoke the reviewer's newest decision still in force — one decision, an "
                       "override's two events, or a whole bulk decision. Nothing is deleted: a revocation is "
                       "appended, the label is derived again without the decision, and the audit shows both.")
    p.add_argument("project")
    add_reviewer(p, "whose last decision to undo")
    p.set_defaults(func=cmd_undo)

    p = sub.add_parser("bulk-review", help="decide every judge verdict a filter matches",
                       description="Record the same decision about the proposed label of every undecided judge "
                       "verdict the filters match (e.g. --judge valid --label X --min-confidence 0.9): a count, "
                       "a confirmation, one event per text, all in one transaction and undone together.")
    p.add_argument("project")
    p.add_argument("--decision", choices=DECISIONS, required=True,
                   help="right: the proposed labels are right; wrong: they are wrong; another: --to-label is right")
    p.add_argument("--to-label", default=None, help="the right label (with --decision another)")
    p.add_argument("--judge", choices=JUDGE_SAID, default=None,
                   help="only verdicts where the judge said this (needs_review: its answer was not applied)")
    p.add_argument("--label", default=None, help="only this proposed label")
    p.add_argument("--min-confidence", type=float, default=None, help="judge confidence at least")
    p.add_argument("--max-confidence", type=float, default=None, help="judge confidence at most")
    p.add_argument("--status", choices=("pending", "needs_review"), default="pending",
                   help="pending: nobody decided yet (default); needs_review: pending and not applied")
    add_reviewer(p, "recorded with every decision")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_bulk_review)
