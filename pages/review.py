"""Review: judge verdicts side by side with the nearest training examples; accept, override, reject."""

import sys
from pathlib import Path

import pandas as pd
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import project, sidebar  # noqa: E402

from red_app.errors import RedError  # noqa: E402
from red_app.review import ReviewConflictError, decide, nearest_examples, queue_size, review_queue  # noqa: E402

sidebar()
proj = project()
st.title("Review")
st.session_state.setdefault("review_pos", 0)

labels = proj.labels()
with st.expander("Filters", expanded=False):
    c = st.columns(5)
    f_status = c[0].selectbox("Status", ["pending", "reviewed", "all"])
    f_label = c[1].selectbox("Proposed label", [None] + labels, format_func=lambda x: "any" if x is None else x)
    f_verdict = c[2].selectbox("Judge said", ["any", "valid", "invalid"])
    f_conf = c[3].slider("Judge confidence", 0.0, 1.0, (0.0, 1.0), 0.05)
    f_sort = c[4].selectbox("Order", ["uncertainty", "confidence", "newest"],
                            help="uncertainty: the model's most uncertain first; confidence: the judge's least sure first")
    iters = [r[0] for r in proj.cursor().execute(
        "SELECT DISTINCT iteration FROM judge_verdicts WHERE iteration IS NOT NULL ORDER BY 1").fetchall()]
    f_iter = st.selectbox("Iteration", [None] + iters, format_func=lambda x: "any" if x is None else str(x))

queue = review_queue(proj, label=f_label, verdict=None if f_verdict == "any" else f_verdict,
                     min_conf=f_conf[0], max_conf=f_conf[1], iteration=f_iter, status=f_status,
                     sort=f_sort, limit=200)
total_pending = queue_size(proj, "pending")
st.caption(f"{total_pending:,} verdicts await review in all; {len(queue)} match the filters (first 200).")
if not len(queue):
    st.info("Nothing to review here. Run the loop on the **Run** page, or loosen the filters.")
    st.stop()

pos = min(st.session_state["review_pos"], len(queue) - 1)
item = queue.iloc[pos]
nav = st.columns([1, 1, 6])
if nav[0].button("◀ Previous", shortcut="k", disabled=pos == 0):
    st.session_state["review_pos"] = pos - 1
    st.rerun()
if nav[1].button("Next ▶", shortcut="j", disabled=pos >= len(queue) - 1):
    st.session_state["review_pos"] = pos + 1
    st.rerun()
nav[2].caption(f"Item {pos + 1} of {len(queue)} · keys: **a** accept · **x** reject · **o** override · **j/k** next/previous")

left, right = st.columns(2)
with left:
    st.markdown("#### Text")
    st.text(item["text"])  # data is shown as plain text, never as HTML or Markdown
    verdict = "valid ✅" if item["valid"] else "invalid ❌"
    st.markdown(f"**Proposed label:** `{item['label']}`  \n**Judge ({item['judge_kind']}) said:** {verdict} "
                f"· confidence {item['confidence']:.2f}")
    if item["rationale"]:
        st.caption("Judge's rationale:")
        st.text(item["rationale"])
    meta = f"iteration {item['iteration']} · model uncertainty {item['uncertainty']:.3f}" if item["uncertainty"] == item["uncertainty"] else ""
    st.caption(meta)
    alts = [a for a in (item["alternatives"] if item["alternatives"] is not None else []) if a != item["label"]]
    if len(alts):
        st.caption("Top alternative labels: " + ", ".join(alts))
    if isinstance(item["reviewer"], str):
        st.info(f"Last human decision: {item['reviewer']} marked {item['human_label']!r} {item['human_verdict']}.")
with right:
    st.markdown(f"#### Nearest examples of `{item['label']}`")
    ex = nearest_examples(proj, item["sample_id"], item["label"], k=5)
    if ex:
        st.dataframe(pd.DataFrame(ex, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")
    else:
        st.caption("no examples")
    if len(alts):
        st.markdown(f"#### Nearest examples of `{alts[0]}` (top alternative)")
        ex2 = nearest_examples(proj, item["sample_id"], alts[0], k=3)
        st.dataframe(pd.DataFrame(ex2, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")

st.divider()
default_pick = alts[0] if len(alts) else None
pick = st.selectbox("Correct label (for an override) — type to search", labels,
                    index=labels.index(default_pick) if default_pick in labels else None,
                    placeholder="type to search all labels…", key=f"pick-{item['verdict_id']}")
b = st.columns(3)
action = None
if b[0].button("Accept the proposed label", type="primary", shortcut="a"):
    action = "accept"
if b[1].button("Override with the chosen label", shortcut="o"):
    action = "override"
if b[2].button("Reject (wrong, correct label unknown)", shortcut="x"):
    action = "reject"
if action:
    try:
        decide(proj, sample_id=item["sample_id"], proposed=item["label"], action=action,
               reviewer=st.session_state.get("reviewer", ""), label=pick if action == "override" else None,
               seen_event=int(item["last_human_event"]), verdict_id=int(item["verdict_id"]))
        st.toast(f"{action} recorded")
        if f_status != "pending":
            st.session_state["review_pos"] = pos + 1
        st.rerun()
    except ReviewConflictError as exc:
        st.warning(str(exc))
    except RedError as exc:
        st.error(str(exc))
