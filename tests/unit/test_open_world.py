"""Out-of-scope scores and group words (red_app.method.open_world) on generated data whose
answer is known by construction."""

import numpy as np

from red_app.method.open_world import conformal_p, group_words, min_group_for, out_of_scope


def _blobs(rng, centres, n, spread=0.15):
    return np.concatenate([c + spread * rng.standard_normal((n, len(c))) for c in centres])


def test_about_alpha_of_the_in_scope_texts_are_flagged_and_most_of_a_new_topic():
    rng = np.random.default_rng(0)
    dim = 32
    seen = rng.standard_normal((6, dim))
    new = rng.standard_normal((1, dim))
    known = _blobs(rng, seen, 20)           # 20 seeds for each of 6 labels
    pool_in = _blobs(rng, seen, 200)        # the pool: the same 6 labels…
    pool_new = _blobs(rng, new, 300)        # …and a topic no label covers
    X = np.concatenate([known, pool_in, pool_new])
    is_known = np.zeros(len(X), bool)
    is_known[:len(known)] = True
    oos = out_of_scope(X, is_known, alpha=0.05)
    in_rate = oos.flagged[len(known):len(known) + len(pool_in)].mean()
    new_rate = oos.flagged[-len(pool_new):].mean()
    assert in_rate <= 0.05 + 0.03  # the level holds (finite-sample slack), whatever the data
    assert new_rate >= 0.95
    assert not oos.flagged[is_known].any()  # a known text is never flagged


def test_a_conformal_p_value_counts_the_known_texts_no_more_alike():
    cal = np.array([0.1, 0.2, 0.3, 0.4])
    assert conformal_p(np.array([0.0, 0.25, 1.0]), cal).tolist() == [0.2, 0.6, 1.0]


def test_group_words_are_what_sets_a_group_apart():
    words = group_words([["my promo code fails", "promo code rejected", "where to enter a promo code"],
                         ["when do you open", "opening hours today", "when do you close today"]], n_words=2)
    assert words[0] == ["promo", "code"] or set(words[0]) == {"promo", "code"}
    assert "today" in words[1] or "open" in words[1]


def test_a_group_is_a_quarter_of_a_typical_label_and_never_under_eight():
    assert min_group_for(13_800, 120) == 29
    assert min_group_for(600, 27) == 8


def test_the_export_marks_out_of_scope_at_the_method_s_level():
    from red_app.method.open_world import DEFAULT_ALPHA
    from red_app.project.schema import OUT_OF_SCOPE_BELOW

    assert OUT_OF_SCOPE_BELOW == DEFAULT_ALPHA


def test_answers_that_fit_none_flag_the_texts_like_them():
    """A new topic close to a known label is hard to tell from it by likeness alone; a few
    texts answered "fits none of the labels" teach where it lies, and the level holds."""
    rng = np.random.default_rng(1)
    dim = 32
    seen = rng.standard_normal((6, dim))
    near = seen[0] + 0.1 * rng.standard_normal(dim)  # a tight new topic inside label 0's spread
    known = _blobs(rng, seen, 20)
    pool_in = _blobs(rng, seen, 200)
    pool_new = _blobs(rng, [near], 300, spread=0.1)
    X = np.concatenate([known, pool_in, pool_new])
    is_known = np.zeros(len(X), bool)
    is_known[:len(known)] = True
    none = np.zeros(len(X), bool)
    none[-300:-270] = True                      # 30 of the new topic's texts answered "none"
    new = slice(len(X) - 270, len(X))           # the rest of the new topic
    inside = slice(len(known), len(known) + len(pool_in))
    blind = out_of_scope(X, is_known, alpha=0.05)
    taught = out_of_scope(X, is_known, alpha=0.05, none=none)
    assert blind.flagged[new].mean() <= 0.1  # likeness alone cannot tell it from label 0
    assert taught.flagged[new].mean() >= 0.8
    assert taught.flagged[inside].mean() <= 0.05 + 0.03
    # fewer than k answers teach nothing (a single odd answer moves no text)
    few = np.zeros(len(X), bool)
    few[-1] = True
    assert (out_of_scope(X, is_known, none=few).p == blind.p).all()


def test_top_k_recall_says_how_often_the_right_label_is_among_k():
    from red_app.method.open_world import top_k_recall
    from red_app.method.questions import NONE_MEANS_FITS_NONE, ChooseQuestion
    from red_app.method.config import LoopConfig

    rng = np.random.default_rng(2)
    apart = rng.standard_normal((10, 32))                  # ten labels far apart: always in the top 3
    X = _blobs(rng, apart, 10)
    y = np.repeat(np.arange(10), 10)
    assert top_k_recall(X, y, 3) == 1.0
    crowded = apart[0] + 0.01 * rng.standard_normal((60, 32))  # sixty labels on top of each other
    Xc = _blobs(rng, crowded, 5, spread=0.2)
    yc = np.repeat(np.arange(60), 5)
    low = top_k_recall(Xc, yc, 5)
    assert low < 0.5
    # a "none of these" says "fits no label" only where the right label is nearly always offered
    q = ChooseQuestion(LoopConfig())
    assert not q.none_fits_none  # not measured yet
    q.top_k_recall = low
    assert not q.none_fits_none
    q.top_k_recall = NONE_MEANS_FITS_NONE
    assert q.none_fits_none
