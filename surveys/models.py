"""Survey instruments, waves and responses (to come: see the surveys issue)."""
