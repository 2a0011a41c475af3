"""Project: open or create a project file, import texts, embed them, see counts."""

from pathlib import Path

import streamlit as st

from pages import allowed, init_session, md, project, sidebar

from red_app.errors import RedError
from red_app.workflows.projects import (
    DEFAULT_MIN_EXAMPLES,
    DELIMITERS,
    MODES,
    OPERATORS,
    Condition,
    build_filter,
    create_project,
    detect_delimiter,
    embed_and_prepare,
    embedding_status,
    guess_columns,
    import_file,
    preview_file,
    save_upload,
)

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
    if opened and not p.exists():
        st.error(f"no project at {md(p)}; use **Create new**")
    else:
        try:
            if created:
                create_project(p)
            st.session_state["project_path"] = str(p)
            st.query_params["project"] = str(p)  # the address names the project: a reload keeps it
            st.rerun()
        except RedError as exc:
            st.error(md(exc))

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

# What the last action did, carried over the rerun that shows the project as it is now
flash = st.session_state.pop("project_flash", None)
if flash:
    title, lines = flash
    st.success(title)
    for line in lines:
        st.text(line)  # file names and labels: plain text

model, missing = embedding_status(proj)
st.subheader("Embeddings")
if missing:
    st.warning(f"{missing:,} texts are not embedded yet with {md(model)}.")
    # the role is checked again on the click: a crafted message can press a disabled button
    if st.button("Embed now", type="primary", disabled=not allowed("import")) and allowed("import"):
        bar = st.progress(0.0, text="embedding…")

        def progress(done, total):
            bar.progress(done / max(total, 1), text=f"embedding {done:,} / {total:,}")

        try:
            done = embed_and_prepare(proj, model=model, progress=progress,
                                     stage=lambda what: bar.progress(1.0, text=f"{what}…"))
            st.session_state["project_flash"] = ("Embedded.", [done.report.summary()])
            st.rerun()  # the counts and this section, as they are now
        except RedError as exc:
            st.error(md(exc))
else:
    st.success(f"Every text is embedded ({md(model)}).")

# How the import's errors name its settings on this page (the CLI names them as flags).
FIELDS = {"text": "the Text column choice", "label": "the Label column choice", "id": "the Id column choice",
          "format": "a file named .csv, .tsv, .jsonl or .parquet", "where": "the row filter",
          "max_chars": "the longest-text limit (the CLI's red import --max-chars)",
          "min_examples": "Minimum examples per label", "merge_case": "the Merge labels box below",
          "delimiter": "the Delimiter choice"}
NONE = "(none)"


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
    up = st.file_uploader("File", type=["csv", "tsv", "txt", "jsonl", "ndjson", "parquet"])
    if up is not None:
        # The upload's name is only displayed and recorded; it is never part of a path.
        key = (up.file_id, up.name, up.size)
        if st.session_state.get("upload_key") != key:
            try:
                st.session_state["upload_path"] = str(save_upload(up.getvalue(), up.name))
                st.session_state["upload_key"] = key
            except RedError as exc:
                st.error(md(exc.phrased(FIELDS)))
        if st.session_state.get("upload_key") == key:
            file_path = Path(st.session_state["upload_path"])
            source_name = up.name
else:
    typed = st.text_input("Path")
    file_path = Path(typed) if typed else None

columns: list[str] = []
delimiter = None
if file_path is not None and not file_path.exists():
    st.error(f"no such file: {md(file_path)}")
elif file_path is not None:
    if file_path.suffix.lower() in (".csv", ".tsv", ".txt"):
        try:
            guessed = detect_delimiter(file_path)
        except OSError as exc:
            guessed = ","
            st.error(md(exc))
        names = list(DELIMITERS)
        delimiter = st.selectbox("Delimiter", names, index=names.index(guessed), format_func=DELIMITERS.get,
                                 key=f"imp_delim_{guessed}_{source_name or file_path}",
                                 help="guessed from the file's first lines; change it if the preview looks wrong")
    try:
        preview = preview_file(file_path, 5, delimiter=delimiter)
        columns = [str(c) for c in preview.columns]
        st.caption(f"First rows of {md(source_name or file_path.name)} ({len(columns)} columns):")
        st.dataframe(preview.astype(str), hide_index=True, width="stretch")
    except RedError as exc:
        st.error(md(exc.phrased(FIELDS)))


n_cond = st.number_input("Row filter conditions (all must hold)", min_value=0, max_value=6, value=0, step=1,
                         disabled=not columns, help="Import only the rows that match: choose a column, an "
                         "operator and a value. Values are taken literally.")
with st.form("import", enter_to_submit=False):  # Enter in a filter value must not start the import
    c1, c2, c3 = st.columns(3)
    guess = guess_columns(columns)
    text_col = c1.selectbox("Text column", columns, index=columns.index(guess["text"]) if guess["text"] else 0,
                            disabled=not columns, placeholder="choose a file first")
    label_opts = [NONE] + columns
    label_col = c2.selectbox("Label column", label_opts, index=label_opts.index(guess["label"] or NONE),
                             disabled=not columns, help="(none): every text joins the pool unlabeled")
    id_opts = [NONE] + columns
    id_col = c3.selectbox("Id column (optional)", id_opts, index=id_opts.index(guess["id"] or NONE),
                          disabled=not columns, help="(none): ids are made from the file name and row number")
    c1, c2 = st.columns([2, 1])
    mode = c1.selectbox("Mode", list(MODES),
                        help="labeled: labeled rows are seeds, others join the pool. hidden-gold: all rows join "
                        "the pool and the labels are kept apart for evaluation. holdout: a test set.")
    min_examples = c2.number_input("Minimum examples per label", min_value=1, max_value=1000,
                                   value=DEFAULT_MIN_EXAMPLES, step=1,
                                   help="labeled mode: a label with fewer examples (counting the project's) is "
                                   "refused, since a classifier cannot learn it from so few")
    conditions = []
    for i in range(int(n_cond) if columns else 0):
        f1, f2, f3 = st.columns([2, 1, 2])
        col = f1.selectbox("Column", columns, key=f"fcol-{i}")
        op = f2.selectbox("Operator", OPERATORS, key=f"fop-{i}")
        val = f3.text_input("Value (for 'is one of': a, b, c)", key=f"fval-{i}")
        conditions.append(Condition(col, op, val))
    merge_case = st.checkbox("Merge labels that differ only by case or surrounding spaces (onto the "
                             "project's or the first-seen spelling)")
    go = st.form_submit_button("Import", type="primary", disabled=not columns)
if go:
    if file_path is None or not columns:
        st.error("choose a file first")
    else:
        try:
            where = build_filter(conditions, columns) if conditions else None
            rep = import_file(proj, file_path, text=text_col, label=None if label_col == NONE else label_col,
                              id=None if id_col == NONE else id_col, mode=mode, where=where,
                              source_name=source_name, merge_case=merge_case, delimiter=delimiter,
                              min_examples=int(min_examples))
            st.session_state["project_flash"] = ("Imported.", [rep.summary()] + ["warning: " + w for w in rep.warnings])
            st.rerun()  # the counts above, as they are after the import
        except RedError as exc:
            st.error("The import was refused; nothing was written.")
            st.text(exc.phrased(FIELDS))

labels_table()
