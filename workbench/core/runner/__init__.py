"""The ORT runner: a standalone child script, its line protocol, and the profile parser."""
from pathlib import Path

CHILD_SCRIPT = Path(__file__).with_name("ort_child.py")
