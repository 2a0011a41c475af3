"""Review: which label is right? The question the loop asks — its candidates, each with its
description and nearest examples — answered with one key: 1–9 pick, 0 or n none of them,
x fits none of the project's labels, o searches every label, s skips, u undoes, j/k move. Keys are queued in the browser, so none
is lost however fast they come. Three queues: the loop's proposals and the judge's verdicts
waiting for people, model labels below a threshold, and the audit sample. The page only lays
out widgets: red_app.workflows holds the logic."""

import pandas as pd
import streamlit as st

from pages import handling_keys, here, md, project, queued_keys, releasing, sidebar
from red_app.errors import RedError
from red_app.workflows.audit import current_audit
from red_app.workflows.people import (
    FITS_NONE_KEY,
    NO_LABEL,
    Question,
    ReviewConflictError,
    answer,
    audit_questions,
    claim,
    key_action,
    model_questions,
    open_questions,
    queue_figures,
)
from red_app.workflows.review import (
    JUDGE_SAID,
    STATUSES,
    UNDECIDED,
    bulk_decide,
    bulk_matches,
    earlier_verdicts,
    nearest_examples,
    queue_size,
    undo_last,
)

KEYS = "0123456789nsjkux"    # what the page handles itself (o opens the search in the browser)
PICKER = "Search every label"  # the search's label: the focus script below finds it by this name
TEXT_BOX_HEIGHT = 190       # px: a long text scrolls inside its box, the controls stay in view
EXAMPLES_SHOWN = 2          # nearest examples under each candidate
UNDO = "u · Undo my last"

# `o` outside a field focuses the search; Enter (which records the label chosen) or Escape
# inside it gives focus back to the page, so the number keys work again at once. Constant
# script, no data in it.
FOCUS_SCRIPT = """
<script>
(function () {
  if (window.__redReviewSearch) return;
  window.__redReviewSearch = true;
  const picker = function () {
    const boxes = document.querySelectorAll('[data-testid="stMain"] [data-testid="stSelectbox"]');
    for (const b of boxes) {
      const label = b.querySelector('[data-testid="stWidgetLabel"]');
      if (label && label.textContent.trim().startsWith('%s')) return b.querySelector('input');
    }
    return null;
  };
  document.addEventListener('keydown', function (e) {
    const t = e.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
    if (!typing && e.key === 'o' && !e.ctrlKey && !e.metaKey && !e.altKey) {
      const box = picker();
      if (box) { e.preventDefault(); e.stopImmediatePropagation(); box.focus(); box.click(); }
    } else if (typing && (e.key === 'Escape' || e.key === 'Enter') && t === picker()) {
      setTimeout(function () { t.blur(); }, 0);
    }
  }, true);
})();
</script>
""" % PICKER


# Callbacks (a click, a choice) run at the start of the next page run, before the page opens
# its project: each asks here() for that run's own, never the `proj` of the run that drew the
# widget (released when that run ended).


# Streamlit may stop a run for a newer one (a faster key) at any read or write of
# st.session_state. Between a decision's write to the file and the page noting where the
# person now is, nothing may touch it: what a key changes lives in dicts fetched before the
# keys are read and changed in place (a key's answer is written once, and the next key
# answers the next text, however the run ends).


def _box(name: str) -> dict:
    return st.session_state.setdefault(name, {})


def say(kind: str, text: str, box: dict | None = None) -> None:
    """A message for the next run of the page (after a click or a key)."""
    (box if box is not None else _box("review_flash"))["msg"] = (kind, text)


def flash() -> None:
    msg = _box("review_flash").pop("msg", None)
    if msg:
        kind, text = msg
        {"success": st.toast, "warning": st.warning, "error": st.error}[kind](md(text))


def record(q: Question, choice: str | None, note: str | None = None, opened=None,
           reviewer: str | None = None, box: dict | None = None) -> bool:
    """Record one answer; a clear message either way. True when it was recorded. (Keys pass
    the project, the reviewer and the message box, fetched before any key was read.)"""
    opened = opened if opened is not None else here()
    reviewer = reviewer if reviewer is not None else st.session_state.get("reviewer", "")
    box = box if box is not None else _box("review_flash")
    try:
        answer(opened, q, choice, reviewer, note=note)
        said = ("fits none of the labels" if choice == NO_LABEL else f"{choice}" if choice is not None
                else "none of " + ", ".join(q.candidates))
        say("success", f"recorded — {said} · u undoes it", box)
        return True
    except ReviewConflictError as exc:
        say("warning", str(exc), box)
    except RedError as exc:
        say("error", str(exc), box)
    return False


def undo(opened=None, reviewer: str | None = None, box: dict | None = None) -> None:
    """Take back the person's newest decision. (Keys pass the project, the reviewer and the
    message box, fetched before any key was read: nothing between the key and the write may
    let Streamlit stop the run.)"""
    opened = opened if opened is not None else here()
    reviewer = reviewer if reviewer is not None else st.session_state.get("reviewer", "")
    box = box if box is not None else _box("review_flash")
    try:
        done = undo_last(opened, reviewer)
        n = len(done["sample_ids"])
        say("success", f"undone: your last decision ({len(done['event_ids'])} event(s) on {n} text"
                       f"{'s' if n > 1 else ''}) no longer counts; it stays in the history", box)
        st.session_state["review_goto"] = done["sample_ids"][0]
    except RedError as exc:
        say("error", str(exc), box)


def place(pos_key: str) -> dict:
    """Where the person is in one queue: ``pos``, the text ``shown`` and its candidates as
    shown (``shown_as``), and the texts they ``skipped`` (one dict, changed in place)."""
    return st.session_state.setdefault(f"{pos_key}_place", {"pos": 0, "shown": None, "shown_as": None,
                                                              "skipped": []})


def current(live: list[Question], at: dict) -> int:
    """Where the person is in the queue: the text on their screen stays theirs while the queue
    changes under it (a run's new proposals sort in by uncertainty), so a key always answers
    the text the person read."""
    ids = [q.sample_id for q in live]
    if at["shown"] in ids:
        return ids.index(at["shown"])
    return max(0, min(at["pos"], len(live) - 1))


def move_to(live: list[Question], at: dict, pos: int) -> None:
    pos = max(0, min(pos, len(live) - 1))
    at["pos"] = pos
    at["shown"] = live[pos].sample_id if live else None
    at["shown_as"] = tuple(live[pos].candidates) if live else None


def still_shown(live: list[Question], at: dict) -> bool:
    """Whether the text on the person's screen is still in the queue as they saw it: not
    decided by someone else meanwhile, its candidates the same under the same keys."""
    if at["shown"] is None:
        return True  # nothing shown yet
    seen = next((q for q in live if q.sample_id == at["shown"]), None)
    return seen is not None and tuple(seen.candidates) == at["shown_as"]


def apply_keys(questions: list[Question], pos_key: str, note: str | None) -> None:
    with handling_keys("review"):
        _apply_keys(questions, pos_key, note)


def _apply_keys(questions: list[Question], pos_key: str, note: str | None) -> None:
    """Every key pressed since the last run, in order, each on the text shown after the one
    before. When the text on the screen has gone meanwhile (someone else decided it, or a run
    changed its candidates), the answers typed for it record nothing: a key never lands on a
    text the person has not read."""
    at, box = place(pos_key), _box("review_flash")
    opened, reviewer = here(), st.session_state.get("reviewer", "")
    stale = False
    for key in queued_keys(KEYS, scope="review"):
        live = [q for q in questions if q.sample_id not in at["skipped"]]
        pos = current(live, at) if live else 0
        q = live[pos] if live else None
        act = key_action(q, key)
        if act is None:
            continue
        if act.action in ("pick", "none", "fits_none", "skip") and (stale or not still_shown(live, at)):
            if not stale:
                say("warning", "The text you were answering changed before your key arrived (someone else "
                               "decided it, or a run changed its candidates): nothing was recorded. Read the "
                               "text now shown.", box)
                move_to(live, at, pos)
            stale = True
            continue
        if act.action in ("pick", "none", "fits_none") and q is not None:
            if record(q, act.label if act.action in ("pick", "fits_none") else None, note, opened, reviewer, box):
                questions.remove(q)
                live.remove(q)
                move_to(live, at, pos)  # the next text takes its place
        elif act.action == "skip" and q is not None:
            at["skipped"].append(q.sample_id)
            live.remove(q)
            move_to(live, at, pos)
        elif act.action == "undo":
            undo(opened, reviewer, box)
            # the text undone is back in the queue: show it now, and leave the keys typed after
            # the undo (not handed over yet) to the next run, which has it
            st.rerun()
        elif act.action in ("next", "previous"):
            move_to(live, at, pos + (1 if act.action == "next" else -1))


def text_box(text: str) -> None:
    with st.container(height=TEXT_BOX_HEIGHT, border=True):
        st.text(text)  # data is shown as plain text, never as HTML or Markdown


def candidate_list(q: Question, labels: list[str], note: str | None, pos_key: str) -> None:
    """The candidates, each a button with its key, its description and nearest examples."""
    desc = proj.descriptions()
    for key, label in q.keys().items():
        # a button's label and help are Markdown: a label from data is escaped
        shown = "fits none of the labels" if label == NO_LABEL else md(label)  # an audit of the judge's "none"
        st.button(f"{key} · {shown}", key=f"pick-{q.sample_id}-{key}", type="primary" if key == "1" else "secondary",
                  on_click=record, args=(q, label, note), help=f"{shown} is the right answer")
        about_label = desc[label]["description"] if label in desc else ""
        ex = nearest_examples(proj, q.sample_id, label, k=EXAMPLES_SHOWN)
        st.caption(" · ".join([md(about_label)] * bool(about_label) + [f"“{md(t[:90])}”" for _, t, _ in ex]))
    b = st.columns([1.4, 1.5, 1, 1.3])
    b[0].button("0 · None of these", key=f"none-{q.sample_id}", on_click=record, args=(q, None, note),
                width="stretch", help="none of the labels above is right (another label may be: o searches them)")
    b[1].button(f"{FITS_NONE_KEY} · Fits no label", key=f"fits-none-{q.sample_id}", on_click=record,
                args=(q, NO_LABEL, note), width="stretch",
                help="the text fits none of the project's labels: it leaves the pool, and Discover groups such "
                     "texts into new labels")
    b[2].button("s · Skip", key=f"skip-{q.sample_id}", on_click=lambda: place(pos_key)["skipped"].append(q.sample_id),
                width="stretch")  # the next text takes its place
    b[3].button(UNDO, key=f"undo-{q.sample_id}", on_click=undo, width="stretch",
                help="take back your newest decision (a bulk decision as a whole); it stays in the history")
    found = st.selectbox(f"{PICKER} (o, type, Enter records it; Esc leaves)",
                         [x for x in labels if x not in q.candidates], index=None, key=f"search-{q.sample_id}",
                         placeholder="type to search every label…")
    if found:  # recorded in the run that sees the choice, then the page shows the next text
        del st.session_state[f"search-{q.sample_id}"]  # a text still in the queue must not record it twice
        record(q, found, note)
        st.rerun()


def about(q: Question) -> None:
    """Where the question comes from, in words that cannot be misread."""
    if q.kind == "people":
        st.caption("Proposed to you by the run: no judge was asked. Which label is right?")
    elif q.kind == "judge" and q.applied:
        st.caption(f"The judge answered: {md(q.judge_said)} — applied until a person decides; your answer decides.")
    elif q.kind == "judge":
        st.caption(f"The judge answered: {md(q.judge_said)} — not sure enough to apply, so your answer decides.")
    elif q.kind == "model":
        st.caption("The model's label (no judge asked) and its alternatives. Which is right?")
    else:
        st.caption("Audit: is the first label right? If not, pick the right one (0: none of these).")


def history_table(sample_id: str) -> None:
    """Every earlier word on the text, one line each, as plain text (data never as Markdown)."""
    words = earlier_verdicts(proj, sample_id)
    with st.expander(f"Every earlier word on this text ({len(words)})"):
        lines = []
        for w in words.itertuples(index=False):
            conf = f" {w.confidence:.2f}" if w.confidence == w.confidence and w.confidence is not None else ""
            lines.append(f"{pd.Timestamp(w.said_at):%Y-%m-%d %H:%M:%S}  {w.kind:<6} {w.who}: {w.label} {w.said}"
                         f"{conf} ({w.status})")
        st.text("\n".join(lines) or "none")


def show(questions: list[Question], pos_key: str, labels: list[str], note: str | None = None) -> None:
    """Keys first, then the question now in front of the person."""
    apply_keys(questions, pos_key, note)
    flash()
    at = place(pos_key)
    live = [q for q in questions if q.sample_id not in at["skipped"]]
    if not live:
        st.info("Nothing to answer here right now." + (" Skipped texts come back when you reload."
                                                        if at["skipped"] else ""))
        st.button(UNDO, on_click=undo)
        if proj.live_run() is not None:
            wait_for_proposals()
        return
    goto = st.session_state.pop("review_goto", None)  # after an undo: the text undone
    ids = [q.sample_id for q in live]
    if goto in ids:
        move_to(live, at, ids.index(goto))
    pos = current(live, at)
    move_to(live, at, pos)  # what is on the screen now is what the next key answers
    q = live[pos]
    claim(proj, q.sample_id, st.session_state.get("reviewer", ""))  # others sharing the queue get other texts
    st.caption(f"Text {pos + 1} of {len(live)} · keys: **1–{min(len(q.candidates), 9)}** pick · **0**/**n** none "
               f"of these · **{FITS_NONE_KEY}** fits no label · **o** search every label · **s** skip · **u** undo · **j**/**k** next/previous")
    left, right = st.columns([1.1, 1])
    with left:
        text_box(q.text)
        about(q)
        history_table(q.sample_id)
    with right:
        candidate_list(q, labels, note, pos_key)


@st.fragment(run_every=2.0)
@releasing
def wait_for_proposals() -> None:
    """While a run is going and nothing waits here, look again every 2 s: the run's next
    proposals appear without a reload."""
    here = project()
    st.caption("A run is going: its next proposals appear here as soon as it makes them…")
    if queue_figures(here)["waiting"] or here.live_run() is None:
        st.rerun(scope="app")


def verdict_mode(labels: list[str]) -> None:
    figures = queue_figures(proj)
    held = figures["waiting"]
    c = st.columns([1.2, 1.6, 1.1, 1.1])
    f_status = c[0].selectbox("Queue", STATUSES, index=STATUSES.index("needs_review" if held else "pending"),
                              key="f_status", format_func=lambda x: {"needs_review": "waiting for people",
                                                                     "pending": "every undecided verdict"}.get(x, x),
                              help="waiting for people: a run's proposals to people and the judge's verdicts not "
                                   "sure enough to apply; every undecided verdict: those the judge's word decided too")
    f_label = c[1].selectbox("Proposed label", [None] + labels, key="f_label",
                             format_func=lambda x: "any" if x is None else x)
    f_said = c[2].selectbox("Judge said", ["any", *JUDGE_SAID], key="f_said")
    f_iter = c[3].selectbox("Iteration", [None] + proj.verdict_iterations(), key="f_iter",
                            format_func=lambda x: "any" if x is None else str(x))
    filters = dict(label=f_label, verdict=None if f_said == "any" else f_said, iteration=f_iter)
    only = st.query_params.get("sample")  # a link to one sample: /review?sample=ID
    if only:
        st.caption(f"Showing sample {md(only)} only — clear the address's ?sample= to see the queue.")
    who = ", ".join(figures["answering"])
    st.caption(f"{held:,} waiting for people" + (f" · answering now: {md(who)}" if who else "")
               + f" · {queue_size(proj, f_status, **filters):,} match")
    if not only and f_status in UNDECIDED:
        bulk_panel(filters, f_status, labels)
    questions = open_questions(proj, st.session_state.get("reviewer", ""), status="all" if only else f_status,
                               limit=200, sample_id=only, **filters)
    show(questions, "review_pos", labels)


def bulk_go(filters: dict, status: str, expected: int, action: str, to_label: str | None,
            fingerprint: str | None = None) -> None:
    try:
        n = bulk_decide(here(), reviewer=st.session_state.get("reviewer", ""), action=action, expected=expected,
                        status=status, to_label=to_label, fingerprint=fingerprint, **filters)
        say("success", f"recorded {n} decisions ({action}) as one action · u undoes them all")
    except ReviewConflictError as exc:
        say("warning", str(exc))
    except RedError as exc:
        say("error", str(exc))
    st.session_state.pop("bulk_confirm", None)


def bulk_panel(filters: dict, status: str, labels: list[str]) -> None:
    """Decide every verdict the filters match the same way: a count, a confirmation, one
    event per verdict, all undone together."""
    matching = queue_size(proj, status, **filters)
    pending = st.session_state.get("bulk_confirm")
    with st.expander(f"Bulk: decide all {matching:,} these filters match", expanded=pending is not None):
        c = st.columns([2, 2, 1])
        names = {"right": "the proposed label is right", "wrong": "it is wrong", "another": "another label is right"}
        action = c[0].radio("They are all", list(names), key="bulk_action", format_func=names.get)
        to_label = c[1].selectbox("the label", labels, index=None, key="bulk_label", disabled=action != "another",
                                  placeholder="type to search…")
        if c[2].button(f"Decide {matching:,}…", disabled=matching == 0 or (action == "another" and not to_label)):
            n, fingerprint = bulk_matches(proj, status=status, **filters)  # the verdicts confirmed, not only how many
            st.session_state["bulk_confirm"] = {"filters": filters, "status": status, "n": n, "fingerprint": fingerprint,
                                                "action": action, "to_label": to_label}
            pending = st.session_state["bulk_confirm"]
        if pending is not None:
            if pending["filters"] != filters or pending["status"] != status:
                st.session_state.pop("bulk_confirm", None)
                st.caption("The filters changed: count again.")
                return
            st.warning(f"Record {pending['n']:,} decisions — {md(names[pending['action']])}"
                       + (f" ({md(pending['to_label'])})" if pending["to_label"] else "")
                       + " — as you, one event per text? One undo takes them all back.")
            k = st.columns([1, 1, 4])
            k[0].button("Confirm", type="primary", key="bulk_yes", on_click=bulk_go,
                        args=(filters, status, pending["n"], pending["action"], pending["to_label"],
                              pending["fingerprint"]))
            k[1].button("Cancel", key="bulk_no", on_click=lambda: st.session_state.pop("bulk_confirm", None))


def model_mode(labels: list[str]) -> None:
    """Model labels less sure than a threshold (red predict's newest set): confirm or fix them."""
    c = st.columns([1, 2])
    below = c[0].number_input("Model labels below", 0.05, 1.0, 0.6, 0.05, key="m_below",
                              help="confidence threshold: texts nobody decided whose model label is less sure")
    m_label = c[1].selectbox("Model label", [None] + labels, key="m_label",
                             format_func=lambda x: "any" if x is None else x)
    show(model_questions(proj, below, label=m_label), "model_pos", labels)


def audit_mode(labels: list[str]) -> None:
    """The active audit sample: is each label right? Answers are ordinary human decisions."""
    try:
        audit, items = current_audit(proj)
    except RedError as exc:
        st.info(md(exc))
        return
    done = int(items.answered.sum())
    st.progress(done / max(len(items), 1), text=f"{done} of {len(items)} answered (audit {int(audit['audit_id'])})")
    if done == len(items):
        flash()
        st.success("Every item is answered: read the estimate on the Audit page.")
        st.button(UNDO, on_click=undo)
        return
    show(audit_questions(proj, items), "audit_pos", labels, note=f"audit {int(audit['audit_id'])}")


sidebar()
proj = project()
head = st.columns([1.6, 4])
head[0].title("Review")
MODES = {"Waiting for people": verdict_mode, "Model labels": model_mode, "Audit sample": audit_mode}
# a widget's value is dropped when another page runs: the mode is kept under a plain key
st.session_state.setdefault("review_mode_kept", next(iter(MODES)))
mode = head[1].radio("What to review", list(MODES), horizontal=True, index=list(MODES).index(
    st.session_state["review_mode_kept"]), help="Waiting for people: a run's proposals and the judge's verdicts "
                     "not sure enough to apply. Model labels: the least sure predictions on texts nobody decided. "
                     "Audit sample: a random sample of current labels; your answers measure their accuracy")
st.session_state["review_mode_kept"] = mode
MODES[mode](proj.labels())
st.html(FOCUS_SCRIPT, unsafe_allow_javascript=True)
