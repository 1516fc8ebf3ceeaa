"""Follow a task (GET /v1/tasks/{id}) to its end, with a one-line progress display on a TTY."""

import itertools
import time

from delfin_like.cli import errors, formatting

FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
_SPINNER = "|/-\\"


def progress_line(task: dict, elapsed: float, frame: int = 0) -> str:
    """The spinner line for ``task``: id, status, attempts and time so far."""
    return (f"{_SPINNER[frame % len(_SPINNER)]} {task.get('type', 'task')} task {task['id']} "
            f"{task.get('status')}  attempts {task.get('attempts', 0)}  {elapsed:.1f} s")


def wait_arguments(parser, default_timeout: float = 600) -> None:
    """Add --wait, --wait-timeout and --no-progress to a command's parser."""
    parser.add_argument("--wait", action="store_true", help="follow the task until it ends")
    parser.add_argument("--wait-timeout", type=float, default=default_timeout,
                        help=f"give up waiting after this many seconds (default {default_timeout:g})")
    parser.add_argument("--no-progress", action="store_true", help="no progress display (for scripts)")


def follow(client, task_id: str, timeout: float, stream=None, interval: float = 0.5) -> dict:
    """Poll the task until COMPLETED; show progress on ``stream`` if it is given (a TTY).

    :returns: the finished task.
    :raises TaskFailed: the task ended FAILED or CANCELLED, or was still running after ``timeout``.
    """
    started = time.monotonic()
    task = client.get(f"/v1/tasks/{task_id}")
    for frame in itertools.count():
        elapsed = time.monotonic() - started
        if stream is not None:
            stream.write("\r\033[K" + progress_line(task, elapsed, frame))
            stream.flush()
        if task["status"] in FINAL or elapsed >= timeout:
            break
        time.sleep(interval)
        task = client.get(f"/v1/tasks/{task_id}")
    if stream is not None:
        stream.write("\r\033[K" + _final_lines(task, time.monotonic() - started))
        stream.flush()
    if task["status"] in ("FAILED", "CANCELLED"):
        raise errors.TaskFailed(f"task {task_id} {task['status']}: {task.get('error') or 'no error given'}")
    if task["status"] not in FINAL:
        raise errors.TaskFailed(f"task {task_id} still {task['status']} after {timeout:g} s "
                                "(see --wait-timeout; it goes on in the background)")
    return task


def _final_lines(task: dict, elapsed: float) -> str:
    lines = [f"{task.get('type', 'task')} task {task['id']} {task['status']} in {elapsed:.1f} s"]
    summary = formatting.task_summary(task.get("result"))
    lines += [f"  {line}" for line in summary.splitlines()]
    return "\n".join(lines) + "\n"


def progress_stream(app, parsed_args):
    """stderr if progress should be shown (a TTY and no --no-progress), else None."""
    stream = app.stderr
    if parsed_args.no_progress or not getattr(stream, "isatty", lambda: False)():
        return None
    return stream
