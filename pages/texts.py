"""Texts: search every text, see its label and why, label it directly or start a new label from it."""

import zlib

import pandas as pd
import streamlit as st

from pages import allowed, here, md, project, sidebar

from red_app.errors import RedError
from red_app.workflows.projects import EXPORT_ORIGINS
from red_app.workflows.review import ReviewConflictError, nearest_examples
from red_app.workflows.texts import (
    MAX_DESCRIPTION_CHARS,
    SORTS,
    add_label,
    count_texts,
    label_text,
    mark_fits_none,
    search_texts,
    text_details,
)

PAGE_SIZE = 50

sidebar()
proj = project()
st.title("Texts")
st.session_state.setdefault("texts_page", 1)
st.session_state.setdefault("texts_open", None)

flash = st.session_state.pop("texts_flash", None)
if flash:
    (st.toast if flash[0] == "success" else getattr(st, flash[0]))(md(flash[1]))

labels = proj.labels()
# The label filter gets half the width: at 1,010 labels (O*NET titles of 60+ characters) a
# narrow box cut every choice off.
top = st.columns(2)
query = top[0].text_input("Search the texts", placeholder="words anywhere in the text, any case")
f_label = top[1].selectbox("Label", labels, index=None, placeholder=f"any of {len(labels):,} labels (type to search)")
c = st.columns([2, 2, 1, 1, 1])
f_origin = c[0].multiselect("Origin", EXPORT_ORIGINS, placeholder="any origin",
                            help="seed/import/judge/human: decisions; model: the final model's prediction")
f_band = c[1].slider("Confidence", 0.0, 1.0, (0.0, 1.0), 0.05,
                     help="texts with no label at all drop out once the range is narrowed")
f_review = c[2].checkbox("Needs review", help="texts waiting for a person, and texts whose model label was "
                         "answered wrong (they need a label)")
f_unlabeled = c[3].checkbox("Unlabeled", help="texts with no label at all (before any run or prediction, or "
                            "whose model label was answered wrong)")
f_sort = c[4].selectbox("Sort", SORTS, help="confidence: least sure first")

filters = dict(query=query or None, label=f_label, origin=f_origin or None,
               band=None if tuple(f_band) == (0.0, 1.0) else tuple(f_band),
               needs_review=True if f_review else None, unlabeled=f_unlabeled)
try:
    total = count_texts(proj, **filters)
except RedError as exc:
    st.error(md(str(exc)))
    st.stop()
pages = max(1, -(-total // PAGE_SIZE))
page_no = st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages,
                          value=min(st.session_state["texts_page"], pages), step=1)
st.session_state["texts_page"] = int(page_no)
df = search_texts(proj, **filters, sort=f_sort, limit=PAGE_SIZE, offset=(int(page_no) - 1) * PAGE_SIZE)
st.caption(f"{total:,} texts match; page {int(page_no)} of {pages:,}.")
if not len(df):
    st.info("No text matches. Loosen the filters or change the search.")
    st.stop()
# A click on a row opens the text. The table's key changes with the filters and the page, so
# a selection never outlives the rows it was made on; a selection opens its text once, so the
# id picker below can still open another.
table_key = f"texts_table:{zlib.crc32(repr((sorted(filters.items()), f_sort, int(page_no))).encode()):08x}"
event = st.dataframe(df[["id", "text", "label", "confidence", "origin", "needs_review", "out_of_scope"]], hide_index=True,
                     width="stretch", column_config={"confidence": st.column_config.NumberColumn(format="%.2f")},
                     on_select="rerun", selection_mode="single-row", key=table_key)
ids = df["id"].tolist()
rows = list(event.selection.rows) if event is not None else []
if rows and 0 <= rows[0] < len(ids) and st.session_state.get("texts_row_seen") != (table_key, rows[0]):
    st.session_state["texts_row_seen"] = (table_key, rows[0])
    st.session_state["texts_open"] = ids[rows[0]]
st.caption("Click a row to open its text.")
opened = st.selectbox("Open a text (by id)", ids, index=ids.index(st.session_state["texts_open"])
                      if st.session_state["texts_open"] in ids else None, placeholder="or pick a text of this page by id…")
if opened is None:
    st.stop()
st.session_state["texts_open"] = opened
try:
    item = text_details(proj, opened)
except RedError as exc:
    st.error(md(str(exc)))
    st.stop()

st.divider()
left, right = st.columns(2)
with left:
    st.markdown("#### Text")
    st.text(item["text"])  # data as plain text, never Markdown or HTML
    if item["label"] is None and item.get("out_of_scope") and item["origin"] is not None:
        st.markdown(f"**Fits none of the labels** (decided by {md(item['origin'])}). Label it below if one fits.")
    elif item["label"] is None:
        st.markdown("**Needs a label**: none is in force and a person should give one (the history below "
                    "shows what was rejected)."
                    if item["needs_review"] else "**No label yet** (neither decided nor predicted).")
    else:
        conf = item["confidence"]
        st.markdown(f"**Label:** {md(item['label'])}  \n**Origin:** {md(item['origin'])}"
                    + (f" · confidence {conf:.2f}" if conf == conf and conf is not None else "")
                    + (" · **needs review**" if item["needs_review"] else ""))
    if item["alternative"]:
        st.caption(f"Top alternative: {md(item['alternative'])}")
with right:
    for lab, title, k in [(item["label"], "", 5), (item["alternative"], " (top alternative)", 3)]:
        if not lab:
            continue
        st.markdown(f"#### Nearest examples of {md(lab)}{title}")
        try:
            ex = nearest_examples(proj, opened, lab, k=k)
        except RedError as exc:
            st.caption(md(str(exc)))
            continue
        if ex:
            st.dataframe(pd.DataFrame(ex, columns=["id", "text", "similarity"]), hide_index=True, width="stretch")
        else:
            st.caption("no examples")

st.markdown("#### History")
words = item["history"]
if len(words):
    # plain text, one line per word said on the text (data never as Markdown)
    st.text("\n".join(f"{pd.Timestamp(w.said_at):%Y-%m-%d %H:%M:%S}  {w.kind:<6} {w.who}: {w.label} {w.said} "
                      f"({w.status})" for w in words.itertuples(index=False)))
else:
    st.caption("No judge verdict or person's decision on this text yet.")

ctx = {"sample_id": opened, "seen": item["last_human_event"], "pick": f"texts-pick-{opened}",
       "name": f"texts-new-{opened}", "desc": f"texts-desc-{opened}", "more": f"texts-more-{opened}"}


def _label(ctx: dict) -> None:
    pick = st.session_state.get(ctx["pick"])
    try:
        if not pick:
            raise RedError("pick a label first")
        label_text(here(), ctx["sample_id"], pick, reviewer=st.session_state.get("reviewer", ""),
                   seen_event=ctx["seen"])
        st.session_state["texts_flash"] = ("success", f"labeled {ctx['sample_id']} as {pick}")
    except ReviewConflictError as exc:
        st.session_state["texts_flash"] = ("warning", str(exc))
    except RedError as exc:
        st.session_state["texts_flash"] = ("error", str(exc))


def _fits_none(ctx: dict) -> None:
    try:
        mark_fits_none(here(), ctx["sample_id"], reviewer=st.session_state.get("reviewer", ""), seen_event=ctx["seen"])
        st.session_state["texts_flash"] = ("success", f"{ctx['sample_id']} fits none of the labels: it leaves the "
                                                      "pool with no label; Discover groups it with texts like it")
    except ReviewConflictError as exc:
        st.session_state["texts_flash"] = ("warning", str(exc))
    except RedError as exc:
        st.session_state["texts_flash"] = ("error", str(exc))


def _new_label(ctx: dict) -> None:
    if not allowed("add_label"):  # checked here too: a crafted message can press a disabled button
        st.session_state["texts_new_error"] = "Creating a label is for admins."
        return
    examples = [ctx["sample_id"], *st.session_state.get(ctx["more"], [])]
    try:
        name = add_label(here(), st.session_state.get(ctx["name"], ""), examples,
                         reviewer=st.session_state.get("reviewer", ""),
                         description=st.session_state.get(ctx["desc"]) or None)
        st.session_state["texts_flash"] = ("success", f"new label {name} with {len(examples)} example(s); the next "
                                                      "run trains on it")
        st.session_state.pop("texts_new_error", None)
    except RedError as exc:  # shown beside the form, where the person is looking
        st.session_state["texts_new_error"] = str(exc)


st.markdown("#### Label this text")
cols = st.columns([3, 1, 1.2])
cols[0].selectbox("Label", labels, index=labels.index(item["label"]) if item["label"] in labels else None,
                  placeholder="type to search all labels…", key=ctx["pick"], label_visibility="collapsed")
cols[1].button("Label it", type="primary", on_click=_label, args=(ctx,))
cols[2].button("Fits no label", on_click=_fits_none, args=(ctx,),
               help="the text fits none of the project's labels: it leaves the pool with no label, and Discover "
                    "groups such texts into new labels")
new_error = st.session_state.get("texts_new_error")
with st.expander("New label from this text", expanded=new_error is not None):
    st.text_input("Name of the new label", key=ctx["name"])
    st.multiselect("More texts of this page that belong to it (optional)", [i for i in ids if i != opened],
                   key=ctx["more"], placeholder="their ids…")
    st.text_area("What it means (optional)", key=ctx["desc"], max_chars=MAX_DESCRIPTION_CHARS)
    st.button("Create the label", on_click=_new_label, args=(ctx,), disabled=not allowed("add_label"))
    if new_error:
        st.error(md(new_error))
