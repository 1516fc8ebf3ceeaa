"""The retention rules of tests/unit/db/test_retention.py on PostgreSQL and MariaDB (real servers;
under CI=true a missing server fails the test)."""

import pytest

from tests.unit.db.test_retention import (  # noqa: F401 - collected here against each server
    test_a_referenced_task_beyond_the_count_is_kept_and_does_not_stall_the_run,
    test_count_pruning_is_batched_across_groups_with_one_budget,
    test_each_batch_deletes_at_most_batch_size_and_a_run_at_most_max_batches,
    test_finished_jobs_older_than_the_max_age_go,
    test_finished_tasks_older_than_the_max_age_go_and_unfinished_ones_stay,
    test_only_the_newest_finished_tasks_of_each_storage_and_type_are_kept,
    test_perf_gaps_go_by_age_and_beyond_a_count_per_series,
    test_tasks_a_storage_a_schedule_or_a_running_job_points_at_are_kept,
    test_the_last_failed_task_of_each_storage_and_type_is_kept,
)


@pytest.fixture(params=["postgresql", "mysql"])
def db(request):
    return request.getfixturevalue(f"{request.param}_db")
