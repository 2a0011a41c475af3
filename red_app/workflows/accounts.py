"""Who may use the app and what each role may do (issue #9 item 3).

Accounts live in one YAML file *outside the repository and the project*, in the format
streamlit-authenticator reads (``credentials.usernames.NAME.{name, password, roles}`` and
a ``cookie`` block with a random signing key). Passwords are stored as bcrypt hashes —
the hash streamlit-authenticator's ``Hasher`` makes and checks at login; this module
never sees a password again after hashing it.

Where the file is: ``$RED_USERS`` if set, else ``$XDG_CONFIG_HOME/red/users.yaml``
(``~/.config/red/users.yaml``). The file is written with mode 0600.

Two modes:

- **accounts** (the file lists at least one user): every page asks for a login; every
  decision, description and run is recorded under the account's user name; what a role
  may do is :func:`may`.
- **local single-user** (no account, the app bound to a loopback address): the person
  is the operating-system user (:func:`local_user`), with every right. Serving on any
  other address without an account is refused (:func:`serve_refusal`).
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import RedError

ROLES = ("admin", "reviewer")

# What each role may do. Reviewers answer questions about labels and write descriptions;
# everything that changes the project's data, spends a judge's budget, reads or writes
# files on the server, or takes data out is for admins.
ACTIONS: dict[str, frozenset[str]] = {
    "review": frozenset(ROLES),          # decide on a label: Review, Texts, audit answers
    "describe": frozenset(ROLES),        # write a label's description
    "import": frozenset({"admin"}),      # import texts, embed them
    "run": frozenset({"admin"}),         # start / stop / resume runs, measure a judge
    "settings": frozenset({"admin"}),    # judge hosts, models, servers
    "export": frozenset({"admin"}),      # download the labeled dataset
    "open_project": frozenset({"admin"}),  # open or create a project file
    "server_paths": frozenset({"admin"}),  # read a file by its path on the server
    "add_label": frozenset({"admin"}),   # change the label set
    "audit_sample": frozenset({"admin"}),  # draw an audit sample
}

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72


class AccountError(RedError):
    """A bad user name, role or password, or an unreadable accounts file."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str


def may(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action`` (one of :data:`ACTIONS`). No role: nothing."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    return role in ACTIONS[action]


def users_file() -> Path:
    """The accounts file: ``$RED_USERS``, else the user's config folder."""
    env = os.environ.get("RED_USERS")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "red" / "users.yaml"


def load_config(path: Path | None = None) -> dict:
    """The accounts file as streamlit-authenticator's config dict (empty when absent)."""
    path = path or users_file()
    if not path.exists():
        return {"credentials": {"usernames": {}}, "cookie": {}}
    try:
        cfg = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AccountError(f"cannot read the accounts file {path}: {exc}") from exc
    if not isinstance(cfg, dict) or not isinstance((cfg.get("credentials") or {}).get("usernames") or {}, dict):
        raise AccountError(f"{path} is not an accounts file (no credentials.usernames); "
                           "fix or remove it, then `red user add`")
    cfg.setdefault("credentials", {})
    cfg["credentials"]["usernames"] = cfg["credentials"].get("usernames") or {}
    cfg.setdefault("cookie", {})
    return cfg


def accounts(path: Path | None = None) -> list[Account]:
    """Every account, by name."""
    users = load_config(path)["credentials"]["usernames"]
    return [Account(str(n), _role_of(u)) for n, u in sorted(users.items())]


def role_of(name: str | None, path: Path | None = None) -> str | None:
    """The role of account ``name`` as the file says now (None: no such account)."""
    if not name:
        return None
    user = load_config(path)["credentials"]["usernames"].get(str(name).lower())
    return _role_of(user) if user is not None else None


def _role_of(user: dict) -> str:
    roles = [r for r in (user.get("roles") or []) if r in ROLES]
    return "admin" if "admin" in roles else "reviewer"


def has_accounts(path: Path | None = None) -> bool:
    return bool(load_config(path)["credentials"]["usernames"])


def check_name(name: str) -> str:
    """A user name as stored: lower case (the login form compares in lower case)."""
    clean = (name or "").strip().lower()
    if not _NAME.match(clean):
        raise AccountError(f"user name {name!r} is not allowed: use 1–64 letters, digits, '.', '_' or '-', "
                           "starting with a letter or digit")
    return clean


def add_user(name: str, password: str, role: str, path: Path | None = None, replace: bool = False) -> Account:
    """Create (or with ``replace``, reset) an account. The password is stored bcrypt-hashed."""
    import bcrypt  # streamlit-authenticator's own hash: its Hasher.check_pw verifies it at login

    path = path or users_file()
    name = check_name(name)
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:  # bcrypt reads no further and refuses longer ones
        raise AccountError(f"the password must be at most {MAX_PASSWORD_BYTES} bytes (UTF-8); choose a shorter one")
    cfg = load_config(path)
    users = cfg["credentials"]["usernames"]
    if name in users and not replace:
        raise AccountError(f"user {name} exists; `red user remove {name}` first, or pass --replace")
    users[name] = {"name": name, "email": f"{name}@localhost", "roles": [role],
                   "password": bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()}
    _new_key(cfg)
    _write(path, cfg)
    return Account(name, role)


def remove_user(name: str, path: Path | None = None) -> None:
    """Remove an account; every re-login cookie stops working (the key is new)."""
    path = path or users_file()
    name = (name or "").strip().lower()
    cfg = load_config(path)
    if name not in cfg["credentials"]["usernames"]:
        raise AccountError(f"no user {name!r} in {path}; see `red user list`")
    del cfg["credentials"]["usernames"][name]
    _new_key(cfg)
    _write(path, cfg)


def rotate_key(path: Path | None = None) -> None:
    """A new key for the re-login cookies: everyone logs in again with their password."""
    path = path or users_file()
    cfg = load_config(path)
    _new_key(cfg)
    _write(path, cfg)


COOKIE_DAYS = 1.0  # a login lasts this long in a browser (reloads included), then the password is asked again


def _new_key(cfg: dict) -> None:
    """Sign re-login cookies with a new random key: any change of the accounts ends every
    login made before it (a removed or demoted user, a changed password, a leaked cookie)."""
    cookie = cfg["cookie"]
    cookie.setdefault("name", "red_auth")
    cookie["key"] = secrets.token_hex(32)  # never leaves the server
    cookie["expiry_days"] = float(cookie.get("expiry_days", COOKIE_DAYS))


def _write(path: Path, cfg: dict) -> None:
    """Replace the file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(cfg, f, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def local_user() -> str:
    """The operating-system user: who decides in local single-user mode."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = ""
    return name or "local"


def is_loopback(address: str | None) -> bool:
    """Whether a server bound to ``address`` is reachable from this machine only.
    No address (Streamlit's default) means every interface."""
    if not address:
        return False
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def serve_refusal(address: str | None, path: Path | None = None) -> str | None:
    """One clear line when the app must not start: a non-loopback address and no account."""
    if is_loopback(address) or has_accounts(path):
        return None
    return (f"refusing to serve on {address or 'every interface'} without accounts: anyone who reaches it could "
            f"decide as anyone. Create one with `red user add NAME --role admin` (accounts file: {path or users_file()}) "
            "or bind to 127.0.0.1.")


# -- logins: a brake on guessing (issue 23, row 3) ------------------------------------------

FREE_FAILURES = 3           # failed logins (per account and per client) before any wait
MAX_DELAY = 300.0           # the longest wait between two tries, seconds
LOCKOUT_AFTER = 10          # failures in the window that lock the account or client ...
LOCKOUT_SECONDS = 900.0     # ... for this long
WINDOW_SECONDS = 900.0      # failures older than this are forgotten


class LoginRefused(RedError):
    """Too many failed logins: the account or the client waits (the message says how long)."""


class LoginThrottle:
    """Failed logins counted per account name and per client address, in this process:
    after :data:`FREE_FAILURES`, each try waits twice as long as the last (up to
    :data:`MAX_DELAY`); :data:`LOCKOUT_AFTER` failures lock the name or the client for
    :data:`LOCKOUT_SECONDS`. A success clears the account's count and takes the try back
    from the client's.
    ``clock`` is injectable for tests; it is ``time.monotonic`` otherwise."""

    def __init__(self, clock=None):
        import threading
        import time

        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._failures: dict[tuple[str, str], list[float]] = {}

    def _keys(self, name: str | None, client: str | None) -> list[tuple[str, str]]:
        return [("name", (name or "").strip().lower())] + ([("client", client)] if client else [])

    def wait_for(self, name: str | None, client: str | None) -> float:
        """Seconds before ``name`` from ``client`` may try again (0: now)."""
        with self._lock:
            return self._wait(name, client, self._clock())

    def hold(self, name: str | None, client: str | None) -> float:
        """Start a try: 0 and the try counted as failed until :meth:`settle` says otherwise —
        in one step, so tries sent at once from many sessions are all counted — or the
        seconds to wait (nothing counted)."""
        now = self._clock()
        with self._lock:
            wait = self._wait(name, client, now)
            if wait <= 0:
                self._count(name, client, now)
            return wait

    def settle(self, name: str | None, client: str | None, ok: bool) -> None:
        """End a try begun with :meth:`hold`: a success clears the name's failures and takes
        the try back from the client's; a failure stays counted."""
        if not ok:
            return
        with self._lock:
            self._failures.pop(("name", (name or "").strip().lower()), None)
            if client and self._failures.get(("client", client)):
                self._failures[("client", client)].pop()

    def _prune(self, now: float) -> None:
        """Forget keys whose newest failure left the window (random names must not pile up)."""
        if len(self._failures) > 10_000:
            for key in [k for k, t in self._failures.items() if not t or now - t[-1] >= WINDOW_SECONDS]:
                del self._failures[key]

    def _wait(self, name: str | None, client: str | None, now: float) -> float:
        waits = []
        for key in self._keys(name, client):
            times = [t for t in self._failures.get(key, []) if now - t < WINDOW_SECONDS]
            if times:
                self._failures[key] = times
            else:
                self._failures.pop(key, None)
            n = len(times)
            if n >= LOCKOUT_AFTER:
                waits.append(times[-1] + LOCKOUT_SECONDS - now)
            elif n >= FREE_FAILURES:
                waits.append(times[-1] + min(2.0 ** (n - FREE_FAILURES + 1), MAX_DELAY) - now)
        return max([0.0, *waits])

    def fail(self, name: str | None, client: str | None) -> None:
        """Count one failed try, whatever the wait (what :meth:`hold` does when it lets a try in)."""
        with self._lock:
            self._count(name, client, self._clock())

    def _count(self, name: str | None, client: str | None, now: float) -> None:
        for key in self._keys(name, client):
            self._failures.setdefault(key, []).append(now)
        self._prune(now)


THROTTLE = LoginThrottle()
# a bcrypt hash of nothing anyone types, checked for an unknown name so that it answers in
# the time a known one does (the name's existence does not show in the timing)
_DUMMY_HASH: bytes | None = None


def check_login(name: str | None, password: str | None, hashed: str | None, client: str | None = None,
                throttle: LoginThrottle = THROTTLE) -> bool:
    """Whether ``password`` opens account ``name`` (``hashed``: its stored hash, None for an
    unknown name), with the brake on guessing: :class:`LoginRefused` while the name or the
    client must wait; an unknown name costs one bcrypt check like a known one."""
    import bcrypt

    global _DUMMY_HASH
    wait = throttle.hold(name, client)
    if wait > 0:
        raise LoginRefused(f"too many failed logins: try again in {int(wait) + 1} s")
    secret = (password or "").encode()[:MAX_PASSWORD_BYTES]
    if hashed is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt())
        bcrypt.checkpw(secret, _DUMMY_HASH)
        ok = False
    else:
        try:
            ok = bcrypt.checkpw(secret, hashed.encode())
        except ValueError:  # a malformed stored hash opens nothing
            ok = False
    throttle.settle(name, client, ok)
    return ok
