"""The real task manager service in the test's own process, on whatever bus the test configured."""

import contextlib


@contextlib.contextmanager
def in_process():
    """Start ``TaskManagerService``; stop it and the process-wide lock coordinator afterwards (the
    coordinator must not outlive the test: a later test would inherit its backend)."""
    from delfin_like import coordination
    from delfin_like.task_manager import manager

    service = manager.TaskManagerService()
    service.start()
    try:
        yield service
    finally:
        service.stop()
        coordination.stop()
