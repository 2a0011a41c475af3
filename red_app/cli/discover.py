"""`red discover`: the groups of texts that fit none of the labels, and a group made a label."""

from __future__ import annotations

import json

from .common import add_reviewer, clean, short


def cmd_discover(a) -> int:
    from ..errors import RedError
    from ..project.store import Project
    from ..workflows.discover import discover, label_from_group

    if (a.make_label is None) != (a.name is None):
        raise RedError("--make-label N and --name NAME go together: the group to turn into a label, and its name")
    with Project(a.project) as p:
        found = discover(p, alpha=a.alpha, min_group=a.min_group, seed=a.seed)
        if a.make_label is not None:
            name, n = label_from_group(p, found, a.make_label, a.name, reviewer=a.reviewer,
                                       description=a.description, take=a.take)
            print(f"new label {clean(name)} from group {a.make_label}: {n} text(s) are its first examples "
                  f"(by {clean(a.reviewer)}; `red undo` takes them back); the next run trains on it")
            return 0
    if a.json:
        print(json.dumps({"looked_at": found.looked_at, "unlabeled": found.unlabeled, "said_none": found.said_none,
                          "min_group": found.min_group, "alpha": found.alpha,
                          "groups": [{"number": g.number, "size": g.size, "words": g.words, "p_mean": g.p_mean,
                                      "nearest_label": g.nearest_label, "nearest_similarity": g.nearest_similarity,
                                      "typical": g.typical, "sample_ids": g.sample_ids} for g in found.groups]},
                         ensure_ascii=False))
        return 0
    print(clean(found.summary()))
    for g in found.groups[: a.show]:
        print(f"\n[{g.number}] {g.size} texts · words: {clean(', '.join(g.words)) or '–'} · "
              f"p {g.p_mean:.3f} · nearest label {clean(g.nearest_label)} ({g.nearest_similarity:.2f})")
        for t in g.typical:
            print(f"    {short(t, 100)}")
    if len(found.groups) > a.show:
        print(f"\n… {len(found.groups) - a.show} more (--show N, or --json)")
    if found.groups:
        print(f"\nmake one a label: red discover {clean(a.project)} --make-label N --name NAME")
    return 0


def register(sub) -> None:
    p = sub.add_parser("discover", help="find groups of texts that fit none of the labels (new labels)",
                       description="Group the unlabeled texts that are unlike every label's known texts (and "
                       "those people said fit none of the labels shown): each group, its size, distinctive words, "
                       "most typical texts and nearest label. --make-label N --name NAME turns group N into a new "
                       "label with its texts as first examples (a person's decisions, undoable). The same project "
                       "and --seed give the same groups and numbers.")
    p.add_argument("project")
    p.add_argument("--alpha", type=float, default=None,
                   help="look at texts less like the labels than this share of the known texts are (default 0.35)")
    p.add_argument("--min-group", type=int, default=None, metavar="N",
                   help="the fewest texts in a group (default: a quarter of a typical label's unlabeled texts, "
                   "at least 8)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--show", type=int, default=10, metavar="N", help="groups to print (default 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output, every group")
    p.add_argument("--make-label", type=int, default=None, metavar="N", help="turn group N into a new label")
    p.add_argument("--name", default=None, help="the new label's name (with --make-label)")
    p.add_argument("--take", type=int, default=None, metavar="M", help="only the M most typical texts of the group")
    p.add_argument("--description", default=None, help="what the new label means (optional)")
    add_reviewer(p)
    p.set_defaults(func=cmd_discover)
