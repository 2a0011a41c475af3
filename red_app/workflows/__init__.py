"""Workflows that the command line and the pages share: each is one entry per concept."""
