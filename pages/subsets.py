"""Subsets: the UMAP map of labels coloured by subset; re-partition; examples and descriptions."""

import html

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from pages import allowed, here, md, project, sidebar

from red_app.errors import RedError
from red_app.workflows.describe import draft_descriptions, save_descriptions, writer_for
from red_app.workflows.judging import JudgeSettings, installed_models
from red_app.workflows.label_map import DEFAULT_N, PARTITION_METHODS, current_map, label_table, repartition, subset_table
from red_app.workflows.map_status import map_freshness
from red_app.workflows.label_map import FOUND, MAX_COLOURS, OTHERS, group_order, map_groups, subset_of
from red_app.workflows.texts import MAX_DESCRIPTION_CHARS



@st.cache_resource(show_spinner=False, max_entries=2)
def _writer(kind: str, model: str | None, host: str | None, path: str):
    """One model per server process (an embedded model loads once and stays)."""
    return writer_for(kind, host=host, model=model, project=project())


def describe_section(proj, found: str | None, desc: dict) -> None:
    """Drafts written by a model, shown for editing, saved only when a person says so."""
    st.subheader("Describe labels with a model")
    st.caption("A model reads each label's examples and drafts what the label means. Nothing is saved until you "
               "press Save: each kept draft becomes a new description version (earlier versions stay).")
    c1, c2, c3 = st.columns([1, 2, 2])
    kind = c1.radio("Model", ["embedded", "ollama"], key="desc_kind", help="embedded: a small model that runs "
                    "here (make judge-model); ollama: a model on your Ollama server")
    host = model = None
    if kind == "embedded":
        have = installed_models()
        model = c2.selectbox("Embedded model", have or ["(none installed: run `make judge-model`)"], key="desc_model")
    else:
        ollama = JudgeSettings(kind="ollama").resolved(proj)
        if allowed("settings"):  # a server's address is an admin's setting: others use the project's
            host = c2.text_input("Ollama host", value=ollama.host, key="desc_host")
            model = c2.text_input("Ollama model", value=ollama.model, key="desc_ollama_model")
        else:
            c2.caption("The project's Ollama server and model (an admin sets them on the Run page).")
            host, model = None, None
    which = c3.radio("Labels", (["the found label"] if found else []) + ["labels without a description"],
                     key=f"desc_which:{found}")  # a newly found label is the default choice
    n = c3.number_input("How many (at most)", 1, 200, 5, key="desc_n", disabled=which != "labels without a description")
    todo = [found] if which == "the found label" else [l for l in proj.labels() if l not in desc][: int(n)]
    drafts_key = f"desc_drafts:{proj.path}"
    if st.button(f"Write {len(todo)} draft(s)", disabled=not todo, key="desc_write"):
        try:
            bar = st.progress(0.0, text="writing…")
            write, model_name = _writer(kind, model, host, str(proj.path))
            drafts = draft_descriptions(proj, write, labels=todo,
                                        progress=lambda k, t: bar.progress(k / t, text=f"writing {k} of {t}"))
            st.session_state[drafts_key] = {"model": model_name, "drafts": drafts}
        except RedError as exc:
            st.error(md(exc))
    pending = st.session_state.get(drafts_key)
    if pending and pending["drafts"]:
        st.caption(f"Drafts by {md(pending['model'])}: edit them, untick the ones to drop, then save.")
        table = pd.DataFrame({"keep": True, "label": list(pending["drafts"]), "description": list(pending["drafts"].values())})
        edited = st.data_editor(table, hide_index=True, width="stretch", disabled=["label"], key="desc_editor",
                                column_config={"description": st.column_config.TextColumn(width="large")})
        keep = edited[edited["keep"]]
        if st.button(f"Save {len(keep)} as new description versions", type="primary", disabled=not len(keep)):
            try:
                saved = save_descriptions(proj, dict(zip(keep["label"], keep["description"])), model=pending["model"],
                                          author=st.session_state.get("reviewer") or "llm")
                st.session_state.pop(drafts_key, None)
                st.session_state["desc_saved"] = len(saved)
                st.rerun()
            except RedError as exc:
                st.error(md(exc))
    if st.session_state.get("desc_saved"):
        st.success(f"saved {st.session_state.pop('desc_saved')} description(s) as new versions")


sidebar()
proj = project()
st.title("Label subsets")
st.caption("Each subset holds labels that are far apart, so one small classifier per subset (plus a "
           "noise class) only has to tell dissimilar labels apart.")

c1, c2, c3 = st.columns([1, 1, 2])
n = c1.number_input("Labels per subset (n)", min_value=2, max_value=200, value=DEFAULT_N, step=1)
method = c2.selectbox("Rule", PARTITION_METHODS, help="greedy: the article's rule; random: a baseline")
# the role is checked again on the click: a crafted message can press a disabled button
recompute = c3.button("Compute subsets", type="primary", disabled=not allowed("settings")) and allowed("settings")
try:
    with st.spinner("UMAP over the label centroids…"):
        if recompute:
            repartition(proj, int(n), method)
        else:  # the map for the project as it is now: computed only when labels or seeds changed
            current_map(proj)
except RedError as exc:
    st.error(md(exc))
    st.stop()

# -- out of date? (red_app.workflows.map_status): after current_map, which already follows new labels and
# seeds, what is left is a run's accepted labels or people's decisions moving the examples
def _recompute(n: int, method: str) -> None:
    if not allowed("settings"):  # checked here too: a crafted message can press a disabled button
        st.session_state["map_fresh_flash"] = ("error", "Recomputing the map is for admins.")
        return
    try:
        repartition(here(), n, method)  # a callback: this run's project (see pages/review.py)
        st.session_state["map_fresh_flash"] = ("success", "The label map was recomputed.")
    except RedError as exc:
        st.session_state["map_fresh_flash"] = ("error", str(exc))


fresh = map_freshness(proj)
if fresh is not None and fresh.stale:
    stored = proj.label_map()
    with st.container(border=True):
        st.warning(md(fresh.summary()), icon=":material/update:")
        st.button("Recompute the map", key="map_recompute", on_click=_recompute, disabled=not allowed("settings"),
                  args=(int(stored["n"].iloc[0]), str(stored["method"].iloc[0])),
                  help="the same rule and subset size as the stored map, on the labels and examples as they are now")
note = st.session_state.pop("map_fresh_flash", None)
if note:
    (st.success if note[0] == "success" else st.error)(md(note[1]))
# --


m = label_table(proj)
if not len(m):
    st.info("No subsets yet.")
    st.stop()
desc = proj.descriptions()
labels_sorted = sorted(m["label"])
subset_ids = sorted(m["subset"].unique(), key=int)
st.info("The default selector (flat, on the Run page) does not use these subsets: it is one model over every "
        "label. They are used by the red selector (Run page → Selector: red), the article's one small "
        "classifier per subset.", icon=":material/info:")

# A point clicked on the map selects its label (applied once per click, before the
# search box is drawn, so the box shows it and a later search is not undone).
clicked = st.session_state.get("label_map")
points = (clicked or {}).get("selection", {}).get("points", []) if clicked else []
if points and points[0].get("customdata"):
    row = int(points[0]["customdata"][0])
    if st.session_state.get("map_clicked") != row and 0 <= row < len(m):
        st.session_state["map_label"] = m["label"].iloc[row]
        st.session_state["map_clicked"] = row

c1, c2 = st.columns([2, 1])
label = c1.selectbox("Find a label", labels_sorted, index=None, placeholder="type to search…", key="map_label",
                     help="shown in red on the map, with its examples and description below; or click a point")
shown_subset = c2.selectbox("Show subset", ["all"] + subset_ids, key="map_subset",
                            format_func=lambda v: "all subsets" if v == "all" else f"subset {v}")
subset = None if shown_subset == "all" else shown_subset
groups = map_groups(m, subset, label)
order = group_order(groups)
palette = px.colors.qualitative.Safe + px.colors.qualitative.Vivid  # 22 distinct, colour-blind safe first
colours = {g: palette[int(g.split()[-1]) % len(palette)] if g.startswith("subset ") else None for g in order}
colours.update({OTHERS: "#c9ced6", FOUND: "#d62728"})
# Plotly renders <a href>, <b> and <br> in hover and text labels: data goes in escaped.
view = m.assign(label=m["label"].map(lambda v: html.escape(str(v))),
                description=m["description"].map(lambda v: v if v is None or v != v else html.escape(str(v))),
                group=groups.to_numpy(), row=np.arange(len(m)))
few = len(m) <= 60
fig = px.scatter(view, x="x", y="y", color="group", hover_name="label", text="label" if few else None,
                 custom_data=["row"], color_discrete_map=colours, category_orders={"group": order[::-1]},
                 hover_data={"examples": True, "description": True, "x": False, "y": False, "subset": True,
                             "group": False, "row": False},
                 height=560, render_mode="svg")  # SVG: a point per label can be clicked (and tested)
# later traces are drawn on top: the grey rest first, the found label last (legend reversed back)
fig.update_traces(marker=dict(size=11 if len(m) <= 200 else 8, line=dict(width=0.5, color="white")),
                  textposition="top center",
                  textfont_size=10)
if label is not None:
    hit = view[view["group"] == FOUND]
    fig.update_traces(selector=dict(name=FOUND), marker=dict(size=18, line=dict(width=2, color="black")))
    if len(hit) and not few:
        fig.add_annotation(x=float(hit["x"].iloc[0]), y=float(hit["y"].iloc[0]), text=hit["label"].iloc[0],
                           showarrow=True, arrowhead=2, font=dict(size=13, color="#d62728"), bgcolor="white")
fig.update_layout(legend_title_text=None, xaxis_title=None, yaxis_title=None, showlegend=len(order) <= MAX_COLOURS + 2,
                  clickmode="event+select", legend_traceorder="reversed")
st.plotly_chart(fig, width="stretch", key="label_map", on_select="rerun", selection_mode="points")
n_sub = m["subset"].nunique()
st.caption(f"{len(m)} labels in {n_sub} subsets of at most {int(m['n'].iloc[0])} ({m['method'].iloc[0]})."
           + (" One subset at a time: choose it under Show subset; other labels are grey." if n_sub > MAX_COLOURS
              and subset is None else ""))

table = subset_table(m)
st.dataframe(table if subset is None else table[table["subset"] == subset], hide_index=True, width="stretch")

if label:
    st.subheader("The found label")
    st.text(f"{label} — subset {subset_of(m, label)}")
    d = desc.get(label)
    cur = proj.current_labels()
    ids = cur.loc[cur["label"] == label, "sample_id"].tolist()
    texts = proj.texts(ids[:200])
    st.caption(f"{len(ids)} current examples" + (" (first 200 shown)" if len(ids) > 200 else ""))
    st.dataframe(pd.DataFrame({"id": list(texts), "text": list(texts.values())}), hide_index=True, width="stretch")
    st.markdown("**Description** (what the judge is told this label means)")
    if d:
        st.caption(f"version {d['version']} by {md(d['author'])}" + (f" ({md(d['model'])})" if d["model"] else ""))
    with st.form(f"desc-{label}"):
        new = st.text_area("Description", value=(d or {}).get("description", ""), height=120,
                           max_chars=MAX_DESCRIPTION_CHARS)
        if st.form_submit_button("Save description"):
            try:
                v = proj.set_description(label, new, author=st.session_state.get("reviewer", ""))
                st.success(f"saved as version {v}; the judge uses it from the next request")
            except RedError as exc:
                st.error(md(exc))

describe_section(proj, label, desc)
