"""The scheduler: periodic and one-shot syncs, and re-dispatch of lost tasks, on an elected leader."""
