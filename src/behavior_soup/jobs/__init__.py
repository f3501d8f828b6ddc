"""Row-level jobs: a registry of named functions and one runner that executes them over
table rows on a chosen backend, recording status, timings, parameters and failures."""

from .context import TrialContext
from .registry import JOBS, TASKS, Job, Task, get_job, get_task, register_job, register_task
from .runner import BACKENDS, run_job, run_row, run_rows, run_task, where_it_ran

__all__ = [
    "BACKENDS",
    "JOBS",
    "Job",
    "TASKS",
    "Task",
    "get_task",
    "register_task",
    "TrialContext",
    "get_job",
    "register_job",
    "run_job",
    "run_row",
    "run_rows",
    "run_task",
    "where_it_ran",
]
