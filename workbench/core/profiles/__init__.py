"""Tuning profiles: versioned JSON documents with a shipped schema, migrations and validation."""
from workbench.core.profiles.io import ProfileError, load_profile, profile_to_json, save_profile, validate_document
from workbench.core.profiles.model import SCHEMA_VERSION, TuningProfile, profile_json_schema

__all__ = ["SCHEMA_VERSION", "ProfileError", "TuningProfile", "load_profile", "profile_json_schema",
           "profile_to_json", "save_profile", "validate_document"]
