"""Accounts, roles and the serving rule (issue #9 item 3): the library and `red user`."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from red_app.workflows.accounts import (ACTIONS, AccountError, accounts, add_user, is_loopback, may, remove_user, role_of,
                              serve_refusal)


def test_roles_may_what_the_issue_says():
    for action in ("review", "describe"):
        assert may("reviewer", action) and may("admin", action)
    for action in ("import", "run", "settings", "export", "open_project", "server_paths"):
        assert may("admin", action) and not may("reviewer", action), action
    assert not any(may(None, a) for a in ACTIONS)  # nobody logged in: nothing
    assert not may("root", "review")
    with pytest.raises(ValueError):
        may("admin", "launch_missiles")


def test_a_user_is_stored_hashed_outside_the_project_and_checked_by_the_library(tmp_path):
    from streamlit_authenticator.utilities.hasher import Hasher

    path = tmp_path / "cfg" / "users.yaml"
    add_user("Ana", "correct horse", "admin", path)
    add_user("ben", "battery staple", "reviewer", path)
    raw = path.read_text()
    assert "correct horse" not in raw and "battery staple" not in raw
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    users = yaml.safe_load(raw)["credentials"]["usernames"]
    assert set(users) == {"ana", "ben"}  # stored lower case, as the login form compares
    assert Hasher.check_pw("correct horse", users["ana"]["password"])
    assert not Hasher.check_pw("wrong", users["ana"]["password"])
    assert [(a.name, a.role) for a in accounts(path)] == [("ana", "admin"), ("ben", "reviewer")]
    assert role_of("ANA", path) == "admin" and role_of("nobody", path) is None
    with pytest.raises(AccountError, match="exists"):
        add_user("ana", "another password", "reviewer", path)
    add_user("ana", "another password", "reviewer", path, replace=True)
    assert role_of("ana", path) == "reviewer"
    remove_user("ben", path)
    assert [a.name for a in accounts(path)] == ["ana"]
    with pytest.raises(AccountError, match="no user"):
        remove_user("ben", path)


@pytest.mark.parametrize("name,password,role,match", [
    ("", "long enough", "admin", "not allowed"), ("a b", "long enough", "admin", "not allowed"),
    ("../x", "long enough", "admin", "not allowed"), ("ana", "short", "admin", "at least"),
    ("ana", "long enough", "owner", "role"),
])
def test_bad_accounts_are_refused_clearly(tmp_path, name, password, role, match):
    path = tmp_path / "users.yaml"
    with pytest.raises(AccountError, match=match):
        add_user(name, password, role, path)
    assert not path.exists()


def test_a_broken_accounts_file_is_one_clear_error(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("credentials: [1, 2\n")
    with pytest.raises(AccountError, match="cannot read"):
        accounts(path)
    path.write_text("just a string\n")
    with pytest.raises(AccountError, match="not an accounts file"):
        accounts(path)


def test_serving_beyond_loopback_needs_an_account(tmp_path):
    path = tmp_path / "users.yaml"
    assert all(is_loopback(a) for a in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))
    assert not any(is_loopback(a) for a in ("0.0.0.0", "", None, "10.0.0.5", "::", "example.org"))
    assert serve_refusal("127.0.0.1", path) is None
    line = serve_refusal("0.0.0.0", path)
    assert "red user add" in line and "\n" not in line
    assert "every interface" in serve_refusal(None, path)
    add_user("ana", "long enough", "admin", path)
    assert serve_refusal("0.0.0.0", path) is None


def _red(*args, stdin=None, env=None):
    red = Path(sys.executable).parent / "red"
    return subprocess.run([str(red), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_red_user_cli_and_red_app_refusal(tmp_path):
    path = tmp_path / "users.yaml"
    r = _red("user", "list", "--users", str(path))
    assert r.returncode == 0 and "local single-user mode" in r.stdout
    r = _red("user", "add", "ana", "--role", "admin", "--users", str(path), stdin="a long password\n")
    assert r.returncode == 0, r.stderr
    r = _red("user", "add", "ben", "--users", str(path), stdin="short\n")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "at least" in r.stderr and "Traceback" not in r.stderr
    r = _red("user", "list", env={"RED_USERS": str(path)})
    assert r.stdout.split() == ["ana", "admin"]
    # an exposed address with no account: one line, non-zero, and nothing started
    r = _red("app", "--address", "0.0.0.0", "--users", str(tmp_path / "none.yaml"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "refusing to serve on 0.0.0.0" in r.stderr
    r = _red("user", "remove", "ana", "--users", str(path))
    assert r.returncode == 0 and accounts(path) == []


def test_every_change_of_the_accounts_ends_earlier_logins(tmp_path):
    """The re-login cookie is signed with the file's key: add, remove, a new password and
    rotate-key each sign with a new one, so no cookie made before the change logs in."""
    from red_app.workflows.accounts import AccountError, add_user, load_config, remove_user, rotate_key

    f = tmp_path / "users.yaml"
    add_user("ana", "first-password", "admin", f)
    keys = [load_config(f)["cookie"]["key"]]
    add_user("ben", "second-password", "reviewer", f)
    keys.append(load_config(f)["cookie"]["key"])
    add_user("ana", "a-new-password", "admin", f, replace=True)  # `red user passwd ana`
    keys.append(load_config(f)["cookie"]["key"])
    remove_user("ben", f)
    keys.append(load_config(f)["cookie"]["key"])
    rotate_key(f)
    keys.append(load_config(f)["cookie"]["key"])
    assert len(set(keys)) == len(keys) and all(len(k) == 64 for k in keys)
    assert 0 < load_config(f)["cookie"]["expiry_days"] <= 7  # a login expires
    with pytest.raises(AccountError, match="at most 72 bytes"):
        add_user("cy", "é" * 40, "reviewer", f)  # 80 bytes: bcrypt would refuse it with a traceback
