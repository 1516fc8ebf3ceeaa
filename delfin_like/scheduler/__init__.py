"""The scheduler: re-dispatch of lost tasks (periodic and timed work come later)."""
