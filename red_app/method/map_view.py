"""What the label map shows: which labels stand out, in which group, for the Subsets page.

At 1,010 labels in 101 subsets one colour per subset is unreadable (Plotly cycles 10
colours; the legend has 101 entries), so past :data:`MAX_COLOURS` subsets the map shows
one subset at a time against the rest in grey, and a found label always stands out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MAX_COLOURS = 12  # one colour per subset up to this many subsets
OTHERS = "other labels"
FOUND = "found label"


def map_groups(labels: pd.DataFrame, subset: str | None = None, label: str | None = None) -> pd.Series:
    """The legend group of each row of :func:`red_app.workflows.label_map.label_table`: ``subset K``
    per subset (few subsets), the shown subset against :data:`OTHERS`, and :data:`FOUND`
    for the label being looked at."""
    subsets = labels["subset"].astype(str)
    if subset is not None:
        group = np.where(subsets == str(subset), "subset " + subsets, OTHERS)
    elif subsets.nunique() <= MAX_COLOURS:
        group = ("subset " + subsets).to_numpy()
    else:
        group = np.full(len(labels), OTHERS, dtype=object)
    group = pd.Series(group, index=labels.index, dtype=object)
    if label is not None:
        group[labels["label"] == label] = FOUND
    return group


def group_order(groups: pd.Series) -> list[str]:
    """Legend order: the found label, then subsets by number, then the rest."""
    def key(g: str):
        return (0, 0) if g == FOUND else (2, 0) if g == OTHERS else (1, int(g.split()[-1]))
    return sorted(set(groups), key=key)


def subset_of(labels: pd.DataFrame, label: str) -> str | None:
    row = labels.loc[labels["label"] == label, "subset"]
    return str(row.iloc[0]) if len(row) else None
