"""red — R.E.D. (Recursive Expert Delegation) for labeling text into many classes."""

__version__ = "0.1.0"
