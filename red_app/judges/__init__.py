"""Judges: experts that answer only *valid / invalid* for a proposed label.

Every judge implements :class:`Judge`; the loop never knows which one it talks to.
"""

from .base import Example, Judge, JudgeRequest, Verdict
from .factory import JUDGE_KINDS, make_judge

__all__ = ["Example", "JUDGE_KINDS", "Judge", "JudgeRequest", "Verdict", "make_judge"]
