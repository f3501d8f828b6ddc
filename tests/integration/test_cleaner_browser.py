"""The cleaner as a person uses it: JupyterLab on 127.0.0.1, a real Chromium driven by
Playwright, a notebook that opens ``df.behavior.clean_ethograms()``; the test clicks the
canvas, drags the region selector over the tracks, presses ``s``, ``1`` and ``y``, and reads
the change back from ``outputs.h5``.

Skips (saying why) where Chromium, Playwright, JupyterLab or a Vulkan adapter for fastplotlib
is missing; ``.ci/run`` installs them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from behavior_soup.accessors._common import contexts
from behavior_soup.outputs.read import list_results
from behavior_soup.provenance import Provenance

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
N_FRAMES = 60

NOTEBOOK = [
    "import behavior_soup as bs\ndf = bs.load_df('exp/table.h5')",
    "w = df.behavior.clean_ethograms(backend='fastplotlib', autosave_s=None)\nw.show()",
]


def _needs() -> str | None:
    if CHROMIUM is None:
        return "Debian chromium is not installed"
    for mod, what in (("playwright", "playwright"), ("jupyterlab", "jupyterlab"), ("jupyter_rfb", "fastplotlib")):
        try:
            __import__(mod)
        except ImportError:
            return f"{what} is not installed"
    probe = subprocess.run(  # the kernel's view: no offscreen canvas forced, a Vulkan adapter wanted
        [
            sys.executable,
            "-c",
            "from behavior_soup.viz.backends import BACKENDS; print(BACKENDS['fastplotlib'].check())",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "RENDERCANVAS_FORCE_OFFSCREEN": "1"},
        timeout=120,
    )
    why = probe.stdout.strip().splitlines()[-1] if probe.stdout.strip() else probe.stderr[-300:]
    return None if why == "None" else why


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(table, tmp_path):
    """A JupyterLab server over a folder with the table (one trial whose ``fast`` ethogram is
    all background) and the notebook; yields ``(url, trial context)``."""
    why = _needs()
    if why is not None:
        pytest.skip(why)
    table.behavior.add_item("m1", "2024-01-05", 1, exp_type="openfield")
    ctx = contexts(table)[0]
    behaviors = ["background", "groom", "rear"]
    eth = np.zeros((N_FRAMES, 3), np.int8)
    eth[:, 0] = 1
    ctx.write("fast/ethogram", {"array": eth, "behaviors": behaviors}, Provenance("test", {}).finish())
    cells = [
        {"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None, "id": f"c{i}"}
        for i, src in enumerate(NOTEBOOK)
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}, "cells": cells}
    (tmp_path / "clean.ipynb").write_text(json.dumps(nb))
    port, token = _free_port(), secrets.token_hex(8)
    env = {k: v for k, v in os.environ.items() if k != "RENDERCANVAS_FORCE_OFFSCREEN"}  # a kernel draws for real
    env.update(JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), XDG_RUNTIME_DIR=str(tmp_path / "rt"), HOME=str(tmp_path))
    (tmp_path / "rt").mkdir()
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={tmp_path}",
        ],  # fmt: skip
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                time.sleep(0.5)
        yield f"{base}/lab/tree/clean.ipynb?token={token}", ctx
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _cleaned(ctx, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ctx.outputs_file.exists() and "fast/cleaned" in list_results(
            ctx.outputs_file, trial_id=ctx.trial_id, uuid=ctx.uuid
        ):
            return ctx.read("fast/cleaned")
        time.sleep(0.5)
    return None


def test_a_region_dragged_in_the_browser_is_inserted_and_saved(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, ctx = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        try:
            page.goto(url)
            page.wait_for_selector(".jp-Notebook", timeout=120_000)
            page.wait_for_function("() => document.body.innerText.includes('Idle')", timeout=120_000)
            page.click("text=Run", timeout=10_000)
            page.click("text=Run All Cells")
            img = page.wait_for_selector("img.renderview-view", timeout=180_000)
            page.wait_for_function(
                "() => { const i = document.querySelector('img.renderview-view'); return i && i.naturalWidth > 100 }",
                timeout=180_000,
            )
            img.scroll_into_view_if_needed()
            box = img.bounding_box()
            x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
            page.mouse.click(x0 + w * 0.25, y0 + h * 0.3)  # focus: the video, away from the selector
            # the selector starts over frames 0..29 (the left half of the tracks): drag its fill right
            y = y0 + h * 0.81
            page.mouse.move(x0 + w * 0.3, y)
            page.mouse.down()
            for i in range(1, 11):
                page.mouse.move(x0 + w * (0.3 + 0.03 * i), y)
                time.sleep(0.05)
            page.mouse.up()
            time.sleep(0.5)
            for key in ("s", "1", "y"):  # groom (the first behavior) -> rear, insert it, save
                page.keyboard.press(key)
                time.sleep(0.3)
            cleaned = _cleaned(ctx)
            page.screenshot(path=str(tmp_path / "cleaner.png"))
        finally:
            browser.close()
    assert cleaned is not None, "nothing was saved; the lab log:\n" + (tmp_path / "lab.log").read_text()[-3000:]
    arr = np.asarray(cleaned["array"])
    rear = np.flatnonzero(arr[:, 2] == 1)
    assert rear.size >= 10, f"expected a region of rear, found frames {rear.tolist()}"
    assert np.array_equal(rear, np.arange(rear[0], rear[-1] + 1)), "one contiguous inserted region"
    assert rear[0] > 0 and rear[-1] > 29, f"the dragged region, not the initial 0..29: {rear[0]}..{rear[-1]}"
    assert (arr[rear, 0] == 0).all() and (arr[:, 1] == 0).all()
    outside = np.setdiff1d(np.arange(N_FRAMES), rear)
    assert (arr[outside, 0] == 1).all() and (arr[outside, 2] == 0).all()
    prov = ctx.provenance("fast/cleaned")
    assert prov["params"]["source"] == "fast/ethogram"
    assert prov["params"]["frames_changed"] == rear.size
