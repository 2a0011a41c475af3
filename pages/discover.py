"""Discover: the texts that fit none of the labels, in groups — each a new label waiting for
a name (issue 20; `red discover` on the command line)."""

import streamlit as st

from pages import allowed, here, md, project, sidebar

from red_app.errors import RedError
from red_app.workflows.discover import DISCOVER_ALPHA, discover, label_from_group
from red_app.workflows.texts import MAX_DESCRIPTION_CHARS

GROUPS_SHOWN = 20

sidebar()
proj = project()
st.title("Discover")
st.caption("Texts nobody labeled that are unlike every label's known texts — and those people said fit none of the "
           "labels shown — grouped by meaning. A group that is a real topic becomes a new label in one step: its "
           "texts are the label's first examples, as your decisions (undo takes them back), and the next run "
           "trains on it.")
c = st.columns([2, 1, 1])
alpha = c[0].slider("Look at texts less like the labels than this share of known texts", 0.05, 0.8,
                    float(DISCOVER_ALPHA), 0.05,
                    help="0.05: only the clearest; higher: more texts, and a new label's texts that look a little "
                    "like a known one still join its group")
min_group = c[1].number_input("Fewest texts in a group (0: automatic)", 0, 1000, 0, 1)
if c[2].button("Find groups", type="primary"):
    try:
        with st.spinner("grouping the texts (UMAP, HDBSCAN)…"):
            st.session_state["discover_found"] = (str(proj.path), discover(proj, alpha=alpha,
                                                                           min_group=int(min_group) or None))
    except RedError as exc:
        st.error(md(exc))


def _make_label(number: int) -> None:
    """A form's submit: group ``number`` of the groups on screen becomes a label."""
    path, found = st.session_state.get("discover_found", (None, None))
    if not allowed("add_label"):  # checked on the click too
        st.session_state["discover_flash"] = ("error", "Creating a label is for admins.")
        return
    try:
        take = int(st.session_state.get(f"discover-take-{number}") or 0) or None
        name, n = label_from_group(here(), found, number, st.session_state.get(f"discover-name-{number}", ""),
                                   reviewer=st.session_state.get("reviewer", ""), take=take,
                                   description=st.session_state.get(f"discover-desc-{number}") or None)
        st.session_state["discover_flash"] = ("success", f"new label {name} with {n} example(s); the next run "
                                                         "trains on it. Find groups again to see what is left.")
        st.session_state.pop("discover_found", None)  # the groups changed: a new label took some texts
    except RedError as exc:
        st.session_state["discover_flash"] = ("error", str(exc))


flash = st.session_state.pop("discover_flash", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(md(flash[1]))
path, found = st.session_state.get("discover_found", (None, None))
if found is None or path != str(proj.path):
    st.info("Press **Find groups** to look (a few seconds; more for large pools).")
    st.stop()
st.caption(md(found.summary()))
if not found.groups:
    st.info("No group: the texts unlike the labels are scattered (noise), or too few. Try a lower group size.")
for g in found.groups[:GROUPS_SHOWN]:
    words = ", ".join(g.words) or "–"
    # an expander's label is Markdown: words and label names from data are escaped
    with st.expander(f"{g.number} · {g.size} texts · {md(words)} · nearest label {md(g.nearest_label)} "
                     f"({g.nearest_similarity:.2f})"):
        st.text("\n".join(t[:200] for t in g.typical))  # data as plain text, never Markdown
        with st.form(f"discover-form-{g.number}", border=False):
            f = st.columns([2, 1])
            f[0].text_input("Name of the new label", key=f"discover-name-{g.number}")
            f[1].number_input("Only the most typical (0: all)", 0, g.size, 0, 1, key=f"discover-take-{g.number}")
            st.text_area("What it means (optional)", key=f"discover-desc-{g.number}", max_chars=MAX_DESCRIPTION_CHARS)
            st.form_submit_button("Make it a label", on_click=_make_label, args=(g.number,),
                                  disabled=not allowed("add_label"))
if len(found.groups) > GROUPS_SHOWN:
    st.caption(f"{len(found.groups) - GROUPS_SHOWN} smaller or more label-like groups not shown (`red discover "
               "--json` lists every one).")
