"""Live charts: a frame-timer-driven pyqtgraph stack over the Qt-free ring buffers."""
