"""The open-world benchmark's figures (issue 20, `red bench --unseen-labels K`): after a run
on a project that lacks some of the set's labels, how the texts of those labels came out.

Reported beside the closed-world figures: the export's treatment of the pool (the texts
marked out of scope or needing review, the share of confident labels that fit no label),
"fits no label" as a classifier on the pool and the test set (precision, recall), where
the judge's budget went per iteration, and what discovery finds among the pool's texts
(unseen labels that come back as a group of purity >= 0.8 holding >= half their texts).
"""

from __future__ import annotations

import numpy as np

from ..method.open_world import DEFAULT_ALPHA, DISCOVER_ALPHA, group_texts, min_group_for, out_of_scope

SURE = 0.9        # "confident" labels, as the issue counts them
PURITY = 0.8      # a group that is one unseen label's ...
COVERAGE = 0.5    # ... holding at least this share of that label's pool texts


def _pr(flag: np.ndarray, truth: np.ndarray) -> dict:
    tp = int((flag & truth).sum())
    return {"precision": tp / int(flag.sum()) if flag.any() else None,
            "recall": tp / int(truth.sum()) if truth.any() else None,
            "false_flag_rate": float(flag[~truth].mean()) if (~truth).any() else None}


def open_world_figures(b, state, ml, out: dict, log=print, seed: int = 0) -> None:
    """The open-world figures of the 'red' run that left ``state``, whose export's model labels
    are ``ml`` (:func:`red_app.method.final.predict_labels`, as the export figures made them)."""
    n_seed, train = b.n_seed, b.train_rows
    fits_none = b.y_all[train] < 0                       # texts of the unseen labels
    pool = np.zeros(len(train), dtype=bool)
    pool[n_seed:] = True
    known = state.y >= 0
    none = state.none_mask()
    # the export: decided labels, "fits no label" decisions, and model labels with their p-values
    X_all = np.concatenate([b.data.X, b.X[b.test_rows], b.X[b.test_unseen_rows]])
    known_all = np.concatenate([known, np.zeros(len(X_all) - len(train), dtype=bool)])
    none_all = np.concatenate([none, np.zeros(len(X_all) - len(train), dtype=bool)])
    oos = out_of_scope(X_all, known_all, alpha=DEFAULT_ALPHA, none=none_all)
    p_train = oos.p[:len(train)]
    conf = np.full(len(train), np.nan)
    conf[ml.index] = ml.confidence
    label = np.full(len(train), -1)
    label[ml.index] = ml.label
    model_row = ~known & ~none
    out_flag = none | (model_row & (p_train < DEFAULT_ALPHA))
    marked = out_flag | (model_row & np.isin(np.arange(len(train)), list(state.held)))
    # confident labels as the export gives them: decided ones (a perfect simulated judge's are
    # sure) and model labels at >= SURE (an out-of-scope model label has no confidence)
    sure = pool & ((known & ~none) | (model_row & ~out_flag & (conf >= SURE)))
    sure_kept = sure & ~marked   # what `needs_review == False and out_of_scope == False` keeps
    in_scope_pool = pool & ~fits_none
    # the test set: p-values against what the run knows
    test_truth = np.concatenate([np.zeros(len(b.test_rows), bool), np.ones(len(b.test_unseen_rows), bool)])
    test_flag = oos.p[len(train):] < DEFAULT_ALPHA
    out["open_world"] = {
        "unseen_labels": list(b.unseen), "pool_no_label": int((pool & fits_none).sum()),
        "pool_in_scope": int(in_scope_pool.sum()),
        "no_label_marked": float(marked[pool & fits_none].mean()) if (pool & fits_none).any() else None,
        "in_scope_marked": float(marked[in_scope_pool].mean()) if in_scope_pool.any() else None,
        "pool_fits_none": _pr(out_flag[pool], fits_none[pool]),
        "test_fits_none": _pr(test_flag, test_truth),
        "sure": int(sure.sum()), "sure_no_label": float(fits_none[sure].mean()) if sure.any() else None,
        "sure_kept": int(sure_kept.sum()),
        "sure_kept_no_label": float(fits_none[sure_kept].mean()) if sure_kept.any() else None,
        "said_none": int(none.sum()), "said_none_right": float(fits_none[none].mean()) if none.any() else None,
        **_budget(out["curves"].get("red", [])[1:]),
        "model_label_accuracy_in_scope": float((label[model_row & pool & ~fits_none] ==
                                                b.y_all[train][model_row & pool & ~fits_none]).mean())
        if (model_row & pool & ~fits_none).any() else None,
    }
    out["open_world"].update(_discovery(b, state, p_train, none, seed))
    w = out["open_world"]
    log(f"open world: {len(b.unseen)} unseen labels, {w['pool_no_label']} pool texts fit no label; marked out of "
        f"scope or for review: {w['no_label_marked']:.1%} of them, {w['in_scope_marked']:.1%} of in-scope texts; "
        f"confident labels that fit no label: {w['sure_no_label'] or 0:.1%} ({w['sure_kept_no_label'] or 0:.1%} of "
        f"those not marked); 'none' share of answers: {w['none_share_first_iteration'] or 0:.1%} in iteration 1, "
        f"{w['none_share_later'] or 0:.1%} after; unseen labels found as groups: {w['unseen_found']} of "
        f"{len(b.unseen)}")


def _budget(curve: list[dict]) -> dict:
    """Where the judge's answers went per iteration, and the share of "none" answers in the
    first iteration and in all the later ones together."""
    def share_none(points):
        calls = sum(p.get("accepted", 0) + p.get("rejected", 0) + p.get("said_none", 0) for p in points)
        return sum(p.get("said_none", 0) for p in points) / calls if calls else None

    return {"none_share_first_iteration": share_none(curve[:1]) if curve else None,
            "none_share_later": share_none(curve[1:]),
            "budget": [{k: p.get(k, 0) for k in ("calls", "accepted", "said_none", "rejected", "held", "skipped_unlike")}
                       for p in curve]}


def unseen_found(groups: list[np.ndarray], truth: np.ndarray, unseen, pool_names: np.ndarray) -> int:
    """How many ``unseen`` labels come back as one group (positions into ``truth``, each text's
    gold label) at least PURITY pure holding at least COVERAGE of that label's pool texts."""
    found = 0
    for name in unseen:
        total = int((pool_names == name).sum())
        found += any((truth[g] == name).mean() >= PURITY and (truth[g] == name).sum() >= COVERAGE * total for g in groups)
    return found


def _discovery(b, state, p_train: np.ndarray, none: np.ndarray, seed: int) -> dict:
    """What `red discover` would find: groups among the unlabeled texts unlike every label or
    answered "fits none", and how many unseen labels come back as one."""
    look = np.flatnonzero((state.y < 0) & ((p_train < DISCOVER_ALPHA) | none))
    if not len(look):
        return {"groups": 0, "groups_pure": 0, "unseen_found": 0}
    min_group = min_group_for(int((state.y < 0).sum()), len(b.names))
    groups = group_texts(b.data.X[look], [b.data.texts[i] for i in look], min_group=min_group, seed=seed)
    truth = np.asarray([b.gold[b.data.ids[i]] for i in look], dtype=object)
    pool_names = np.asarray([b.gold[i] for i in b.data.ids], dtype=object)[b.n_seed:]
    found = unseen_found([g.members for g in groups], truth, b.unseen, pool_names)
    pure = sum(np.unique(truth[g.members], return_counts=True)[1].max() / len(g.members) >= PURITY for g in groups)
    return {"groups": len(groups), "groups_pure": int(pure), "unseen_found": int(found), "min_group": min_group,
            "looked_at": int(len(look))}
