"""Export: the labeled set with origin and decision history."""

import sys
import tempfile
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import md, project, sidebar  # noqa: E402

from red_app.errors import RedError  # noqa: E402
from red_app.project.dataio import export_labels  # noqa: E402

sidebar()
proj = project()
st.title("Export")
st.caption("Every labeled sample with its current label, who or what decided it, and the full decision history.")
fmt = st.radio("Format", ["csv", "parquet", "jsonl"], horizontal=True)
unl = st.checkbox("Include pool samples without a label")
if st.button("Prepare export", type="primary"):
    try:
        out = Path(tempfile.mkdtemp(prefix="red-export-")) / f"{proj.path.stem}-labels.{fmt}"
        n = export_labels(proj, out, include_unlabeled=unl)
        st.session_state["export_file"] = str(out)
        st.success(f"{n:,} rows ready")
    except RedError as exc:
        st.error(md(exc))
path = st.session_state.get("export_file")
if path and Path(path).exists():
    mime = {"csv": "text/csv", "parquet": "application/octet-stream", "jsonl": "application/json"}[Path(path).suffix[1:]]
    st.download_button(f"Download {md(Path(path).name)}", Path(path).read_bytes(), file_name=Path(path).name, mime=mime)
