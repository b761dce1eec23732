"""Qt-free presenters behind the workbench window: each dock's logic, testable without a display."""
