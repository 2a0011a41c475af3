"""Accounts and roles in the pages (issue #9 item 3), through AppTest on the real demo
project and a real accounts file (bcrypt hashes checked by streamlit-authenticator)."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from red_app.workflows.accounts import add_user, remove_user

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"ana": "ana-admin-pw", "rev": "rev-reviewer-pw"}


@pytest.fixture(scope="module")
def users_built(tmp_path_factory):
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    add_user("ana", PASSWORDS["ana"], "admin", path)
    add_user("rev", PASSWORDS["rev"], "reviewer", path)
    return path


@pytest.fixture
def env(demo_built, users_built, tmp_path, monkeypatch):
    dst, users = tmp_path / "demo.duckdb", tmp_path / "users.yaml"
    shutil.copy(demo_built, dst)
    shutil.copy(users_built, users)
    monkeypatch.setenv("RED_PROJECT", str(dst))
    monkeypatch.setenv("RED_USERS", str(users))
    return dst, users


def page(name) -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)


def login(at: AppTest, name: str, password: str | None = None) -> AppTest:
    by_label = {t.label: t for t in at.text_input}
    by_label["User name"].input(name)
    by_label["Password"].input(PASSWORDS.get(name, "") if password is None else password)
    next(b for b in at.button if b.label == "Log in").click().run()
    return at


def human_actors(path):
    from red_app.project.store import Project

    with Project(path) as p:
        return p.cursor().execute("SELECT actor, verdict FROM annotations WHERE origin = 'human'").fetchall()


@pytest.mark.parametrize("name", ["review", "project", "texts", "discover", "subsets", "audit", "run", "export"])
def test_every_page_asks_for_a_login_and_shows_nothing_else(env, name):
    at = page(name).run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert [t.value for t in at.title] == ["red — log in"]
    assert not at.metric and not at.dataframe  # no project data before a login
    assert at.session_state["reviewer"] == ""


def test_a_wrong_password_is_refused(env):
    at = login(page("review").run(), "rev", "not-the-password")
    assert any("Wrong user name or password" in e.value for e in at.error)
    assert at.session_state["reviewer"] == ""
    assert "Review" not in [t.value for t in at.title]


def test_a_decision_is_recorded_under_the_logged_in_account(env):
    dst, _ = env
    at = login(page("review").run(), "rev")
    assert not at.exception
    assert at.title[0].value == "Review"
    assert at.session_state["reviewer"] == "rev" and at.session_state["role"] == "reviewer"
    next(b for b in at.button if b.label.startswith("1 · ")).click().run()
    assert not at.exception
    assert human_actors(dst) == [("rev", "valid")]
    # the name holds for the session's later runs (page changes run the same session)
    at.run()
    assert at.session_state["reviewer"] == "rev"


def test_a_reviewer_cannot_reach_admin_actions(env):
    at = login(page("run").run(), "rev")
    assert not at.exception
    assert any("is for admins" in i.value for i in at.info)
    assert not [b for b in at.button if b.label in ("Start run", "Measure the judge on seeds")]
    at = login(page("export").run(), "rev")
    assert any("is for admins" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "Prepare export"]
    at = login(page("project").run(), "rev")
    assert not at.exception
    labels = {b.label for b in at.button}
    assert not labels & {"Open", "Create new", "Import"}  # no free paths, no import
    assert not [r for r in at.radio if "Path on the server" in r.options]
    assert at.metric  # the counts are there to read
    at = login(page("subsets").run(), "rev")
    assert next(b for b in at.button if b.label == "Compute subsets").disabled


def test_a_pressed_disabled_button_does_nothing_for_a_reviewer(env):
    """AppTest presses a disabled widget as a crafted websocket message could: the role is
    checked on the click too, not only by the widget's look."""
    from red_app.project.store import Project

    dst, _ = env
    at = login(page("audit").run(), "rev")
    draw = next(b for b in at.button if b.label == "Draw an audit sample")
    assert draw.disabled
    draw.proto.disabled = False  # what a crafted message does: the flag lives in the browser
    draw.click().run()
    assert not at.exception
    at = login(page("texts").run(), "rev")
    opened = next(s for s in at.selectbox if s.label.startswith("Open a text"))
    sid = opened.options[0]
    opened.select(sid).run()
    at.text_input(key=f"texts-new-{sid}").input("brand_new_label").run()
    create = next(b for b in at.button if b.label == "Create the label")
    assert create.disabled
    create.proto.disabled = False
    create.click().run()
    assert not at.exception
    with Project(dst) as p:
        assert "brand_new_label" not in p.labels()
        assert p.cursor().execute("SELECT count(*) FROM audit_samples").fetchall()[0][0] == 0


def test_an_admin_reaches_the_admin_actions(env):
    at = login(page("run").run(), "ana")
    assert not at.exception
    assert [b for b in at.button if b.label == "Start run"]
    at = login(page("project").run(), "ana")
    assert {"Open", "Create new", "Import"} <= {b.label for b in at.button}
    assert "Path on the server" in at.radio[0].options


def test_a_removed_account_is_logged_out_at_its_next_step(env):
    _, users = env
    at = login(page("review").run(), "rev")
    assert at.session_state["reviewer"] == "rev"
    remove_user("rev", users)
    at.run()
    assert at.session_state["reviewer"] == ""
    assert [t.label for t in at.text_input] == ["User name", "Password"]


@pytest.mark.parametrize("change", ["password", "key"])
def test_a_changed_password_or_key_ends_a_login_already_open(env, change):
    from red_app.workflows.accounts import rotate_key

    _, users = env
    at = login(page("review").run(), "rev")
    assert at.session_state["reviewer"] == "rev"
    if change == "password":
        add_user("rev", "a-new-password", "reviewer", users, replace=True)
    else:
        rotate_key(users)
    at.run()  # the tab's next step, no reload
    assert at.session_state["reviewer"] == ""
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    at = login(at, "rev", "a-new-password" if change == "password" else None)
    assert at.session_state["reviewer"] == "rev"


def test_logging_out_asks_for_the_login_again(env):
    at = login(page("review").run(), "ana")
    next(b for b in at.sidebar.button if b.label == "Log out").click().run()
    assert at.session_state["reviewer"] == ""
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_the_app_refuses_an_exposed_address_without_accounts(demo_built, tmp_path, monkeypatch):
    from streamlit import config

    monkeypatch.setenv("RED_PROJECT", str(demo_built))
    monkeypatch.setenv("RED_USERS", str(tmp_path / "none.yaml"))
    old = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    finally:
        config.set_option("server.address", old)
    assert not at.exception
    assert len(at.error) == 1 and "refusing to serve on 0.0.0.0" in at.error[0].value
    assert not at.title and not at.metric  # no page ran


def test_a_run_is_recorded_under_the_admin_who_started_it(env):
    import time

    from red_app.project.store import Project

    dst, _ = env
    at = login(page("run").run(), "ana")
    next(b for b in at.button if b.label == "Start run").click().run()
    assert not at.exception
    deadline = time.time() + 120
    while time.time() < deadline:  # the run goes on in a thread of this process
        with Project(dst) as p:
            runs = p.runs()
        if len(runs) == 2 and runs.status.iloc[-1] != "running":
            break
        time.sleep(1)
    with Project(dst) as p:
        assert p.run_config(int(p.runs().run_id.iloc[-1]))["started_by"] == "ana"


def test_guessing_a_password_is_braked_even_with_the_right_one(env):
    """Issue 23, row 3: after a few failures the account waits (a growing wait, then a
    lockout), whatever tab or session the tries come from; the right password waits too."""
    _, users = env
    add_user("guessed", "the-right-password", "reviewer", users, replace=True)
    for _ in range(3):  # each try in a new session, as a script would open new tabs
        at = login(page("review").run(), "guessed", "wrong-guess")
        assert any("Wrong user name or password" in e.value for e in at.error)
    at = login(page("review").run(), "guessed", "the-right-password")
    assert any("too many failed logins" in e.value for e in at.error), [e.value for e in at.error]
    assert at.session_state["reviewer"] == "" and not at.exception


def test_the_brake_counts_per_name_and_client_and_locks_out():
    from red_app.workflows.accounts import (
        FREE_FAILURES, LOCKOUT_AFTER, LOCKOUT_SECONDS, LoginRefused, LoginThrottle, check_login)

    now = [1000.0]
    t = LoginThrottle(clock=lambda: now[0])
    for _ in range(FREE_FAILURES):
        t.fail("ana", "10.0.0.1")
    assert t.wait_for("ana", None) > 0 and t.wait_for("bo", "10.0.0.1") > 0  # the name, and the client
    assert t.wait_for("bo", "10.0.0.2") == 0
    first = t.wait_for("ana", None)
    now[0] += first
    t.fail("ana", None)
    assert t.wait_for("ana", None) > first  # each failure doubles the wait
    for _ in range(LOCKOUT_AFTER):
        now[0] += 1
        t.fail("ana", None)
    assert LOCKOUT_SECONDS - 1 <= t.wait_for("ana", None) <= LOCKOUT_SECONDS
    # an unknown name is braked the same way, and answered after a bcrypt check like a known one
    fresh = LoginThrottle()
    for _ in range(FREE_FAILURES):
        assert check_login("nobody", "x", None, throttle=fresh) is False
    with pytest.raises(LoginRefused, match="try again in"):
        check_login("nobody", "x", None, throttle=fresh)


def test_tries_sent_at_once_are_all_counted():
    """Many sessions trying at the same moment: each try is counted when it starts, so they
    cannot all pass the check before any failure is recorded."""
    from concurrent.futures import ThreadPoolExecutor

    from red_app.workflows.accounts import FREE_FAILURES, LoginRefused, LoginThrottle, check_login

    t = LoginThrottle()

    def attempt(_):
        try:
            check_login("ana", "guess", None, throttle=t)
            return "tried"
        except LoginRefused:
            return "refused"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("tried") == FREE_FAILURES and outcomes.count("refused") == 12 - FREE_FAILURES
