"""Judges: experts that answer only *valid / invalid* for a proposed label.

Every judge implements :class:`Judge`; the loop never knows which one it talks to.
"""

from .base import Example, Judge, JudgeRequest, Verdict, make_judge

__all__ = ["Example", "Judge", "JudgeRequest", "Verdict", "make_judge"]
