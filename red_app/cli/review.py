"""`red review`: answer the loop's proposals in a terminal, one key each; `red undo`, `red
bulk-review`: take back a decision; decide every verdict a filter matches."""

from __future__ import annotations

import sys

from .common import add_reviewer, clean

DECISIONS = ("right", "wrong", "another")
UNDECIDED = ("pending", "needs_review")  # red_app.project.reviews.UNDECIDED, kept here so --help imports no DuckDB
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
    from ..workflows.review import bulk_decide, bulk_matches, queue_size

    filters = dict(label=a.label, verdict=a.judge, min_conf=a.min_confidence, max_conf=a.max_confidence)
    with Project(a.project) as p:
        n = queue_size(p, a.status, **filters)
        _, fingerprint = bulk_matches(p, status=a.status, **filters)  # the verdicts counted, checked when recording
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
                           to_label=a.to_label, fingerprint=fingerprint, **filters)
    print(f"recorded {done} decisions as one action; `red undo {clean(a.project)} --reviewer "
          f"{clean(a.reviewer)}` takes them all back")
    return 0


def read_key(prompt: str) -> str:
    """One key from the terminal (no Enter needed), or one line where stdin is not a terminal."""
    print(prompt, end="", flush=True)
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            return "q"
        return line.strip()[:1] or "s"
    import termios
    import tty

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        key = sys.stdin.read(1)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, old)
    print(key)
    return "q" if key in ("\x03", "\x04") else key


def read_label(labels: list[str]) -> str | None:
    """A label found by typing part of its name (the search behind ``o``); None: given up."""
    while True:
        print("  search every label (Enter alone: back): ", end="", flush=True)
        typed = sys.stdin.readline().strip().lower()
        if not typed:
            return None
        hits = [lab for lab in labels if typed in lab.lower()]
        if len(hits) == 1 or (hits and hits[0].lower() == typed):
            return hits[0]
        print("  " + (", ".join(clean(h) for h in hits[:12]) + (" …" if len(hits) > 12 else "")
                      if hits else "no label contains that"))


def _show(q, descriptions: dict) -> None:
    print("\n" + "─" * 72)
    if q.kind == "judge" and q.judge_said:
        print(f"the judge said: {clean(q.judge_said)}")
    print(clean(q.text)[:2000])
    for key, lab in q.keys().items():
        desc = (descriptions.get(lab) or {}).get("description")
        print(f"  {key}  {clean(lab)}" + (f" — {clean(desc)[:90]}" if desc else ""))


def cmd_review(a) -> int:
    import time

    from ..workflows.people import answer, key_action, next_question
    from ..workflows.projects import open_project
    from ..workflows.review import ReviewConflictError, undo_last

    keys = "1-9 pick · 0/n none of these · x fits no label · o search all labels · s skip · u undo · q quit"
    print(f"answering as {clean(a.reviewer)}; keys: {keys}")
    answered, waited = 0, 0.0
    skipped: set[str] = set()
    while True:
        with open_project(a.project) as p:  # held only while reading or writing: a run gets in between
            q = next_question(p, a.reviewer, status=a.status, skip=skipped)
            labels, descriptions = p.labels(), p.descriptions()
            live = p.live_run() is not None
        if q is None:
            if not live or waited >= a.wait:
                print(f"nothing left to answer; {answered} answer(s) recorded")
                return 0
            time.sleep(2.0)
            waited += 2.0
            continue
        waited = 0.0
        _show(q, descriptions)
        act = None
        while act is None:
            key = read_key("  > ")
            if key.lower() == "q":
                print(f"{answered} answer(s) recorded")
                return 0
            act = key_action(q, key)
            if act is None:
                print(f"  keys: {keys}")
        if act.action in ("pick", "none", "fits_none", "search"):
            choice = act.label
            if act.action == "search":
                choice = read_label(labels)
                if choice is None:
                    continue
            try:
                with open_project(a.project) as p:
                    answer(p, q, None if act.action == "none" else choice, a.reviewer)
                answered += 1
                said = {"none": "none of these", "fits_none": "fits none of the labels"}.get(act.action)
                print(f"  recorded: {said or clean(choice)}")
            except ReviewConflictError as exc:
                print(f"  not recorded: {clean(exc)}")
        elif act.action == "undo":
            with open_project(a.project) as p:
                done = undo_last(p, a.reviewer)
            print(f"  undone: your last decision on {len(done['sample_ids'])} text(s)")
        elif act.action == "skip":
            skipped.add(q.sample_id)


def register(sub) -> None:
    p = sub.add_parser("review", help="answer the loop's proposals in the terminal, one key each",
                       description="Show the texts waiting for people (a run with --judge human, or verdicts a "
                       "judge was not sure enough about), each with the labels the loop offers; one key answers: "
                       "1-9 picks a label, 0 or n says none of them is right, x says the text fits none of the "
                       "project's labels, o searches every label, s skips, u "
                       "undoes your last answer, q quits. Works beside a running `red run` (the run takes each "
                       "answer as it comes) and beside the app; several people can answer one queue at once.")
    p.add_argument("project")
    p.add_argument("--status", choices=UNDECIDED, default="needs_review",
                   help="needs_review (default): proposals waiting for people; pending: every undecided verdict")
    p.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                   help="while a run is going, how long to wait for its next proposals before ending (600)")
    add_reviewer(p)
    p.set_defaults(func=cmd_review)

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
    p.add_argument("--status", choices=UNDECIDED, default="pending",
                   help="pending: nobody decided yet (default); needs_review: pending and not applied")
    add_reviewer(p, "recorded with every decision")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_bulk_review)
