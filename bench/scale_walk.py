"""The analyst's walk in Chromium on all 1,010 O*NET occupations, timed: the suite walks the
same path on 150 (tests/app/test_analyst_day.py); this runs it at full scale and keeps the
page timings in artifacts/timings-1010.json.

    PYTHONPATH=. .venv/bin/python bench/scale_walk.py
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    env = dict(os.environ, RED_WALK_LABELS="1010", HF_HUB_OFFLINE="1")
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-s", "tests/app/test_analyst_day.py",
                              "-k", "many_labels"], cwd=ROOT, env=env))
