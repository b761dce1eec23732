"""The Qt-free heart of the workbench: devices, runners, telemetry, models, store.

Nothing under this package may import PySide6, pyqtgraph, the app or the CLI (import-linter enforces it).
"""
