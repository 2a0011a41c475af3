"""The `red` command line (console script ``red = red_app.cli:main``)."""

from .main import main

__all__ = ["main"]
