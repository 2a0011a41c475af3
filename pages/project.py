"""Project: open or create a project file, import texts, embed them, see counts."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import allowed, init_session, md, project, sidebar  # noqa: E402

from red_app.errors import RedError  # noqa: E402
from red_app.project.dataio import file_columns, import_file, save_upload  # noqa: E402
from red_app.project.embed import embed_project, missing_texts, project_model  # noqa: E402
from red_app.project.filters import OPERATORS, Condition, build_filter  # noqa: E402
from red_app.project.store import Project  # noqa: E402

init_session()
sidebar()
st.title("Project")

opened = created = False
if allowed("open_project"):  # a free path on the server: admins only
    with st.form("open"):
        path = st.text_input("Project file (.duckdb)", value=st.session_state["project_path"])
        c1, c2 = st.columns(2)
        opened = c1.form_submit_button("Open")
        created = c2.form_submit_button("Create new")
if opened or created:
    p = Path(path)
    if created and p.exists():
        st.error(f"{md(p)} already exists; open it instead or pick another name")
    elif opened and not p.exists():
        st.error(f"no project at {md(p)}; use **Create new**")
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
    st.warning(f"{missing:,} texts are not embedded yet with {md(model)}.")
    if st.button("Embed now", type="primary", disabled=not allowed("import")):
        bar = st.progress(0.0, text="embedding…")

        def progress(done, total):
            bar.progress(done / max(total, 1), text=f"embedding {done:,} / {total:,}")

        try:
            rep = embed_project(proj, model=model, progress=progress)
            st.success(md(rep.summary()))
        except RedError as exc:
            st.error(md(exc))
else:
    st.success(f"Every text is embedded ({md(model)}).")



def labels_table() -> None:
    if len(status["per_label"]):
        st.subheader("Labels")
        st.dataframe(status["per_label"], hide_index=True, width="stretch")


if not allowed("import"):
    labels_table()
    st.stop()

st.subheader("Import texts")
st.caption("CSV, TSV, JSONL or Parquet. All or nothing: a file that fails a check changes nothing.")
src = st.radio("Source", ["Upload", "Path on the server"] if allowed("server_paths") else ["Upload"], horizontal=True)
file_path = None
source_name = None
if src == "Upload":
    up = st.file_uploader("File", type=["csv", "tsv", "jsonl", "ndjson", "parquet"])
    if up is not None:
        # The upload's name is only displayed and recorded; it is never part of a path.
        key = (up.file_id, up.name, up.size)
        if st.session_state.get("upload_key") != key:
            try:
                st.session_state["upload_path"] = str(save_upload(up.getvalue(), up.name))
                st.session_state["upload_key"] = key
            except RedError as exc:
                st.error(md(exc))
        if st.session_state.get("upload_key") == key:
            file_path = Path(st.session_state["upload_path"])
            source_name = up.name
else:
    typed = st.text_input("Path")
    file_path = Path(typed) if typed else None

columns: list[str] = []
if file_path is not None and file_path.exists():
    try:
        columns = file_columns(file_path)
    except RedError as exc:
        st.error(md(exc))
n_cond = st.number_input("Row filter conditions (all must hold)", min_value=0, max_value=6, value=0, step=1,
                         disabled=not columns, help="Import only the rows that match: choose a column, an "
                         "operator and a value. Values are taken literally.")
with st.form("import"):
    c1, c2, c3 = st.columns(3)
    text_col = c1.text_input("Text column", "text")
    label_col = c2.text_input("Label column (empty: none)", "label")
    id_col = c3.text_input("Id column (optional)", "")
    mode = st.selectbox("Mode", ["labeled", "hidden-gold", "holdout"],
                        help="labeled: labeled rows are seeds, others join the pool. hidden-gold: all rows join "
                        "the pool and the labels are kept apart for evaluation. holdout: a test set.")
    conditions = []
    for i in range(int(n_cond) if columns else 0):
        f1, f2, f3 = st.columns([2, 1, 2])
        col = f1.selectbox("Column", columns, key=f"fcol-{i}")
        op = f2.selectbox("Operator", OPERATORS, key=f"fop-{i}")
        val = f3.text_input("Value (for 'is one of': a, b, c)", key=f"fval-{i}")
        conditions.append(Condition(col, op, val))
    merge_case = st.checkbox("Merge labels that differ only by case or surrounding spaces (onto the "
                             "project's or the first-seen spelling)")
    go = st.form_submit_button("Import", type="primary")
if go:
    if file_path is None:
        st.error("choose a file first")
    else:
        try:
            where = build_filter(conditions, columns) if conditions else None
            rep = import_file(proj, file_path, text=text_col or "text", label=label_col or None,
                              id=id_col or None, mode=mode, where=where, source_name=source_name,
                              merge_case=merge_case)
            st.text(rep.summary())
            for w in rep.warnings:
                st.text("warning: " + w)
        except RedError as exc:
            st.error("The import was refused; nothing was written.")
            st.text(str(exc))

labels_table()
