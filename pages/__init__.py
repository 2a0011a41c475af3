"""Shared page helpers: the open project, who is using the app, the run registry.

Every page calls these itself, so each page file also runs alone (AppTest.from_file). They
live in the package's ``__init__`` because Streamlit lists every other file of ``pages/`` as
a page before the app's navigation is declared.

Identity: ``st.session_state["reviewer"]`` is the one place pages read the current
person from, and ``st.session_state["role"]`` what they may do (``allowed``). With
accounts (``red user add``) it is the logged-in user; without, on a loopback address, it
is the operating-system user (local single-user mode). Nobody types a name.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from red_app.workflows.accounts import load_config, local_user, may, role_of, users_file
from red_app.errors import RedError
from red_app.workflows.projects import Project, open_project as _open_project

if TYPE_CHECKING:
    from red_app.workflows.jobs import JobRegistry

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


APP = Path(__file__).resolve().parent.parent / "app.py"
_routing = threading.local()


@contextlib.contextmanager
def routing():
    """app.py's run: the pages it runs are routed by st.navigation (see ``_leave_legacy_pages``)."""
    _routing.active = True
    try:
        yield
    finally:
        _routing.active = False


def app_pages(every: bool = False) -> list:
    """The app's pages for st.navigation. Those the session's role may not use stay
    reachable by their address but are not listed (``every``: all listed), so a reviewer
    who opens /run is told why not instead of landing on another page.

    No page icons: the current page's icon becomes the browser tab's icon, and a
    ``:material/…:`` one is fetched from fonts.gstatic.com (an outside request on every
    visit; the Chromium accounts walk counted one for Review's). The tab keeps the app's
    own icon (app.py)."""
    def shown(action: str) -> str:
        return "visible" if every or allowed(action) else "hidden"

    return [
        st.Page("pages/project.py", title="Project", default=True),
        st.Page("pages/subsets.py", title="Subsets"),
        st.Page("pages/run.py", title="Run", visibility=shown("run")),
        st.Page("pages/review.py", title="Review"),
        st.Page("pages/texts.py", title="Texts"),
        st.Page("pages/discover.py", title="Discover"),
        st.Page("pages/audit.py", title="Audit"),
        st.Page("pages/export.py", title="Export", visibility=shown("export")),
    ]


def _leave_legacy_pages() -> None:
    """A deep link (e.g. /review) as the very first visit to a fresh server runs that page file
    alone, in Streamlit's legacy pages/ mode — its sidebar lists the files of pages/ — because no session has called st.navigation yet. Declaring the app's
    navigation ends the legacy mode for every session (Streamlit's documented behaviour);
    the rerun then goes through app.py to the same page (a page's URL is its address in both)."""
    if getattr(_routing, "active", False):
        st.session_state["_routed"] = True
        return
    if st.session_state.get("_routed"):
        return  # a fragment's own rerun (Run's progress, Review's wait) inside a routed page
    if not sys.argv or Path(sys.argv[0]).resolve() != APP:
        return  # a page file run on its own (AppTest.from_file), not the app's server
    # every page: nobody is identified yet, and the address must resolve to its page (app.py
    # applies the person's role on the rerun)
    st.navigation(app_pages(every=True), position="hidden")
    st.rerun()


def server_project() -> str:
    """The project this server was started on (`red app --project`, $RED_PROJECT, the demo)."""
    return _argv_project() or os.environ.get("RED_PROJECT") or DEFAULT_PROJECT


def init_session() -> None:
    """The session's project path and person; with accounts and nobody logged in, the
    login form and a stop (no page shows anything before a login).

    The project is part of the address (``?project=PATH``), so a reload or a shared link
    opens the same one. Only someone who may open projects by path (an admin, or the local
    user) is taken to another project by an address; anyone else works on the server's."""
    _leave_legacy_pages()
    st.session_state.setdefault("project_path", server_project())
    _identify()
    asked = st.query_params.get("project")
    if asked and asked != st.session_state["project_path"]:
        if allowed("open_project") or asked == server_project():
            st.session_state["project_path"] = asked
    if st.query_params.get("project") != st.session_state["project_path"]:
        st.query_params["project"] = st.session_state["project_path"]


def _authenticator(path: Path, cfg: dict):
    """streamlit-authenticator's login, one per session, rebuilt when the accounts file
    changes (a new user can log in at once). The library gets the accounts as a dict, so
    it never writes the file. A login lasts ``cookie.expiry_days`` (default one day) in the
    browser — a reload keeps it — through the library's signed re-login cookie; any change
    of the accounts (`red user add/remove/passwd/rotate-key`) signs with a new key, which
    ends every earlier login."""
    import streamlit_authenticator as stauth

    from red_app.workflows.accounts import COOKIE_DAYS

    key = (str(path), path.stat().st_mtime_ns)
    if st.session_state.get("_auth_key") != key:
        cookie = cfg.get("cookie") or {}
        signing = cookie.get("key") or os.urandom(32).hex()
        st.session_state["_auth"] = stauth.Authenticate(
            cfg["credentials"], cookie.get("name", "red_auth"), signing,
            cookie_expiry_days=float(cookie.get("expiry_days", COOKIE_DAYS)), auto_hash=False, login_sleep_time=0)
        _guard_logins(st.session_state["_auth"])
        st.session_state["_auth_key"] = key
        if st.session_state.get("_auth_signing", signing) != signing and st.session_state.get("authentication_status"):
            # a new key ends every login, the one open in this tab too (not only the next reload's)
            st.session_state["_auth"].logout(location="unrendered")
        st.session_state["_auth_signing"] = signing
    return st.session_state["_auth"]


def _guard_logins(auth) -> None:
    """Every password check of the library's login goes through red's brake on guessing
    (red_app.workflows.accounts.check_login): per account and per client address, a growing
    wait then a lockout, and the same bcrypt work for an unknown name as for a known one. The
    library's own max_login_attempts counts per browser session only: a new tab resets it."""
    from red_app.workflows.accounts import check_login

    model = auth.authentication_controller.authentication_model

    def checked(username: str, password: str) -> bool:
        user = model.credentials["usernames"].get(username)
        return check_login(username, password, user.get("password") if user else None,
                           client=getattr(st.context, "ip_address", None))

    model.check_credentials = checked


def _identify() -> None:
    path = users_file()
    try:
        cfg = load_config(path)
    except RedError as exc:
        _may_upload(False)
        st.error(md(exc))
        st.stop()
    if not cfg["credentials"]["usernames"]:
        st.session_state["reviewer"] = local_user()
        st.session_state["role"] = "admin"
        st.session_state["auth_mode"] = "local"
        _may_upload(True)
        return
    st.session_state["auth_mode"] = "accounts"
    auth = _authenticator(path, cfg)
    role = role_of(st.session_state.get("username"), path) if st.session_state.get("authentication_status") else None
    if role is None:  # not logged in, or the account was removed since
        if st.session_state.get("authentication_status"):
            auth.logout(location="unrendered")
        st.session_state["reviewer"] = ""
        st.session_state["role"] = None
        box = st.empty()
        with box.container():
            st.title("red — log in")
            try:
                auth.login(location="main", key="red-login",
                           fields={"Form name": "Log in", "Username": "User name", "Password": "Password",
                                   "Login": "Log in"})
            except Exception as exc:  # the library's LoginError: e.g. an unknown user in the token
                st.error(md(exc))
            if st.session_state.get("authentication_status") is False:
                st.error("Wrong user name or password.")
        role = role_of(st.session_state.get("username"), path) if st.session_state.get("authentication_status") else None
        if role is None:
            _may_upload(False)
            st.stop()
        if (cfg.get("cookie") or {}).get("name", "red_auth") not in st.context.cookies:
            # logged in by the form just now: the library's cookie is set by a component drawn in
            # the login box, which must reach the browser before the box goes (a reload then keeps
            # the login); the page opens a moment later
            st.caption("Logged in — opening the page…")
            _open_soon()
            st.stop()
        box.empty()
    st.session_state["reviewer"] = st.session_state["username"]
    st.session_state["role"] = role
    _may_upload(may(role, "import"))


# -- uploads only after login (issue 23, row 7) -------------------------------------------
# Streamlit stores a file PUT to /_stcore/upload_file/SESSION/ID for any live websocket
# session, logged in or not, and holds it in memory until that session ends. Here a session
# may upload only while its person may import (an admin, or the local user): the gate runs
# before the body is read, and again where the file would be stored.
_UPLOADERS: set[str] = set()


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else None


def _may_upload(ok: bool) -> None:
    sid = _session_id()
    if sid:
        (_UPLOADERS.add if ok else _UPLOADERS.discard)(sid)


def guard_uploads() -> None:
    """Install the gate (once per process; `app_server.py` does it before the server starts)."""
    from starlette.exceptions import HTTPException
    from streamlit.runtime import Runtime
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager as Files

    if getattr(Runtime.is_active_session, "red_guard", False):
        return
    active, store = Runtime.is_active_session, Files.add_file

    def is_active_session(self, session_id: str) -> bool:  # Streamlit asks this only for an upload
        return active(self, session_id) and session_id in _UPLOADERS

    def add_file(self, session_id: str, file) -> None:
        if session_id not in _UPLOADERS:
            raise HTTPException(status_code=403, detail="log in as an admin to upload a file")
        store(self, session_id, file)

    is_active_session.red_guard = True
    Runtime.is_active_session, Files.add_file = is_active_session, add_file


@st.fragment(run_every=0.5)
def _open_soon() -> None:
    """Rerun the app on this fragment's second run (half a second after the first)."""
    if st.session_state.get("_opening"):
        st.session_state.pop("_opening")
        st.rerun(scope="app")
    st.session_state["_opening"] = True


def allowed(action: str) -> bool:
    """Whether the person using this session may do ``action`` (see red_app.workflows.accounts.ACTIONS)."""
    return may(st.session_state.get("role"), action)


def require(action: str, what: str) -> None:
    """Stop the page with a clear line unless the session's role allows ``action``."""
    if not allowed(action):
        st.info(f"{what} is for admins; you are logged in as {md(st.session_state.get('reviewer'))} "
                f"({md(st.session_state.get('role'))}).")
        st.stop()


# The Projects this thread's script run has used: released at its end without touching
# Streamlit (after st.stop(), any st.* call raises StopException again). Each script run has
# its own: a run stopped by a newer one (fast keys) still finishing its `finally` must not
# close a connection the newer run is using ("Connection already closed!").
_used = threading.local()
PAGE_WAIT = 10.0  # seconds a page waits while another process (a `red` command) holds the file


def open_project(path: str) -> Project:
    """This script run's own Project on ``path``. Its connection is opened on first use and
    closed at the end of the run (``release_project``), so the file is free for `red`
    commands whenever no page is loading and no run is going (a run has its own)."""
    mine = getattr(_used, "by_path", None)
    if mine is None:
        mine = _used.by_path = {}
        _used.projects = []
    held = mine.get(path)
    if held is None:
        held = mine[path] = _open_project(path, wait=PAGE_WAIT)
        _used.projects.append(held)
    return held


def here() -> Project:
    """This run's project, for a widget's callback: callbacks run before the page (and before
    app.py's routing), so they must not set the session up again (:func:`project` would
    declare the navigation and rerun, and the callback's action would be lost)."""
    return open_project(st.session_state["project_path"])


def release_project() -> None:
    """Close the connections this script run used (the end of a page run, or of a
    fragment's run). Safe to call in a ``finally`` after st.stop()."""
    for proj in getattr(_used, "projects", []):
        proj.release()
    _used.projects = []
    _used.by_path = {}


def releasing(fn):
    """For a fragment that reruns alone (``run_every``): release what it opened after it
    (it calls :func:`project` for its own)."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            release_project()

    return run


@st.cache_resource(show_spinner=False)
def warm_up() -> None:
    """Once per server: UMAP's compilation in a background thread, out of the pages' way."""
    from red_app.workflows.label_map import warm_up_maps

    warm_up_maps()


@st.cache_resource(show_spinner=False)
def jobs() -> JobRegistry:
    # imported here: the runner brings scikit-learn (~1.7 s), which the first page does not need
    from red_app.workflows.jobs import JobRegistry

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
        who = st.session_state["reviewer"]
        if st.session_state.get("auth_mode") == "accounts":
            st.caption(f"Logged in as {md(who)} ({md(st.session_state['role'])}); decisions are recorded under "
                       "this name.")
            if st.button("Log out", key="red-logout"):
                st.session_state["_auth"].logout(location="unrendered")
                st.rerun()
        else:
            st.caption(f"Deciding as {md(who)} (this computer's user; `red user add` creates accounts).")



def setting_widget(where, spec, key: str | None = None, value=None):
    """The widget for one declared loop setting (red_app.workflows.settings.SettingSpec),
    in ``where`` (a column, a form); its label, bounds, choices and help come from the
    declaration. ``value``: the starting value (default: the setting's default)."""
    value = spec.default if value is None else value
    kw = {"help": spec.help, "key": key}
    if spec.kind == "choice":
        options = list(spec.choices)
        return where.selectbox(spec.label, options, index=options.index(value) if value in options else 0, **kw)
    if spec.kind == "bool":
        return where.checkbox(spec.label, value=bool(value), **kw)
    if spec.kind == "float":
        if spec.low is not None and spec.high is not None:
            return where.slider(spec.label, float(spec.low), float(spec.high), float(value), spec.step or 0.01, **kw)
        return where.number_input(spec.label, min_value=None if spec.low is None else float(spec.low),
                                  max_value=None if spec.high is None else float(spec.high), value=float(value), **kw)
    return int(where.number_input(spec.label, min_value=None if spec.low is None else int(spec.low),
                                  max_value=None if spec.high is None else int(spec.high),
                                  value=int(value if value is not None else spec.low or 0), step=1, **kw))


# Keys a person types while answering: captured in the browser into a numbered queue that is
# the component's *state* (not a trigger), so presses that arrive while a page run is busy are
# all in the next value — queued, never dropped. The page acknowledges what it handled; the
# browser then forgets those. Constant code, no data in it; keys typed into a field are left alone.
_KEYS_JS = """
export default function(component) {
  const { setStateValue, data } = component;
  const w = window;
  if (!w.__redKeys) {
    w.__redKeys = {seq: 0, queue: [], send: null, path: null, allowed: "", searchUntil: 0};
    document.addEventListener('keydown', (e) => {
      const st = w.__redKeys;
      // only on the page that listens (while it is redrawn its element may be missing: keep the key)
      if (location.pathname !== st.path) return;
      const t = e.target;
      const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
      if (e.key === 'Enter' || e.key === 'Escape') { st.searchUntil = 0; return; }
      if (typing || e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) return;
      const k = e.key.toLowerCase();
      // `o` opens a search: letters typed before its field has the focus are a label being
      // typed, never commands (an `s` in "size_guide" must not skip the text)
      if (k === 'o') { st.searchUntil = Date.now() + 3000; return; }
      if (Date.now() < (st.searchUntil || 0)) { e.preventDefault(); return; }
      if (!st.allowed.includes(k)) return;
      e.preventDefault(); e.stopImmediatePropagation();
      st.seq += 1; st.queue.push([st.seq, k]);
      if (st.send) st.send();
    }, true);
  }
  const st = w.__redKeys;
  st.path = location.pathname;
  st.allowed = (data && data.allowed) || "";
  const acked = (data && data.acked) || 0;
  if (acked > st.seq) st.seq = acked;          // a new window on an old session: keep counting up
  st.queue = st.queue.filter((q) => q[0] > acked);
  st.send = () => setStateValue('pressed', {keys: st.queue.slice()});
  if (st.queue.length) st.send();              // keys pressed while the page was being drawn
}
"""


@st.cache_resource(show_spinner=False)
def _keys_component():
    return st.components.v2.component("red_queued_keys", html="<span></span>", js=_KEYS_JS, isolate_styles=False)


@contextlib.contextmanager
def handling_keys(scope: str = "keys", wait: float = 30.0):
    """Hold while one page run handles its keys. Streamlit starts a newer run of a session
    (a faster key) before the older one has stopped: two runs of one page may overlap, and
    without this both would hand over the same key. The newer run waits for the older to
    finish handling the keys it was given (``wait`` seconds at most)."""
    lock = st.session_state.setdefault(f"_{scope}_lock", threading.Lock())
    got = lock.acquire(timeout=wait)
    try:
        yield
    finally:
        if got:
            lock.release()


def queued_keys(allowed: str, scope: str = "keys"):
    """The keys pressed since the last page run, oldest first (only those in ``allowed``):
    every press arrives, however fast they come. Yields each key, marked handled as it is
    handed over (so a run stopped midway by a newer one never applies a key twice; the keys
    not yet handed over go to the next run). The mark is a dict changed in place, not a
    session-state write: Streamlit stops a run for a newer one only at a session-state or
    element call, so a caller that makes none between two keys applies each key it was
    handed. Call once per run, near the top of a page, inside :func:`handling_keys`."""
    done = st.session_state.setdefault(f"_{scope}_acked", {"seq": 0})
    acked = int(done["seq"])
    result = _keys_component()(key=f"_{scope}_component", data={"acked": acked, "allowed": allowed},
                               default={"pressed": {"keys": []}}, on_pressed_change=lambda: None, height=0)
    value = (result["pressed"] if "pressed" in result else None) or {}
    for seq, key in sorted((int(s), str(k)) for s, k in (value.get("keys") or []) if int(s) > acked):
        if seq <= done["seq"]:
            continue  # an overlapping run handed it over already
        done["seq"] = seq
        yield key
