"""Bundled optimization passes; each module holds one pass (or two close siblings)."""
