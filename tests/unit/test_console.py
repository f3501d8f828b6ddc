from __future__ import annotations

import logging
import sys

from behavior_soup._console import captured


def test_prints_and_reconfigured_logging_are_captured_and_restored(caplog):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    log = logging.getLogger("behavior_soup.test_console")
    with caplog.at_level(logging.INFO, logger="behavior_soup.test_console"), captured(log):
        print("epoch 1/3\nepoch 2/3")
        sys.stderr.write("bar 50%\r")
        logging.basicConfig(force=True, level=logging.DEBUG)  # what DeepLabCut's training does
        logging.getLogger().addHandler(logging.StreamHandler())  # bound to the captured stderr
        logging.getLogger("third.party").warning("a note")  # must not loop back forever
    assert root.handlers == handlers and root.level == level
    messages = [r.getMessage() for r in caplog.records if r.name == "behavior_soup.test_console"]
    assert messages[:3] == ["epoch 1/3", "epoch 2/3", "bar 50%"]


def test_stderr_can_be_left_for_progress_bars(capsys):
    log = logging.getLogger("behavior_soup.test_console")
    with captured(log, stderr=False):
        print("hidden")
        sys.stderr.write("shown\n")
    out = capsys.readouterr()
    assert "hidden" not in out.out and "shown" in out.err


def test_terminal_control_sequences_are_not_logged(caplog):
    logger = logging.getLogger("behavior_soup.test_console")
    with caplog.at_level(logging.INFO, logger=logger.name), captured(logger):
        sys.stderr.write("\x1b[A\rApplying model:  20%|##  | 4/20\n\x1b[A\n\x1b[1;32mdone\x1b[0m\n")
    assert [r.getMessage() for r in caplog.records] == ["Applying model:  20%|##  | 4/20", "done"]
