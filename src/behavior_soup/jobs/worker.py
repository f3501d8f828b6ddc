"""Entry point of the ``subprocess`` backend: ``python -m behavior_soup.jobs.worker SPEC RESULT``.

Reads a JSON spec of a row job or a table-level task, runs it with
:func:`behavior_soup.jobs.backends.execute` or :func:`~behavior_soup.jobs.backends.execute_task`,
and writes the run record as JSON. Exits 0 even when the job failed (the failure is in the record).
"""

from __future__ import annotations

import json
import logging
import sys

from .backends import execute, execute_task
from .context import TrialContext


def main(argv: list[str]) -> int:
    """Run the job or task a spec file describes and write its run record.

    Parameters
    ----------
    argv
        ``[SPEC, RESULT]``: the JSON spec to read (``job``, ``module``, ``ctx``, ``params``, or
        ``task``, ``module``, ``params``) and the file to write the run record to as JSON.

    Returns
    -------
    int
        ``0``, also when the job or task failed (the failure is in the record).
    """
    spec_path, result_path = argv
    with open(spec_path) as fh:
        spec = json.load(fh)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if "task" in spec:
        rec = execute_task(spec["task"], spec["module"], spec["params"], "subprocess")
    else:
        rec = execute(spec["job"], spec["module"], TrialContext(**spec["ctx"]), spec["params"], "subprocess")
    with open(result_path, "w") as fh:
        json.dump(rec, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
