"""red — the browser app. This entry script only routes; pages live in pages/."""

import sys
from pathlib import Path

# Import heavy modules before any page runs: a click that interrupts their first lazy
# import left them half-initialised (FACTS: "partially initialized module 'pandas'").
import pandas  # noqa: F401
import plotly.express  # noqa: F401
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "pages"))
from common import init_session, warm_up  # noqa: E402

st.set_page_config(page_title="red — Recursive Expert Delegation", page_icon=":material/label:", layout="wide")
init_session()
warm_up()  # UMAP's one-time compilation starts now, in the background, once per server

pages = [
    st.Page("pages/project.py", title="Project", icon=":material/folder_open:", default=True),
    st.Page("pages/subsets.py", title="Subsets", icon=":material/bubble_chart:"),
    st.Page("pages/run.py", title="Run", icon=":material/play_arrow:"),
    st.Page("pages/review.py", title="Review", icon=":material/fact_check:"),
    st.Page("pages/texts.py", title="Texts", icon=":material/search:"),
    st.Page("pages/audit.py", title="Audit", icon=":material/policy:"),
    st.Page("pages/export.py", title="Export", icon=":material/download:"),
]
st.navigation(pages).run()
