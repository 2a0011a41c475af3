"""The project: one DuckDB file. Its schema, every SQL statement on its tables, import
and export, and the embedding cache."""
