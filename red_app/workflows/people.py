"""What people are asked, and how one key records their answer.

A person answers the question the loop asks: *which of these labels is right — or none?*
The candidates are the loop's own (a choose question's, best first), or for a yes/no
proposal the proposed label then the model's alternatives. Keys ``1``–``k`` pick a
candidate, ``0``/``n`` says none of them is right, ``x`` says the text fits none of the
project's labels at all (issue 20: it leaves the pool, and Discover groups such texts into
new labels), ``o`` opens the search over every label.
One key per answer whenever the right label is shown: the Review page, `red review` and
the benchmark's simulated person all go through :func:`answer` and :func:`key_action`.

Several people may share one queue: a text shown to one of them is held for them for a
while (:func:`~red_app.project.reviews.claim`), so nobody answers the same text twice;
the conflict check at write time catches what slips through.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..project.reviews import (  # noqa: F401  (who is answering is part of this API)
    ReviewConflictError,
    answering,
    append_human_decision,
    claim,
    model_label_queue,
    queue_size,
    rejected_labels,
    release_claims,
    review_queue,
)
from ..project.store import NO_LABEL, Event, Project
from .review import checked_reviewer

DEFAULT_K = 5  # candidates shown when a proposal names fewer (a yes/no proposal, a model label)
NONE_KEYS = ("0", "n")
FITS_NONE_KEY = "x"
SEARCH_KEY = "o"


@dataclass(frozen=True)
class Question:
    """One text and the labels a person chooses from (best first)."""

    sample_id: str
    text: str
    candidates: tuple[str, ...]
    proposed: str                 # the label the proposal names (its first candidate)
    seen_event: int               # the last human event on the text when it was shown
    verdict_id: int | None = None
    kind: str = "people"          # people: a proposal to people (no judge answered); judge: a judge's
                                  # verdict to check; model: a model label; audit: an audit item
    judge_said: str | None = None  # for kind judge: what the judge answered, in words
    applied: bool = False          # for kind judge: whether its answer counts until a person decides
    iteration: int | None = None
    uncertainty: float | None = None
    note: str | None = None

    def keys(self) -> dict[str, str]:
        """Key → candidate label (``1`` is the first)."""
        return {str(k + 1): lab for k, lab in enumerate(self.candidates[:9])}


def question_from_row(row, labels: list[str], rejected: set[str] = frozenset(), k: int = DEFAULT_K,
                      kind: str | None = None) -> Question:
    """The question a review-queue row asks: a choose proposal's own candidates; for a
    yes/no verdict the proposed label, then the model's alternatives nobody rejected."""
    known = set(labels)
    cands = list(row["candidates"]) if _listlike(row.get("candidates")) else []
    # a choose question keeps every candidate it was asked with (a run's choose_k may be over
    # k); the keys reach nine
    keep = min(max(k, len(cands), 1), 9)
    if not cands:
        alts = list(row["alternatives"]) if _listlike(row.get("alternatives")) else []
        cands = [row["label"]] + [a for a in alts if a != row["label"]]
    cands = [c for c in dict.fromkeys(cands) if c in known and c not in rejected][:keep]
    if not cands:
        cands = [row["label"]]
    people = row.get("judge_kind") == "human"
    said = None
    if not people and row.get("valid") is not None and row.get("valid") == row.get("valid"):
        choice = row.get("choice")
        said = (f"picked {choice}" if isinstance(choice, str) else
                "none of these" if _listlike(row.get("candidates")) else
                ("valid" if bool(row["valid"]) else "invalid") + f" for {row['label']}")
    unc = row.get("uncertainty")
    return Question(sample_id=row["sample_id"], text=row["text"], candidates=tuple(cands), proposed=row["label"],
                    seen_event=int(row["last_human_event"]),
                    verdict_id=int(row["verdict_id"]) if row.get("verdict_id") is not None else None,
                    kind=kind or ("people" if people else "judge"), judge_said=said,
                    applied=bool(row.get("applied")) if row.get("applied") is not None else False,
                    iteration=int(row["iteration"]) if row.get("iteration") == row.get("iteration")
                    and row.get("iteration") is not None else None,
                    uncertainty=float(unc) if unc is not None and unc == unc else None)


def _listlike(value) -> bool:
    return value is not None and not isinstance(value, (str, float)) and len(value) > 0


def open_questions(project: Project, reviewer: str, status: str = "needs_review", limit: int = 50,
                   **filters) -> list[Question]:
    """The questions waiting for ``reviewer``: the queue (``status`` as in Review), without
    the texts someone else has open."""
    rows = review_queue(project, status=status, limit=limit, reviewer=reviewer, **filters)
    labels = project.labels()
    # the question as the loop asked it: a judge's "none of these" is what the person checks
    return [question_from_row(r, labels) for r in rows.to_dict("records")]


def model_questions(project: Project, below: float = 0.6, label: str | None = None, limit: int = 200,
                    k: int = DEFAULT_K) -> list[Question]:
    """Model labels less sure than ``below`` on texts nobody decided, as questions: the model's
    label, then its alternatives."""
    rows = model_label_queue(project, below, label=label, limit=limit)
    labels = project.labels()
    out = []
    for r in rows.to_dict("records"):
        q = question_from_row({**r, "candidates": None, "verdict_id": None, "judge_kind": "model", "valid": None},
                              labels, rejected_labels(project, r["sample_id"]), k, kind="model")
        out.append(Question(**{**q.__dict__, "note": "model label"}))
    return out


def audit_questions(project: Project, items, k: int = DEFAULT_K) -> list[Question]:
    """The audit's unanswered items as questions: the label under audit first, then the
    model's alternatives (one key says it is right; another picks the right one)."""
    from .texts import text_alternatives

    labels = project.labels() + [NO_LABEL]  # an audited judge's "fits no label" is asked about as such
    out = []
    for r in items[~items.answered.astype(bool)].to_dict("records"):
        q = question_from_row({**r, "candidates": None, "alternatives": text_alternatives(project, r["sample_id"]),
                               "verdict_id": None, "judge_kind": "audit", "valid": None}, labels, set(), k,
                              kind="audit")
        out.append(Question(**{**q.__dict__, "note": None}))
    return out


def next_question(project: Project, reviewer: str, status: str = "needs_review",
                  skip: frozenset[str] | set[str] = frozenset()) -> Question | None:
    """The first open question for ``reviewer`` but those in ``skip``, held for them (or None:
    nothing to answer)."""
    for q in open_questions(project, reviewer, status=status, limit=20 + len(skip)):
        if q.sample_id not in skip and claim(project, q.sample_id, reviewer):
            return q
    return None


def answer(project: Project, q: Question, choice: str | None, reviewer: str, note: str | None = None) -> list[int]:
    """Record a person's answer to ``q``: ``choice`` is the right label (a candidate, or any
    label found by search), None that none of the candidates is right, ``NO_LABEL`` that the
    text fits none of the project's labels. Returns the new event ids;
    :class:`ReviewConflictError` when someone else answered the text first."""
    reviewer = checked_reviewer(reviewer)
    note = note or q.note
    if choice == NO_LABEL:  # the proposal is wrong, and so is every other label
        events = [Event(q.sample_id, q.proposed, "human", "invalid", reviewer, verdict_id=q.verdict_id, note=note)] * (
            q.proposed != NO_LABEL) + [Event(q.sample_id, NO_LABEL, "human", "valid", reviewer, verdict_id=q.verdict_id,
                                             note=note)]
    elif choice is None:
        events = [Event(q.sample_id, c, "human", "invalid", reviewer, verdict_id=q.verdict_id, note=note)
                  for c in q.candidates]
    else:
        project.check_labels([choice])
        events = [Event(q.sample_id, choice, "human", "valid", reviewer, verdict_id=q.verdict_id, note=note)]
        if choice != q.proposed and q.proposed != NO_LABEL:  # the proposal named another label: that one is wrong
            events.insert(0, Event(q.sample_id, q.proposed, "human", "invalid", reviewer, verdict_id=q.verdict_id,
                                   note=note))
    ids = append_human_decision(project, q.sample_id, events, q.seen_event)
    release_claims(project, reviewer)
    return ids


@dataclass(frozen=True)
class KeyAction:
    """What one key means on a question: pick (a label), none, search, skip, undo, next, previous."""

    action: str
    label: str | None = None


KEY_MOVES = {"s": "skip", "j": "next", "k": "previous", "u": "undo", SEARCH_KEY: "search"}


def key_action(q: Question | None, key: str) -> KeyAction | None:
    """The action of ``key`` on question ``q`` (None: the key means nothing here)."""
    key = (key or "").lower()
    if key in KEY_MOVES:
        return KeyAction(KEY_MOVES[key])
    if q is None:
        return None
    if key in NONE_KEYS:
        return KeyAction("none")
    if key == FITS_NONE_KEY:
        return KeyAction("fits_none", NO_LABEL)
    label = q.keys().get(key)
    return KeyAction("pick", label) if label else None


def key_cost(q: Question, right: str | None, labels: list[str]) -> int:
    """Keys a person presses to give ``right`` (None: fits none of the candidates): one when
    it is shown, else ``o``, the fewest letters that make it the first label found, Enter."""
    if right is None or right == NO_LABEL or right in q.candidates:
        return 1
    typed = right.lower()
    for n in range(1, len(typed) + 1):
        part = typed[:n]
        if next((lab for lab in labels if part in lab.lower()), None) == right:
            return 1 + n + 1
    return 1 + len(typed) + 1


def queue_figures(project: Project) -> dict:
    """How many proposals wait for people, and who has one open now."""
    return {"waiting": queue_size(project, "needs_review"), "answering": answering(project)}


class SimulatedPerson:
    """A stand-in for a person, for benchmarks and tests only: it reads the hidden gold (which
    no real person sees) and answers through the same :func:`answer` the Review page and `red
    review` use, one question at a time, letting the project go between answers as they do.

    With ``error_rate`` it errs as people do: it picks the most plausible wrong candidate
    instead of the right one, or a candidate where none is right. ``keys`` counts the keys a
    person would have pressed (:func:`key_cost`)."""

    def __init__(self, path, reviewer: str = "simulated-person (reads hidden gold)", error_rate: float = 0.0,
                 seed: int = 0, poll: float = 0.2):
        import numpy as np

        self.path = path
        self.reviewer = reviewer
        self.error_rate = error_rate
        self.rng = np.random.default_rng(seed)
        self.poll = poll
        self.answers = 0
        self.keys = 0
        self.right = 0
        self._gold: dict | None = None

    def choice_for(self, q: Question, gold: str | None, labels: list[str]) -> str | None:
        """What it answers: the gold label (searched for when not offered), or an error."""
        if self.error_rate and self.rng.random() < self.error_rate:
            wrong = [c for c in q.candidates if c != gold]
            return wrong[0] if wrong else None
        if gold is None:
            return None
        return gold if gold in labels else NO_LABEL  # it knows the text fits none of the labels

    def answer_one(self, project: Project) -> bool:
        """Answer the next open question; False when there is none."""
        q = next_question(project, self.reviewer)
        if q is None:
            return False
        if self._gold is None:
            self._gold = project.hidden_gold()
        gold = self._gold.get(q.sample_id)
        labels = project.labels()
        choice = self.choice_for(q, gold, labels)
        try:
            answer(project, q, choice, self.reviewer)
        except ReviewConflictError:
            return True  # someone else answered it first: on to the next
        self.answers += 1
        self.right += choice == gold
        self.keys += key_cost(q, choice, labels) if choice is not None else 1
        return True

    def answer_until_done(self, stop=None, idle_seconds: float = 30.0) -> int:
        """Answer questions as they appear until no run is going and none is left (or ``stop()``
        says so); returns how many it answered."""
        import time

        from .projects import open_project

        idle_since = time.monotonic()
        while not (stop and stop()):
            with open_project(self.path) as p:
                did = self.answer_one(p)
                live = did or p.live_run() is not None
            if did:
                idle_since = time.monotonic()
                continue
            quiet = time.monotonic() - idle_since
            # done: the run it answered for has ended, or nothing at all happened for a long while
            if (not live and self.answers and quiet > 2.0) or quiet > idle_seconds:
                break
            time.sleep(self.poll)
        return self.answers
