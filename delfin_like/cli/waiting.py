"""Follow a task (GET /v1/tasks/{id}) to its end, with a progress display (rich) on a TTY.

The display shows the task's status and attempts, and for a sync the resource types listed
out of all of them, the one being listed (items so far) and the rows to change so far: what
the task manager records in the task's ``progress`` while it runs (at most once a second).
"""

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from delfin_like.cli import errors, formatting

FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def wait_arguments(parser, default_timeout: float = 600) -> None:
    """Add --wait, --wait-timeout and --no-progress to a command's parser."""
    parser.add_argument("--wait", action="store_true", help="follow the task until it ends")
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=default_timeout,
        help=f"give up waiting after this many seconds (default {default_timeout:g})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress display (for scripts)")


def describe(task: dict) -> tuple[str, int | None, int, str]:
    """What the display shows of ``task``: (headline, steps in all or None, steps done, detail).

    A sync's steps are its resource types; the detail names the one being listed and sums up
    the rows to add (+), update (~) and delete (-) found so far.
    """
    headline = f"{task.get('type', 'task')} {task['id'][:8]} {task.get('status')} (attempt {task.get('attempts', 0)})"
    progress = task.get("progress") or {}
    kinds = progress.get("resource_types") or []
    if task.get("status") in FINAL:
        # what is left of the progress is the attempt's last report, not the outcome
        return headline, (len(kinds) or None), len(kinds), ""
    done = progress.get("done") or []
    changes = (progress.get("changes") or {}).values()
    parts = []
    if progress.get("phase") == "writing":
        parts.append("writing")
    elif progress.get("current"):
        parts.append(f"{progress['current']}: {progress.get('listed', 0):,} listed")
    if changes:
        added = sum(c.get("added", 0) for c in changes)
        updated = sum(c.get("updated", 0) for c in changes)
        deleted = sum(c.get("deleted", 0) for c in changes)
        parts.append(f"rows to change +{added:,} ~{updated:,} -{deleted:,}")
    return headline, (len(kinds) or None), len(done), "; ".join(parts)


def _display(stream) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("resource types  {task.fields[detail]}"),
        TimeElapsedColumn(),
        console=Console(file=stream, force_terminal=True),
        transient=True,
    )


def follow(client, task_id: str, timeout: float, stream=None, interval: float = 0.5) -> dict:
    """Poll the task until it ends; show progress on ``stream`` if it is given (a TTY).

    :returns: the finished task (COMPLETED).
    :raises TaskFailed: the task ended FAILED or CANCELLED, or was still running after ``timeout``.
    """
    started = time.monotonic()
    task = client.get(f"/v1/tasks/{task_id}")
    display = _display(stream) if stream is not None else None
    if display is not None:
        display.start()
        row = display.add_task("", total=None, detail="")
    try:
        while True:
            if display is not None:
                headline, total, done, detail = describe(task)
                display.update(row, description=headline, total=total, completed=done, detail=detail)
            if task["status"] in FINAL or time.monotonic() - started >= timeout:
                break
            time.sleep(interval)
            task = client.get(f"/v1/tasks/{task_id}")
    finally:
        if display is not None:
            display.stop()
    if stream is not None:
        stream.write(_final_lines(task, time.monotonic() - started))
        stream.flush()
    if task["status"] in ("FAILED", "CANCELLED"):
        raise errors.TaskFailed(f"task {task_id} {task['status']}: {task.get('error') or 'no error given'}")
    if task["status"] not in FINAL:
        raise errors.TaskFailed(
            f"task {task_id} still {task['status']} after {timeout:g} s "
            "(see --wait-timeout; it goes on in the background)"
        )
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
