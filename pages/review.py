"""Review: is the proposed label right? Judge verdicts, model labels below a threshold, and
the audit sample. Actions say what they mean about the label (Right / Wrong / Another
label), whatever the judge said; every earlier word on the text is shown; undo and bulk
decisions. The page only lays out widgets: red_app.workflows.review holds the logic."""


import pandas as pd
import streamlit as st

from pages import md, project, sidebar

from red_app.workflows.audit import answer_item, current_audit
from red_app.errors import RedError
from red_app.workflows.texts import text_details
from red_app.workflows.review import (
    JUDGE_SAID,
    STATUSES,
    ReviewConflictError,
    bulk_decide,
    decide,
    earlier_verdicts,
    model_label_queue,
    model_queue_size,
    nearest_examples,
    offered_labels,
    queue_size,
    rejected_labels,
    review_queue,
    undo_last,
)

PICKER = "Another label"  # the picker's label: the focus script below finds it by this name
TEXT_BOX_HEIGHT = 190     # px: a long text scrolls inside its box, the controls stay in view

# Keyboard path for "Another label…" without the mouse. Streamlit's button shortcuts are
# (rightly) ignored while focus is in a text field, so `o` cannot reach a button from the
# picker, and nothing can move focus into the picker. This constant script (no data in it)
# does just that: `o` outside a field focuses the picker; Enter (which chooses a label, and
# the choice is recorded) or Escape inside it gives focus back to the page, so `a` / `x` /
# `u` / `j` work again at once.
FOCUS_SCRIPT = """
<script>
(function () {
  if (window.__redReviewKeys) return;
  window.__redReviewKeys = true;
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
      // after the picker has handled the key (Enter chooses, and the choice is recorded)
      setTimeout(function () { t.blur(); }, 0);
    }
  }, true);
})();
</script>
""" % PICKER


def flash() -> None:
    msg = st.session_state.pop("review_flash", None)
    if msg:
        kind, text = msg
        (st.toast if kind == "success" else getattr(st, kind))(md(text))


def _set_flash(kind: str, text: str) -> None:
    st.session_state["review_flash"] = (kind, text)


def _undo() -> None:
    try:
        done = undo_last(proj, st.session_state.get("reviewer", ""))
        n = len(done["sample_ids"])
        st.session_state["review_goto"] = done["sample_ids"][0]
        _set_flash("success", f"undone: your last decision ({len(done['event_ids'])} event(s) on "
                              f"{n} text{'s' if n > 1 else ''}) no longer counts; it stays in the history")
    except RedError as exc:
        _set_flash("error", str(exc))


def _decide(action: str, ctx: dict) -> None:
    """A button's or the picker's callback: record what the person said about the label."""
    label = st.session_state.get(ctx["pick_key"]) if action == "another" else None
    if action == "another" and not label:
        return  # the picker was cleared
    try:
        decide(proj, sample_id=ctx["sample_id"], proposed=ctx["label"], action=action,
               reviewer=st.session_state.get("reviewer", ""), label=label, seen_event=ctx["seen"],
               verdict_id=ctx.get("verdict_id"), note=ctx.get("note"))
        said = {"right": f"right: {ctx['label']}", "wrong": f"wrong: {ctx['label']}",
                "another": f"another label: {label} (not {ctx['label']})"}[action]
        _set_flash("success", f"recorded — {said} · u undoes it")
        if ctx["advance"]:
            st.session_state[ctx["pos_key"]] = ctx["pos"] + 1
    except ReviewConflictError as exc:
        _set_flash("warning", str(exc))
    except RedError as exc:
        _set_flash("error", str(exc))


def decision_controls(ctx: dict, labels: list[str], alternatives, rejected: set[str]) -> None:
    """Right / Wrong / Another label… / Undo, with their keys, for one proposed label."""
    _, order = offered_labels(labels, ctx["label"], alternatives, rejected)
    b = st.columns([1, 1, 1.3])
    b[0].button("Right", type="primary", shortcut="a", on_click=_decide, args=("right", ctx),
                help=f"{ctx['label']} is the right label for this text", width="stretch")
    b[1].button("Wrong", shortcut="x", on_click=_decide, args=("wrong", ctx),
                help=f"{ctx['label']} is wrong; the right one is unknown", width="stretch")
    b[2].button("Undo my last decision", shortcut="u", on_click=_undo, width="stretch",
                help="take back your newest decision (a bulk decision as a whole); it stays in the history")
    st.selectbox(f"{PICKER}… (o, type, Enter records it; Esc leaves)", order, index=None,
                 key=ctx["pick_key"], on_change=_decide, args=("another", ctx),
                 format_func=lambda x: f"{x}  (rejected before)" if x in rejected else x,
                 placeholder="type to search every label…")


def text_box(text: str) -> None:
    with st.container(height=TEXT_BOX_HEIGHT, border=True):
        st.text(text)  # data is shown as plain text, never as HTML or Markdown


def navigation(pos: int, n: int, pos_key: str) -> None:
    def _move(to: int) -> None:
        st.session_state[pos_key] = to

    nav = st.columns([1, 1, 5])
    # Callbacks, not `if st.button(): ...; st.rerun()`: with a rerun the click fired again on
    # the next item (seen in the browser test: one click, two decisions).
    nav[0].button("◀ Previous", shortcut="k", disabled=pos == 0, on_click=_move, args=(pos - 1,), width="stretch")
    nav[1].button("Next ▶", shortcut="j", disabled=pos >= n - 1, on_click=_move, args=(pos + 1,), width="stretch")
    nav[2].caption(f"Item {pos + 1} of {n} · keys: **a** right · **x** wrong · **o** another label · "
                   "**u** undo · **j/k** next/previous")


def history_table(sample_id: str) -> None:
    """Every earlier word on the text, one line each, as plain text (data never as Markdown)."""
    words = earlier_verdicts(proj, sample_id)
    st.markdown("#### Every earlier verdict on this text")
    if not len(words):
        st.caption("none")
        return
    lines = []
    for w in words.itertuples(index=False):
        conf = f" {w.confidence:.2f}" if w.confidence == w.confidence and w.confidence is not None else ""
        why = f" — {w.rationale[:90]}" if isinstance(w.rationale, str) and w.rationale else ""
        lines.append(f"{pd.Timestamp(w.said_at):%Y-%m-%d %H:%M:%S}  {w.kind:<6} {w.who}: {w.label} {w.said}"
                     f"{conf} ({w.status}){why}")
    st.text("\n".join(lines))


def examples(sample_id: str, label: str, alts: list[str]) -> None:
    cols = st.columns(2)
    with cols[0]:
        st.markdown(f"#### Nearest examples of {md(label)}")
        ex = nearest_examples(proj, sample_id, label, k=5)
        if ex:
            st.dataframe(pd.DataFrame(ex, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")
        else:
            st.caption("no examples")
    if alts:
        with cols[1]:
            st.markdown(f"#### Nearest examples of {md(alts[0])} (top alternative)")
            ex2 = nearest_examples(proj, sample_id, alts[0], k=3)
            st.dataframe(pd.DataFrame(ex2, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")


def _position(queue: pd.DataFrame, pos_key: str) -> int:
    goto = st.session_state.pop("review_goto", None)  # after an undo: show the text undone
    if goto is not None and goto in set(queue["sample_id"]):
        st.session_state[pos_key] = int(queue.index[queue["sample_id"] == goto][0])
    return max(0, min(st.session_state[pos_key], len(queue) - 1))


def judge_said(item) -> None:
    """What the judge said about this label, in words that cannot be misread."""
    lab = md(item["label"])
    kind = md(item["judge_kind"])
    if item["valid"]:
        st.markdown(f"**Judge ({kind}) said: :green[valid]** — it thinks {lab} is right "
                    f"(confidence {item['confidence']:.2f})")
    else:
        st.markdown(f"**Judge ({kind}) said: :red[invalid]** — it thinks {lab} is wrong "
                    f"(confidence {item['confidence']:.2f})")
    if not item["applied"]:
        p = item["p_right"]
        st.warning("Not applied: the judge's answer did not make the label sure enough"
                   + (f" (P(right) {p:.2f})" if p == p and p is not None else "") + " — your decision counts.",
                   icon=":material/hourglass_top:")
    elif not isinstance(item["reviewer"], str):
        st.caption("Applied: the label is the judge's until a person decides." if item["valid"] else
                   "Applied: the label is excluded for this text until a person decides.")
    if isinstance(item["reviewer"], str):
        st.info(f"Last human decision: {md(item['reviewer'])} marked {md(item['human_label'])} "
                f"{md(item['human_verdict'])}.")


def verdict_mode(labels: list[str]) -> None:
    held_count = queue_size(proj, "needs_review")
    default_status = "needs_review" if held_count else "pending"
    c = st.columns([1.1, 1.4, 1.1, 1.6, 1.1, 0.9])
    said_opts = ["any", *JUDGE_SAID]
    f_said = c[0].selectbox("Judge said", said_opts, key="f_said",
                            format_func=lambda x: {"needs_review": "not applied (needs review)"}.get(x, x),
                            help="valid / invalid: the judge's answer; not applied: it was not sure enough "
                                 "to count, and waits for you")
    f_label = c[1].selectbox("Proposed label", [None] + labels, key="f_label",
                             format_func=lambda x: "any" if x is None else x)
    f_status = c[2].selectbox("Status", STATUSES, index=STATUSES.index(default_status), key="f_status",
                              help="pending: no person decided yet; needs_review: pending and not applied")
    f_conf = c[3].slider("Judge confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key="f_conf")
    f_sort = c[4].selectbox("Order", ["uncertainty", "confidence", "newest"], key="f_sort",
                            help="uncertainty: the model's most uncertain first; "
                                 "confidence: the judge's least sure first")
    f_iter = c[5].selectbox("Iteration", [None] + proj.verdict_iterations(), key="f_iter",
                            format_func=lambda x: "any" if x is None else str(x))
    filters = dict(label=f_label, verdict=None if f_said == "any" else f_said,
                   min_conf=f_conf[0] if f_conf[0] > 0 else None, max_conf=f_conf[1] if f_conf[1] < 1 else None,
                   iteration=f_iter)
    only = st.query_params.get("sample")  # a link to one sample: /review?sample=ID
    if only:
        st.caption(f"Showing sample {md(only)} only — clear the address's ?sample= to see the queue.")
        f_status = "all"
    queue = review_queue(proj, sample_id=only, status=f_status, sort=f_sort, limit=200, **filters)
    matching = len(queue) if only else queue_size(proj, f_status, **filters)
    st.caption(f"{queue_size(proj, 'pending'):,} verdicts await review in all, {held_count:,} of them not "
               f"applied (waiting for people); {matching:,} match the filters"
               + (" (the first 200 are listed)." if matching > 200 else "."))
    flash()
    if not only and f_status in ("pending", "needs_review"):
        bulk_panel(filters, f_status, matching, labels)
    if not len(queue):
        st.info("Nothing to review here. Run the loop on the **Run** page, or loosen the filters.")
        undo_only()
        return
    pos = _position(queue, "review_pos")
    item = queue.iloc[pos]
    rejected = rejected_labels(proj, item["sample_id"])
    alts, _ = offered_labels(labels, item["label"], item["alternatives"], rejected)
    ctx = {"sample_id": item["sample_id"], "label": item["label"], "seen": int(item["last_human_event"]),
           "verdict_id": int(item["verdict_id"]), "pick_key": f"pick-{item['verdict_id']}",
           "advance": f_status not in ("pending", "needs_review"),  # these queues shrink by themselves
           "pos": pos, "pos_key": "review_pos"}
    navigation(pos, len(queue), "review_pos")
    left, right = st.columns([1.15, 1])
    with left:
        text_box(item["text"])
        if item["rationale"]:
            st.caption("Judge's rationale:")
            st.text(item["rationale"])
    with right:
        st.markdown(f"##### Is **{md(item['label'])}** the right label?")
        judge_said(item)
        decision_controls(ctx, labels, item["alternatives"], rejected)
        meta = (f"iteration {item['iteration']} · model uncertainty {item['uncertainty']:.3f}"
                if item["uncertainty"] == item["uncertainty"] else "")
        tops = ("top alternatives: " + ", ".join(md(a) for a in alts)) if alts else ""
        earlier = sorted(rejected - {item["label"]})  # the proposed label's own verdict is shown above
        rej = ("rejected before: " + ", ".join(md(r) for r in earlier)) if earlier else ""
        st.caption(" · ".join(x for x in (meta, tops, rej) if x))
    history_table(item["sample_id"])
    examples(item["sample_id"], item["label"], alts)


def undo_only() -> None:
    st.button("Undo my last decision", shortcut="u", on_click=_undo,
              help="take back your newest decision (a bulk decision as a whole); it stays in the history")


def _bulk_go(filters: dict, status: str, expected: int, action: str, to_label: str | None) -> None:
    try:
        n = bulk_decide(proj, reviewer=st.session_state.get("reviewer", ""), action=action, expected=expected,
                        status=status, to_label=to_label, **filters)
        _set_flash("success", f"recorded {n} decisions ({action}) as one action · u undoes them all")
    except ReviewConflictError as exc:
        _set_flash("warning", str(exc))
    except RedError as exc:
        _set_flash("error", str(exc))
    st.session_state.pop("bulk_confirm", None)


def bulk_panel(filters: dict, status: str, matching: int, labels: list[str]) -> None:
    """Decide every verdict the filters match the same way: a count, a confirmation, one
    event per verdict, all undone together."""
    pending = st.session_state.get("bulk_confirm")
    with st.expander(f"Bulk: decide all {matching:,} verdicts these filters match", expanded=pending is not None):
        c = st.columns([2, 2, 1])
        names = {"right": "Right", "wrong": "Wrong", "another": "Another label…"}
        action = c[0].radio("They are all", list(names), horizontal=True, key="bulk_action", format_func=names.get)
        to_label = c[1].selectbox("the label", labels, index=None, key="bulk_label", disabled=action != "another",
                                  placeholder="type to search…")
        ask = c[2].button(f"Decide {matching:,}…", disabled=matching == 0 or (action == "another" and not to_label))
        if ask:
            st.session_state["bulk_confirm"] = {"filters": filters, "status": status, "n": matching,
                                                "action": action, "to_label": to_label}
            pending = st.session_state["bulk_confirm"]
        if pending is not None:
            if pending["filters"] != filters or pending["status"] != status:
                st.session_state.pop("bulk_confirm", None)
                st.caption("The filters changed: count again.")
                return
            what = {"right": "right", "wrong": "wrong", "another": f"wrong, and {pending['to_label']} right"}
            st.warning(f"Record {pending['n']:,} decisions — each proposed label {md(what[pending['action']])} — "
                       "as you, one event per text? One undo takes them all back.")
            k = st.columns([1, 1, 4])
            k[0].button("Confirm", type="primary", key="bulk_yes", on_click=_bulk_go,
                        args=(filters, status, pending["n"], pending["action"], pending["to_label"]))
            k[1].button("Cancel", key="bulk_no", on_click=lambda: st.session_state.pop("bulk_confirm", None))


def model_mode(labels: list[str]) -> None:
    """Model labels less sure than a threshold (red predict's newest set): confirm or fix them."""
    c = st.columns([1, 2, 3])
    below = c[0].number_input("Model labels below", 0.05, 1.0, 0.6, 0.05, key="m_below",
                              help="confidence threshold: texts nobody decided whose model label is less sure")
    m_label = c[1].selectbox("Model label", [None] + labels, key="m_label",
                             format_func=lambda x: "any" if x is None else x)
    queue = model_label_queue(proj, below, label=m_label, limit=200)
    total = model_queue_size(proj, below, label=m_label)
    c[2].caption(f"{total:,} model labels below {below:g} on texts nobody decided, least sure first"
                 + (" (the first 200 are listed)" if total > 200 else "")
                 + ". A decision here is a person's decision like any other.")
    flash()
    if not len(queue):
        st.info("No model label below this threshold. `red predict` (or a finished run) writes model labels.")
        undo_only()
        return
    pos = _position(queue, "model_pos")
    item = queue.iloc[pos]
    rejected = rejected_labels(proj, item["sample_id"])
    alts, _ = offered_labels(labels, item["label"], item["alternatives"], rejected)
    ctx = {"sample_id": item["sample_id"], "label": item["label"], "seen": int(item["last_human_event"]),
           "verdict_id": None, "note": "model label", "pick_key": f"mpick-{item['sample_id']}",
           "advance": False, "pos": pos, "pos_key": "model_pos"}
    navigation(pos, len(queue), "model_pos")
    left, right = st.columns([1.15, 1])
    with left:
        text_box(item["text"])
    with right:
        st.markdown(f"##### Is **{md(item['label'])}** the right label?")
        st.markdown(f"**The model's label** (no judge asked) · confidence {item['confidence']:.2f}")
        decision_controls(ctx, labels, item["alternatives"], rejected)
        confs = item["alternative_confidences"]
        if alts:
            conf = dict(zip(item["alternatives"], confs)) if confs is not None else {}
            st.caption("top alternatives: " + ", ".join(
                md(a) + (f" ({conf[a]:.2f})" if a in conf else "") for a in alts))
    history_table(item["sample_id"])
    examples(item["sample_id"], item["label"], alts)


def audit_mode(labels: list[str]) -> None:
    """The active audit sample: is each label right? Answers are ordinary human decisions."""
    try:
        audit, items = current_audit(proj)
    except RedError as exc:
        st.info(md(exc))
        return
    done = int(items.answered.sum())
    st.progress(done / max(len(items), 1), text=f"{done} of {len(items)} answered (audit {int(audit['audit_id'])})")
    msg = st.session_state.pop("audit_flash", None)
    if msg:
        (st.toast if msg[0] == "success" else getattr(st, msg[0]))(md(msg[1]))
    flash()  # an undo's message
    todo = items[~items.answered.astype(bool)].reset_index(drop=True)
    if not len(todo):
        st.success("Every item is answered: read the estimate on the Audit page.")
        undo_only()
        return
    goto = st.session_state.pop("review_goto", None)  # after an undo: the item answered back in the list
    if goto is not None and goto in set(todo["sample_id"]):
        st.session_state["audit_pos"] = int(todo.index[todo["sample_id"] == goto][0])
    pos = st.session_state["audit_pos"] % len(todo)
    item = todo.iloc[pos]
    st.caption("keys: **a** right · **x** wrong · **u** undo your last answer")
    left, right = st.columns([1.15, 1])
    with left:
        text_box(item["text"])
    key = f"audit-pick-{item['sample_id']}"
    with right:
        st.markdown(f"**Label:** {md(item['label'])}  \n**Origin:** {md(item['origin'])} · "
                    f"confidence {item['confidence']:.2f}")
        st.selectbox("The right label (if it is wrong; optional)", [x for x in labels if x != item["label"]],
                     index=None, key=key, placeholder="type to search all labels…")

        def _answer(answer: str, sample_id: str) -> None:
            try:
                answer_item(proj, sample_id, answer, reviewer=st.session_state.get("reviewer", ""),
                            label=st.session_state.get(key) if answer == "wrong" else None)
                st.session_state["audit_flash"] = ("success", f"{answer} recorded")
            except RedError as exc:
                st.session_state["audit_flash"] = ("error", str(exc))

        def _skip() -> None:
            st.session_state["audit_pos"] = pos + 1

        b = st.columns([1, 2, 1, 1.6])
        b[0].button("Right", type="primary", shortcut="a", on_click=_answer, args=("right", item["sample_id"]))
        b[1].button("Wrong (with the label chosen above, if any)", shortcut="x", on_click=_answer,
                    args=("wrong", item["sample_id"]))
        b[2].button("Skip", on_click=_skip)
        b[3].button("Undo my last decision", shortcut="u", on_click=_undo, width="stretch",
                    help="take back your newest decision (an audit answer or any other); it stays in the history")
    history_table(item["sample_id"])
    # beside the label's examples: those of the label chosen as the right one, else the model's top alternative
    alt = st.session_state.get(key) or text_details(proj, item["sample_id"])["alternative"]
    examples(item["sample_id"], item["label"], [alt] if alt and alt != item["label"] else [])


sidebar()
proj = project()
st.session_state.setdefault("review_pos", 0)
st.session_state.setdefault("model_pos", 0)
st.session_state.setdefault("audit_pos", 0)
head = st.columns([1.6, 4])
head[0].title("Review")
MODES = {"Judge verdicts": verdict_mode, "Model labels": model_mode, "Audit sample": audit_mode}
mode = head[1].radio("What to review", list(MODES), horizontal=True, key="review_mode",
                     help="Model labels: the least sure predictions on texts nobody decided. Audit sample: a "
                          "random sample of current labels; your answers measure their accuracy (Audit → Quality)")
MODES[mode](proj.labels())
st.html(FOCUS_SCRIPT, unsafe_allow_javascript=True)
