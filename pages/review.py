"""Review: judge verdicts side by side with the nearest training examples; accept, override, reject."""

import sys
from pathlib import Path

import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import md, project, sidebar  # noqa: E402

from red_app.audit import answer_item, current_audit  # noqa: E402
from red_app.errors import RedError  # noqa: E402
from red_app.project.reviews import STATUSES  # noqa: E402
from red_app.review import (  # noqa: E402
    ReviewConflictError,
    decide,
    nearest_examples,
    queue_size,
    review_queue,
)


def audit_mode(proj) -> None:
    """The active audit sample: is each label right? Answers are ordinary human decisions."""
    try:
        audit, items = current_audit(proj)
    except RedError as exc:
        st.info(md(exc))
        return
    done = int(items.answered.sum())
    st.progress(done / max(len(items), 1), text=f"{done} of {len(items)} answered (audit {int(audit['audit_id'])})")
    flash = st.session_state.pop("audit_flash", None)
    if flash:
        (st.toast if flash[0] == "success" else getattr(st, flash[0]))(md(flash[1]))
    todo = items[~items.answered.astype(bool)].reset_index(drop=True)
    if not len(todo):
        st.success("Every item is answered: read the estimate on the Audit page.")
        return
    pos = st.session_state["audit_pos"] % len(todo)
    item = todo.iloc[pos]
    st.markdown("#### Text")
    st.text(item["text"])
    st.markdown(f"**Label:** {md(item['label'])}  \n**Origin:** {md(item['origin'])} · "
                f"confidence {item['confidence']:.2f}")
    labels = [x for x in proj.labels() if x != item["label"]]
    key = f"audit-pick-{item['sample_id']}"
    st.selectbox("The right label (if it is wrong; optional)", labels, index=None, key=key,
                 placeholder="type to search all labels…")

    def _answer(answer: str, sample_id: str) -> None:
        try:
            answer_item(proj, sample_id, answer, reviewer=st.session_state.get("reviewer", ""),
                        label=st.session_state.get(key) if answer == "wrong" else None)
            st.session_state["audit_flash"] = ("success", f"{answer} recorded")
        except RedError as exc:
            st.session_state["audit_flash"] = ("error", str(exc))

    def _skip() -> None:
        st.session_state["audit_pos"] = pos + 1

    b = st.columns(3)
    b[0].button("Right", type="primary", on_click=_answer, args=("right", item["sample_id"]))
    b[1].button("Wrong (with the label chosen above, if any)", on_click=_answer, args=("wrong", item["sample_id"]))
    b[2].button("Skip", on_click=_skip)


sidebar()
proj = project()
st.title("Review")
st.session_state.setdefault("review_pos", 0)
st.session_state.setdefault("audit_pos", 0)

mode = st.radio("What to review", ["Judge verdicts", "Audit sample"], horizontal=True,
                help="Audit sample: a random sample of current labels; your answers measure their accuracy "
                     "(see Audit → Quality)")
if mode == "Audit sample":
    audit_mode(proj)
    st.stop()

labels = proj.labels()
held_count = queue_size(proj, "needs_review")
default_status = "needs_review" if held_count else "pending"
with st.expander("Filters", expanded=False):
    c = st.columns(5)
    f_status = c[0].selectbox("Status", STATUSES, index=STATUSES.index(default_status),
                              help="needs_review: verdicts that did not clear the precision target and wait for you")
    f_label = c[1].selectbox("Proposed label", [None] + labels, format_func=lambda x: "any" if x is None else x)
    f_verdict = c[2].selectbox("Judge said", ["any", "valid", "invalid"])
    f_conf = c[3].slider("Judge confidence", 0.0, 1.0, (0.0, 1.0), 0.05)
    f_sort = c[4].selectbox("Order", ["uncertainty", "confidence", "newest"],
                            help="uncertainty: the model's most uncertain first; confidence: the judge's least sure first")
    iters = proj.verdict_iterations()
    f_iter = st.selectbox("Iteration", [None] + iters, format_func=lambda x: "any" if x is None else str(x))

only = st.query_params.get("sample")  # a link to one sample: /review?sample=ID
if only:
    st.caption(f"Showing sample {md(only)} only — clear the address's ?sample= to see the queue.")
    f_status = "all"
queue = review_queue(proj, sample_id=only, label=f_label, verdict=None if f_verdict == "any" else f_verdict,
                     min_conf=f_conf[0], max_conf=f_conf[1], iteration=f_iter, status=f_status,
                     sort=f_sort, limit=200)
total_pending = queue_size(proj, "pending")
st.caption(f"{total_pending:,} verdicts await review in all, {held_count:,} of them held for "
           f"people (not applied); {len(queue)} match the filters (first 200).")
flash = st.session_state.pop("review_flash", None)
if flash:
    kind, msg = flash
    (st.toast if kind == "success" else getattr(st, kind))(md(msg))
if not len(queue):
    st.info("Nothing to review here. Run the loop on the **Run** page, or loosen the filters.")
    st.stop()

pos = min(st.session_state["review_pos"], len(queue) - 1)
item = queue.iloc[pos]
nav = st.columns([1, 1, 6])


def _move(to: int) -> None:
    st.session_state["review_pos"] = to


# Callbacks, not `if st.button(): ...; st.rerun()`: with a rerun the click fired again on
# the next item (seen in the browser test: one click, two decisions).
nav[0].button("◀ Previous", shortcut="k", disabled=pos == 0, on_click=_move, args=(pos - 1,))
nav[1].button("Next ▶", shortcut="j", disabled=pos >= len(queue) - 1, on_click=_move, args=(pos + 1,))
nav[2].caption(f"Item {pos + 1} of {len(queue)} · keys: **a** accept · **x** reject · **o** override · **j/k** next/previous")

left, right = st.columns(2)
with left:
    st.markdown("#### Text")
    st.text(item["text"])  # data is shown as plain text, never as HTML or Markdown
    verdict = ":green[valid]" if item["valid"] else ":red[invalid]"
    st.markdown(f"**Proposed label:** {md(item['label'])}  \n**Judge ({md(item['judge_kind'])}) said:** {verdict} "
                f"· confidence {item['confidence']:.2f}")
    if not item["applied"]:
        p = item["p_right"]
        st.warning("Not applied: the judge's answer did not make this label sure enough"
                   + (f" (P(right) {p:.2f})" if p == p and p is not None else "") + " — your decision counts.")
    if item["rationale"]:
        st.caption("Judge's rationale:")
        st.text(item["rationale"])
    meta = f"iteration {item['iteration']} · model uncertainty {item['uncertainty']:.3f}" if item["uncertainty"] == item["uncertainty"] else ""
    st.caption(meta)
    alts = [a for a in (item["alternatives"] if item["alternatives"] is not None else []) if a != item["label"]]
    if len(alts):
        st.caption("Top alternative labels: " + ", ".join(md(a) for a in alts))
    if isinstance(item["reviewer"], str):
        st.info(f"Last human decision: {md(item['reviewer'])} marked {md(item['human_label'])} "
                f"{md(item['human_verdict'])}.")
with right:
    st.markdown(f"#### Nearest examples of {md(item['label'])}")
    ex = nearest_examples(proj, item["sample_id"], item["label"], k=5)
    if ex:
        st.dataframe(pd.DataFrame(ex, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")
    else:
        st.caption("no examples")
    if len(alts):
        st.markdown(f"#### Nearest examples of {md(alts[0])} (top alternative)")
        ex2 = nearest_examples(proj, item["sample_id"], alts[0], k=3)
        st.dataframe(pd.DataFrame(ex2, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")

st.divider()
default_pick = alts[0] if len(alts) else None
pick = st.selectbox("Correct label (for an override) — type to search", labels,
                    index=labels.index(default_pick) if default_pick in labels else None,
                    placeholder="type to search all labels…", key=f"pick-{item['verdict_id']}")


def _decide(action: str, item: dict, advance: bool) -> None:
    try:
        decide(proj, sample_id=item["sample_id"], proposed=item["label"], action=action,
               reviewer=st.session_state.get("reviewer", ""),
               label=st.session_state.get(item["pick_key"]) if action == "override" else None,
               seen_event=item["seen"], verdict_id=item["verdict_id"])
        st.session_state["review_flash"] = ("success", f"{action} recorded")
        if advance:
            st.session_state["review_pos"] = pos + 1
    except ReviewConflictError as exc:
        st.session_state["review_flash"] = ("warning", str(exc))
    except RedError as exc:
        st.session_state["review_flash"] = ("error", str(exc))


ctx = {"sample_id": item["sample_id"], "label": item["label"], "seen": int(item["last_human_event"]),
       "verdict_id": int(item["verdict_id"]), "pick_key": f"pick-{item['verdict_id']}"}
advance = f_status not in ("pending", "needs_review")  # these queues shrink by themselves
b = st.columns(3)
b[0].button("Accept the proposed label", type="primary", shortcut="a", on_click=_decide, args=("accept", ctx, advance))
b[1].button("Override with the chosen label", shortcut="o", on_click=_decide, args=("override", ctx, advance))
b[2].button("Reject (wrong, correct label unknown)", shortcut="x", on_click=_decide, args=("reject", ctx, advance))
