"""How long a login check takes for a known and an unknown name (issue 23, row 3): the
difference must not tell an attacker which names exist (target ≤ 50 ms).

    PYTHONPATH=. .venv/bin/python bench/login_timing.py
"""

import statistics
import tempfile
import time
from pathlib import Path

from red_app.workflows.accounts import LoginThrottle, add_user, check_login, load_config


def main() -> int:
    path = Path(tempfile.mkdtemp()) / "users.yaml"
    add_user("ana", "ana-admin-pw", "admin", path)
    stored = load_config(path)["credentials"]["usernames"]["ana"]["password"]
    known, unknown = [], []
    for _ in range(20):  # alternate, so both see the same machine load
        t = time.perf_counter()
        check_login("ana", "wrong-password", stored, throttle=LoginThrottle())
        known.append(time.perf_counter() - t)
        t = time.perf_counter()
        check_login("nobody", "wrong-password", None, throttle=LoginThrottle())
        unknown.append(time.perf_counter() - t)
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"median check: known name {1000 * k:.1f} ms, unknown name {1000 * u:.1f} ms, "
          f"difference {1000 * abs(k - u):.1f} ms (20 each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
