"""Whether a run's process is still there: its process id alone is not enough, because ids
are used again (a container restarted runs the app at the same pid)."""

import subprocess
import sys
from datetime import timedelta

from red_app.project.core import utcnow
from red_app.project.runs import owner_alive, this_process


def test_a_living_owner_that_said_it_was_there_is_alive():
    assert owner_alive(this_process(), utcnow())


def test_a_process_that_started_after_the_runs_last_word_is_another_process():
    # the same host and pid, but the heartbeat predates this process: the id was used again
    assert not owner_alive(this_process(), utcnow() - timedelta(days=2))


def test_an_owner_whose_process_is_gone_is_dead():
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    host = this_process().partition(":")[0]
    assert not owner_alive(f"{host}:{done.stdout.strip()}:python", utcnow())


def test_an_owner_on_another_machine_is_judged_by_its_heartbeat():
    assert owner_alive("elsewhere:1:red run", utcnow() - timedelta(seconds=10))
    assert not owner_alive("elsewhere:1:red run", utcnow() - timedelta(hours=1))
    assert not owner_alive(None, utcnow())
