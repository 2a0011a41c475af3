"""What every command of the CLI shares."""

from __future__ import annotations

import sys


def progress_bar(desc: str):
    from tqdm import tqdm

    bar = {"b": None}

    def update(done: int, total: int) -> None:
        if bar["b"] is None:
            bar["b"] = tqdm(total=total, desc=desc, unit="text", file=sys.stderr, disable=total == 0)
        bar["b"].n = done
        bar["b"].refresh()
        if done >= total:
            bar["b"].close()

    return update
