"""The REST API (SPEC §6)."""
