"""Background jobs: one Job row per piece of long work, its status, progress and message."""
