"""Third-party console output turned into log records.

Libraries such as DeepLabCut and keypoint-moseq ``print`` progress and notices; inside a
notebook that buries the library's own messages. :func:`captured` sends what they write to
``sys.stdout`` (and, unless their progress bars are wanted, to ``sys.stderr``) to a logger,
one record per line.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Iterator

__all__ = ["captured", "quieted", "root_records_to"]


#: Terminal control sequences (tqdm moves the cursor up with ``ESC [ A`` between nested bars).
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class _LogStream(io.TextIOBase):
    """A text stream that logs each complete line it is written, without terminal control
    sequences."""

    def __init__(self, logger: logging.Logger, level: int) -> None:
        self.logger = logger
        self.level = level
        self._buf = ""
        self._busy = False  # a handler writing back into this stream while it logs: dropped

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if self._busy:
            return len(s)
        self._buf += _CONTROL.sub("", s)
        *lines, self._buf = self._buf.replace("\r", "\n").split("\n")
        self._emit(lines)
        return len(s)

    def _emit(self, lines: list[str]) -> None:
        self._busy = True
        try:
            for line in lines:
                if line.strip():
                    self.logger.log(self.level, "%s", line.rstrip())
        finally:
            self._busy = False

    def flush(self) -> None:
        if not self._busy:
            buf, self._buf = self._buf, ""
            self._emit([buf])


@contextlib.contextmanager
def captured(logger: logging.Logger, *, stderr: bool = True, level: int = logging.INFO) -> Iterator[None]:
    """Send what is written to ``sys.stdout`` (and ``sys.stderr``) inside the block to ``logger``.

    The root logger's handlers and level are restored when the block ends, since some
    libraries reconfigure logging for the whole process (DeepLabCut's training calls
    ``logging.basicConfig(force=True)``, keypoint-moseq sets the root level to ERROR).

    Parameters
    ----------
    logger
        The logger that receives one record per non-empty line.
    stderr
        Also capture ``sys.stderr`` (where tqdm progress bars go); pass False to let a
        third-party progress bar show.
    level
        The records' level.

    Yields
    ------
    None
        Inside the block, Python-level writes to the streams are logged instead of shown.

    Examples
    --------
    >>> import logging
    >>> with captured(logging.getLogger("demo")):
    ...     print("not shown on the console")
    """
    out = _LogStream(logger, level)
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        if stderr:
            stack.enter_context(contextlib.redirect_stderr(_LogStream(logger, level)))
        try:
            yield
        finally:
            out.flush()
            if stderr and isinstance(sys.stderr, _LogStream):
                sys.stderr.flush()
            for h in list(root.handlers):
                if h not in handlers:
                    root.removeHandler(h)
                    h.close()
            for h in handlers:
                if h not in root.handlers:
                    root.addHandler(h)
            root.setLevel(root_level)


@contextlib.contextmanager
def root_records_to(logger: logging.Logger, level: int = logging.DEBUG) -> Iterator[None]:
    """Send records logged straight on the root logger (``logging.warning(...)``, as ONNX
    Runtime's quantizer does) to ``logger`` at ``level`` instead, while the block runs.

    Parameters
    ----------
    logger
        Where the records go.
    level
        Their level there.
    """

    def divert(record: logging.LogRecord) -> bool:
        logger.log(level, "%s", record.getMessage())
        return False

    root = logging.getLogger()
    root.addFilter(divert)
    try:
        yield
    finally:
        root.removeFilter(divert)


@contextlib.contextmanager
def quieted(*names: str, level: int = logging.ERROR) -> Iterator[None]:
    """Raise the named loggers to ``level`` while the block runs (for notices a library
    logs through its own handler, which :func:`captured` cannot redirect), then restore them.

    Parameters
    ----------
    *names
        Logger names.
    level
        Their level meanwhile.
    """
    loggers = [logging.getLogger(n) for n in names]
    before = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lv in zip(loggers, before):
            lg.setLevel(lv)
