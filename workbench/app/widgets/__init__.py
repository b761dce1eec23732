"""Docks, panels and tabs of the main window; each is a thin view over a Qt-free view-model."""
