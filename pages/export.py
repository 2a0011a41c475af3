"""Export: the labeled dataset — every text with its label, confidence, origin and history."""

import tempfile
from pathlib import Path

import streamlit as st

from pages import md, project, require, sidebar

from red_app.errors import RedError
from red_app.workflows.projects import EXPORT_ORIGINS, export_labels

sidebar()
require("export", "Exporting the labels")
proj = project()
st.title("Export")
st.caption("One row per text: its label, a confidence, its origin — seed, import, judge, human, or model (the "
           "final model's prediction, refreshed after every run or with `red predict`) — whether it needs review, "
           "the model's alternatives, who decided, and the full decision history.")
st_ = proj.status()
st.caption(f"{st_['model_labeled']:,} of {st_['pool_unlabeled']:,} undecided pool texts have a model label.")
# One form: the settings travel with the click that uses them. As loose widgets, a click on
# Export right after moving a slider was lost (the slider's rerun swallowed it).
with st.form("export_form", border=False):
    c1, c2, c3 = st.columns(3)
    fmt = c1.radio("Format", ["csv", "parquet", "jsonl"], horizontal=True)
    min_conf = c2.slider("Minimum confidence", 0.0, 1.0, 0.0, 0.01,
                         help="decided labels count as 1; a judge's as its P(right); a model label as its calibrated "
                         "confidence")
    origins = c3.multiselect("Origins", list(EXPORT_ORIGINS), default=list(EXPORT_ORIGINS))
    c1, c2 = st.columns(2)
    review_below = c1.slider("Mark model labels below this confidence as needs_review", 0.0, 1.0, 0.0, 0.01)
    unl = c2.checkbox("Include texts with no label at all")
    hist = c2.checkbox("Include the decision history", value=True)
    go = st.form_submit_button("Prepare export", type="primary")
if go:
    try:
        out = Path(tempfile.mkdtemp(prefix="red-export-")) / f"{proj.path.stem}-labels.{fmt}"
        n = export_labels(proj, out, include_unlabeled=unl, min_confidence=min_conf or None, origins=origins,
                          history=hist, review_below=review_below or None)
        # kept per project: another project's file is never offered here
        st.session_state.setdefault("export_files", {})[str(proj.path)] = str(out)
        st.success(f"{n:,} rows ready (minimum confidence {min_conf:g}, origins {md(', '.join(origins))})")
    except RedError as exc:
        st.error(md(exc))
path = st.session_state.get("export_files", {}).get(str(proj.path))
if path and Path(path).exists():
    mime = {"csv": "text/csv", "parquet": "application/octet-stream", "jsonl": "application/json"}[Path(path).suffix[1:]]
    st.download_button(f"Download {md(Path(path).name)}", Path(path).read_bytes(), file_name=Path(path).name, mime=mime)
