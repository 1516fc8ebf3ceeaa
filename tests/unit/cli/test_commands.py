"""Task list filters from the one list of task types, capabilities' intervals (no HTTP)."""

import io

import pytest

from delfin_like.cli import capabilities, shell, tasks
from delfin_like.common.constants import TaskStatus, TaskType


def _task_list_parser():
    app = shell.DelfinLikeApp(stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())
    return tasks.ListTasks(app, None).get_parser("delfin-like task list")


def test_task_list_takes_and_lists_every_task_type_and_status():
    parser = _task_list_parser()
    assert "perf_volume" in TaskType.ALL and "job_submit" in TaskType.ALL
    for task_type in TaskType.ALL:
        assert parser.parse_args(["--type", task_type]).type == task_type
    for status in TaskStatus.ALL:
        assert parser.parse_args(["--status", status]).status == status
    text = parser.format_help().replace("\n", " ")
    assert all(t in text for t in TaskType.ALL)
    with pytest.raises(SystemExit):
        parser.parse_args(["--type", "bogus"])


def test_capabilities_show_the_finest_interval_per_resource():
    collection = {"volume": {"min_interval": 60, "is_historic": True}, "storage": {"min_interval": 300}}
    assert capabilities._min_interval_text(collection) == "storage: 300 s\nvolume: 60 s, historic"
    assert capabilities._min_interval(collection) == {"storage": 300, "volume": 60}
    assert capabilities._min_interval_text({}) == ""
