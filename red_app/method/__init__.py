"""The R.E.D. method on arrays: settings, label subsets, classifiers, uncertainty, the loop.

Nothing here knows about DuckDB or projects; the loop talks to judges only through the
protocol in :mod:`red_app.judges.base`.
"""
