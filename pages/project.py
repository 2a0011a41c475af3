"""Project: open or create a project file, import texts, embed them, see counts."""

import sys
import tempfile
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import init_session, project, sidebar  # noqa: E402

from red_app.errors import RedError  # noqa: E402
from red_app.project.dataio import import_file  # noqa: E402
from red_app.project.embed import embed_project, missing_texts, project_model  # noqa: E402
from red_app.project.store import Project  # noqa: E402

init_session()
sidebar()
st.title("Project")

with st.form("open"):
    path = st.text_input("Project file (.duckdb)", value=st.session_state["project_path"])
    c1, c2 = st.columns(2)
    opened = c1.form_submit_button("Open")
    created = c2.form_submit_button("Create new")
if opened or created:
    p = Path(path)
    if created and p.exists():
        st.error(f"{p} already exists; open it instead or pick another name")
    elif opened and not p.exists():
        st.error(f"no project at {p}; use **Create new**")
    else:
        if created:
            p.parent.mkdir(parents=True, exist_ok=True)
            Project(p, create=True).close()
        st.session_state["project_path"] = str(p)
        st.rerun()

proj = project()
st.subheader("What the project holds")
status = proj.status()
c = st.columns(5)
c[0].metric("Samples", f"{status['samples']:,}")
c[1].metric("Labels", status["labels"])
c[2].metric("Seed examples", f"{status['roles']['seed']:,}")
c[3].metric("Pool still unlabeled", f"{status['pool_unlabeled']:,}")
c[4].metric("Held out (test)", f"{status['roles']['holdout']:,}")
st.caption("Current labels by origin: " + ", ".join(f"{k} {v:,}" for k, v in status["labeled_by_origin"].items()))

model = project_model(proj)
missing = missing_texts(proj, model)
st.subheader("Embeddings")
if missing:
    st.warning(f"{missing:,} texts are not embedded yet with {model}.")
    if st.button("Embed now", type="primary"):
        bar = st.progress(0.0, text="embedding…")

        def progress(done, total):
            bar.progress(done / max(total, 1), text=f"embedding {done:,} / {total:,}")

        try:
            rep = embed_project(proj, model=model, progress=progress)
            st.success(rep.summary())
        except RedError as exc:
            st.error(str(exc))
else:
    st.success(f"Every text is embedded ({model}).")

st.subheader("Import texts")
st.caption("CSV, TSV, JSONL or Parquet. All or nothing: a file that fails a check changes nothing.")
src = st.radio("Source", ["Upload", "Path on the server"], horizontal=True)
file_path = None
if src == "Upload":
    up = st.file_uploader("File", type=["csv", "tsv", "jsonl", "ndjson", "parquet"])
    if up is not None:
        tmp = Path(tempfile.gettempdir()) / "red-uploads" / up.name
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(up.getvalue())
        file_path = tmp
else:
    typed = st.text_input("Path")
    file_path = Path(typed) if typed else None
with st.form("import"):
    c1, c2, c3 = st.columns(3)
    text_col = c1.text_input("Text column", "text")
    label_col = c2.text_input("Label column (empty: none)", "label")
    id_col = c3.text_input("Id column (optional)", "")
    mode = st.selectbox("Mode", ["labeled", "hidden-gold", "holdout"],
                        help="labeled: labeled rows are seeds, others join the pool. hidden-gold: all rows join "
                        "the pool and the labels are kept apart for evaluation. holdout: a test set.")
    where = st.text_input("Row filter (SQL, optional)", "", placeholder="split = 'train'")
    go = st.form_submit_button("Import", type="primary")
if go:
    if file_path is None:
        st.error("choose a file first")
    else:
        try:
            rep = import_file(proj, file_path, text=text_col or "text", label=label_col or None,
                              id=id_col or None, mode=mode, where=where or None)
            st.success(rep.summary())
            for w in rep.warnings:
                st.warning(w)
        except RedError as exc:
            st.error(str(exc))

per_label = status["per_label"]
if len(per_label):
    st.subheader("Labels")
    st.dataframe(per_label, hide_index=True, width="stretch")
