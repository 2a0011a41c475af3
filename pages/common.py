"""Shared page helpers: the open project, the reviewer's name, the run registry.

Every page calls these itself, so each page file also runs alone (AppTest.from_file).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import streamlit as st

from red_app.errors import RedError
from red_app.jobs import JobRegistry
from red_app.project.store import Project

DEFAULT_PROJECT = ".red/demo.duckdb"

# Every character Markdown, Streamlit's directives (:red[x], :material/icon:), LaTeX ($)
# or HTML could give a meaning to: data is shown as these characters, nothing more.
_AUTOLINK = re.compile(r"(?i)(?<=[a-z])(?=:/)|(?<=www)(?=\.)|(?<=@)")
_MD_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>~:$=&\"'^%@")


def md(value) -> str:
    """``value`` escaped for st.markdown / st.caption / st.error / widget labels: every
    Markdown, HTML, colour-directive or LaTeX character is backslash-escaped and line
    breaks become spaces, so data can never become a link, an image, HTML or a block.
    Prefer st.text or a dataframe for data; use this where data sits inside a sentence."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    # GFM links bare URLs and e-mail addresses after escapes are resolved, so an invisible
    # word joiner breaks "http://", "www." and "a@b" instead.
    text = _AUTOLINK.sub("\u2060", text)
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)



def _argv_project() -> str | None:
    args = sys.argv[1:]
    if "--project" in args:
        i = args.index("--project")
        if i + 1 < len(args):
            return args[i + 1]
    return None


def init_session() -> None:
    st.session_state.setdefault("project_path", _argv_project() or os.environ.get("RED_PROJECT") or DEFAULT_PROJECT)
    st.session_state.setdefault("reviewer", os.environ.get("RED_REVIEWER", ""))


@st.cache_resource(show_spinner=False)
def open_project(path: str) -> Project:
    """One connection per project per server process (DuckDB has one writer)."""
    return Project(Path(path))


@st.cache_resource(show_spinner=False)
def warm_up() -> None:
    """Once per server: UMAP's compilation in a background thread, out of the pages' way."""
    from red_app.method.subsets import warm_umap

    warm_umap(background=True)


@st.cache_resource(show_spinner=False)
def jobs() -> JobRegistry:
    return JobRegistry()


def project(required: bool = True) -> Project | None:
    """The session's project, or a clear message (and a stop) when it cannot be opened."""
    init_session()
    path = st.session_state["project_path"]
    try:
        return open_project(path)
    except RedError as exc:
        if required:
            st.error(f"Cannot open the project: {md(exc)}")
            st.info("Open or create a project on the **Project** page.")
            st.stop()
        return None


def sidebar() -> None:
    init_session()
    with st.sidebar:
        st.caption("Project file")
        st.text(st.session_state["project_path"])
        st.text_input("Your name (recorded with every decision)", key="reviewer")

