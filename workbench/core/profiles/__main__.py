"""`python -m workbench.core.profiles SCHEMA_PATH` rewrites the shipped JSON Schema from the models."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from workbench.core.profiles.model import profile_json_schema

if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "profiles/tuning-profile.schema.json")
    out.write_text(json.dumps(profile_json_schema(), indent=2) + "\n")
    print(f"wrote {out}")
