"""What a label's name may be (issue 23, row 9), one rule for every way a label comes in:
an import, `red add-label`, the Texts page, Discover.

A name is stored in Unicode NFC (so a decomposed ``café`` and a composed one are one label);
it has a visible character; it holds no control, invisible or bidirectional-control
character (a zero-width space, a right-to-left override, a tab); it is at most
:data:`MAX_LABEL_CHARS` long. A name that *looks like* another label — the same after case,
spacing, ``_``/``-`` and Unicode confusables (a Cyrillic ``а`` for a Latin ``a``; the
confusables data of Unicode TR39, through the ``confusable-homoglyphs`` library) — is
refused against the project's labels and against the other names of the same file.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from ..errors import ImportValidationError

MAX_LABEL_CHARS = 200
# A description is a sentence or a short paragraph: every choose question carries one per
# candidate, so a long one would overflow the judge's context for every run (issue 23, row 6)
MAX_DESCRIPTION_CHARS = 1000
# Unicode categories never allowed in a name: controls (tab, NUL, …) and format characters
# (zero-width space and joiners, word joiner, BOM, soft hyphen, bidi overrides and isolates)
_REFUSED = ("Cc", "Cf", "Co", "Cs", "Cn")


def checked_label(raw: str) -> str:
    """``raw`` as a label name (NFC, trimmed), or :class:`ImportValidationError` saying why not."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise ImportValidationError("a label name is empty; give every label a visible name")
    bad = next((c for c in name if unicodedata.category(c) in _REFUSED), None)
    if bad is not None:
        raise ImportValidationError(
            f"the label name {name!r} holds an invisible or control character (U+{ord(bad):04X} "
            f"{unicodedata.name(bad, 'a control character')}); type it plainly")
    if not any(c.isalnum() for c in name):
        raise ImportValidationError(f"the label name {name!r} has no letter or digit; give it a readable name")
    if len(name) > MAX_LABEL_CHARS:
        raise ImportValidationError(f"a label name has {len(name)} characters; keep it to {MAX_LABEL_CHARS}")
    return name


def skeleton(name: str) -> str:
    """What two names that look alike share: each character replaced by the Latin one it can
    be mistaken for (Unicode's confusables), then case, spaces, ``_`` and ``-`` dropped."""
    from confusable_homoglyphs import confusables

    out = []
    for c in unicodedata.normalize("NFKC", name):
        if c.isascii():
            out.append(c)
            continue
        found = confusables.is_confusable(c, preferred_aliases=["latin"], greedy=False) or []
        glyphs = [h["c"] for f in found for h in f["homoglyphs"] if h["c"].isascii()]
        out.append(glyphs[0] if glyphs else c)
    return re.sub(r"[\s_\-]+", "", "".join(out).casefold())


def refuse_lookalikes(new: Iterable[str], existing: Iterable[str]) -> None:
    """Refuse a new name that looks like an existing label or like another new name."""
    seen = {skeleton(x): x for x in existing}
    for name in sorted(set(new)):
        key = skeleton(name)
        other = seen.get(key)
        if other is not None and other != name:
            raise ImportValidationError(
                f"the label {name!r} looks like the label {other!r} (they differ only in case, spacing or "
                "characters that look alike, e.g. a Cyrillic letter for a Latin one); use one name for both")
        seen.setdefault(key, name)
