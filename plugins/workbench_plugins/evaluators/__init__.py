"""Bundled evaluators: task accuracy on a user dataset (registered in pyproject.toml like any plugin)."""
