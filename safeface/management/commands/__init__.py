"""SafeFace management commands."""
