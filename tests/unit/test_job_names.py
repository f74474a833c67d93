"""Job names are spelled once (kalamna.ports.jobs): the SAQ options, the worker's functions and the
cron jobs all agree on them."""

from __future__ import annotations

from kalamna.adapters.queue.saq_queue import TASK_OPTIONS
from kalamna.ports.jobs import TASK_NAMES
from kalamna.worker.maintenance import CRON_JOBS, MAINTENANCE_TASKS
from kalamna.worker.tasks import TASKS, requeue_unsent_mail


def registered() -> set[str]:
    return {function.__name__ for function in [*TASKS, *MAINTENANCE_TASKS]}


def test_every_task_option_names_a_registered_task_and_back() -> None:
    assert set(TASK_OPTIONS) == registered()


def test_the_named_tasks_are_exactly_the_registered_ones() -> None:
    assert registered() == TASK_NAMES
    assert len(TASKS) + len(MAINTENANCE_TASKS) == len(TASK_NAMES)  # no function registered twice


def test_cron_jobs_run_registered_tasks_with_their_options() -> None:
    for cron in CRON_JOBS:
        options = TASK_OPTIONS[cron.function.__name__]
        assert (cron.timeout, cron.retries, cron.ttl) == (
            options["timeout"],
            options["retries"],
            options["ttl"],
        )
    assert requeue_unsent_mail.__name__ in TASK_NAMES
