"""Optimization passes: the Pass contract, the registry, variants with lineage, fidelity."""
