"""A fresh Python for the full-disk tests, its files limited in size."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run_python(code: str, *args: str, fsize: int | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` (dedented) with ``args`` in a fresh Python, its files limited to ``fsize``
    bytes. The child sets the limit itself: a ``preexec_fn`` would run Python in a fork of the
    threaded test process. Python ignores SIGXFSZ, so a write past the limit fails with EFBIG."""
    code = textwrap.dedent(code)
    if fsize is not None:
        code = f"import resource; resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))\n" + code
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
