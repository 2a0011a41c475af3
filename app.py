"""red — the browser app. This entry script only routes; pages live in pages/."""

import logging
import sys
from pathlib import Path

# Import heavy modules before any page runs: a click that interrupts their first lazy
# import left them half-initialised (FACTS: "partially initialized module 'pandas'").
import pandas  # noqa: F401
import plotly.express  # noqa: F401
import streamlit as st

from pages import app_pages, guard_uploads, init_session, md, release_project, routing, warm_up

from red_app.errors import RedError
from red_app.workflows.accounts import serve_refusal

log = logging.getLogger("red.app")

# The tab icon is a file served by this app: a :material/…: favicon is fetched from Google's
# font server (fonts.gstatic.com) by the browser on every page load.
st.set_page_config(page_title="red — Recursive Expert Delegation",
                   page_icon=str(Path(__file__).resolve().parent / "assets" / "icon.png"), layout="wide")
# Served on an address others can reach, with no account: refuse (`red app` refuses before
# starting; this covers `streamlit run app.py --server.address …`).
guard_uploads()  # `red app` installs it before the server starts; this covers `streamlit run app.py`
with routing():  # the pages run inside this entry script (not as legacy pages/ files)
    refusal = serve_refusal(st.get_option("server.address"))
    if refusal:
        print(f"red: error: {refusal}", file=sys.stderr)
        st.error(refusal)
        st.stop()
    init_session()
    warm_up()  # UMAP's one-time compilation starts now, in the background, once per server
    try:
        st.navigation(app_pages()).run()
    except RedError as exc:  # a named error a page did not catch: its message says what to do
        st.error(md(exc))
    except Exception as exc:  # noqa: BLE001 - nothing else reaches the person as a traceback
        if type(exc).__module__.startswith("streamlit"):
            raise  # Streamlit's own control flow (stop, rerun, page switch)
        log.exception("a page failed")
        st.error(f"Something went wrong on this page ({type(exc).__name__}); nothing was lost. Reload the page; "
                 "if it happens again, the server's log has the details.")
    finally:
        release_project()  # idle, the app holds no lock on the project file
