"""`red user add|list|remove` (accounts for the app) and `red app` (start it, refusing an
exposed address without accounts)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from .common import clean


def _path(a) -> Path | None:
    return Path(a.users).expanduser() if a.users else None


def _read_password(a) -> str:
    if a.password_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        from ..workflows.accounts import AccountError

        raise AccountError("the two passwords differ; nothing was changed")
    return first


def cmd_user(a) -> int:
    from ..workflows.accounts import accounts, add_user, remove_user, rotate_key, users_file

    path = _path(a) or users_file()
    if a.action == "rotate-key":
        rotate_key(path)
        print(f"new login key in {clean(path)}: everyone logs in again with their password")
        return 0
    if a.action == "list":
        accs = accounts(path)
        if not accs:
            print(f"no accounts in {clean(path)}: the app runs in local single-user mode (loopback only)")
        for acc in accs:
            print(f"{clean(acc.name)}\t{acc.role}")
        return 0
    if not a.name:
        print(f"red: error: `red user {a.action}` needs a NAME", file=sys.stderr)
        return 2
    if a.action == "add":
        acc = add_user(a.name, _read_password(a), a.role, path, replace=a.replace)
        print(f"user {clean(acc.name)} ({acc.role}) saved in {clean(path)}")
    elif a.action == "passwd":
        role = next((x.role for x in accounts(path) if x.name == a.name.strip().lower()), None)
        if role is None:
            print(f"red: error: no user {clean(a.name)} in {clean(path)}; see `red user list`", file=sys.stderr)
            return 1
        add_user(a.name, _read_password(a), role, path, replace=True)
        print(f"new password for {clean(a.name.strip().lower())}; every login made before it has ended")
    else:
        remove_user(a.name, path)
        print(f"user {clean(a.name.strip().lower())} removed from {clean(path)}")
    return 0


def cmd_app(a) -> int:
    from ..workflows.accounts import serve_refusal

    refusal = serve_refusal(a.address, _path(a))
    if refusal:
        print(f"red: error: {refusal}", file=sys.stderr)
        return 2
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    if a.users:
        env["RED_USERS"] = str(_path(a))
    if not 1 <= a.max_upload_mb <= 4096:
        print("red: error: --max-upload-mb must be between 1 and 4096", file=sys.stderr)
        return 2
    cmd = [sys.executable, str(root / "app_server.py"), "run", str(root / "app.py"), "--server.address", a.address,
           "--server.port", str(a.port), "--server.maxUploadSize", str(a.max_upload_mb), "--", *(["--project", str(Path(a.project).resolve())] if a.project else [])]
    # Streamlit takes this process's place: a SIGTERM or Ctrl-C to `red app` reaches the server
    # itself (a child started with subprocess stayed up after its parent was told to stop).
    # In the repository, so its .streamlit/config.toml applies.
    os.chdir(root)
    os.execve(sys.executable, cmd, env)
    return 0  # pragma: no cover - execve does not return


def register(sub) -> None:
    p = sub.add_parser("user", help="accounts for the app: add, list, remove, passwd, rotate-key",
                       description="Accounts for the browser app. With at least one account every page asks for "
                       "a login and records decisions under it; reviewers review and describe labels, admins "
                       "also import, run, change settings, export and open projects. Passwords are stored "
                       "bcrypt-hashed in the accounts file ($RED_USERS, else ~/.config/red/users.yaml), never "
                       "in the project.")
    p.add_argument("action", choices=("add", "list", "remove", "passwd", "rotate-key"),
                   help="passwd: a new password; rotate-key: end every login (a new key signs the re-login cookies)")
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=("admin", "reviewer"), default="reviewer")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of standard input (also when stdin is not a "
                   "terminal); otherwise it is asked for twice")
    p.add_argument("--replace", action="store_true", help="reset an existing user's password and role")
    p.add_argument("--users", default=None, help="the accounts file (default $RED_USERS or ~/.config/red/users.yaml)")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("app", help="start the browser app",
                       description="Start the browser app. On an address other than loopback it refuses to start "
                       "unless accounts exist (`red user add NAME --role admin`).")
    p.add_argument("--project", default=None)
    p.add_argument("--address", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--users", default=None, help="the accounts file (default $RED_USERS or ~/.config/red/users.yaml)")
    p.add_argument("--max-upload-mb", dest="max_upload_mb", type=int, default=100, metavar="MB",
                   help="the largest file the Project page accepts, in MB (default 100; larger files: `red import` "
                   "on the server)")
    p.set_defaults(func=cmd_app)
