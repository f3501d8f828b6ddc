"""Row-level jobs: a registry of named functions and one runner that executes them over
table rows on a chosen backend, recording status, timings, parameters and failures."""

from .context import TrialContext
from .registry import JOBS, Job, get_job, register_job
from .runner import BACKENDS, run_job, run_row, run_rows, run_task

__all__ = [
    "BACKENDS",
    "JOBS",
    "Job",
    "TrialContext",
    "get_job",
    "register_job",
    "run_job",
    "run_row",
    "run_rows",
    "run_task",
]
