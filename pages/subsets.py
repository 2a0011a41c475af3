"""Subsets: the UMAP map of labels coloured by subset; re-partition; examples and descriptions."""

import html
import sys
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import allowed, md, project, sidebar  # noqa: E402

from red_app.errors import RedError  # noqa: E402
from red_app.label_map import label_table, repartition, subset_table  # noqa: E402

sidebar()
proj = project()
st.title("Label subsets")
st.caption("Each subset holds labels that are far apart, so one small classifier per subset (plus a "
           "noise class) only has to tell dissimilar labels apart.")

c1, c2, c3 = st.columns([1, 1, 2])
n = c1.number_input("Labels per subset (n)", min_value=2, max_value=200, value=10, step=1)
method = c2.selectbox("Rule", ["greedy", "random"], help="greedy: the article's rule; random: a baseline")
if c3.button("Compute subsets", type="primary", disabled=not allowed("settings")) or not len(proj.label_map()):
    try:
        with st.spinner("UMAP over the label centroids…"):
            repartition(proj, int(n), method)
    except RedError as exc:
        st.error(md(exc))
        st.stop()

m = label_table(proj)
if not len(m):
    st.info("No subsets yet.")
    st.stop()
desc = proj.descriptions()
# Plotly renders <a href>, <b> and <br> in hover and text labels: data goes in escaped.
shown = m.assign(label=m["label"].map(lambda v: html.escape(str(v))),
                 description=m["description"].map(lambda v: v if v is None or v != v else html.escape(str(v))))
fig = px.scatter(shown, x="x", y="y", color="subset", hover_name="label", text="label" if len(m) <= 60 else None,
                 hover_data={"examples": True, "description": True, "x": False, "y": False, "subset": True},
                 height=560)
fig.update_traces(marker=dict(size=11, line=dict(width=0.5, color="white")), textposition="top center",
                  textfont_size=10)
fig.update_layout(legend_title_text="subset", xaxis_title=None, yaxis_title=None)
st.plotly_chart(fig, width="stretch")
st.caption(f"{len(m)} labels in {m['subset'].nunique()} subsets of at most {int(m['n'].iloc[0])} ({m['method'].iloc[0]}).")

st.dataframe(subset_table(m), hide_index=True, width="stretch")

st.subheader("A label")
label = st.selectbox("Label", sorted(m["label"]), index=None, placeholder="type to search…")
if label:
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
        new = st.text_area("Description", value=(d or {}).get("description", ""), height=120)
        if st.form_submit_button("Save description"):
            try:
                v = proj.set_description(label, new, author=st.session_state.get("reviewer", ""))
                st.success(f"saved as version {v}; the judge uses it from the next request")
            except RedError as exc:
                st.error(md(exc))
