"""Shared fixtures live in tests/plugins/fixtures.py."""
from tests.plugins.fixtures import cnn, sample_plugin, store, workspace  # noqa: F401
