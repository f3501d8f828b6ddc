"""Training is a function of its inputs, seed and thread count only: the same weights in a
fresh interpreter as in this one after other work has changed global state (torch and numpy
generators, a decode thread running) -- so a test's result cannot depend on what ran before it.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]


def train_tiny(root: str) -> str:
    """Sample data, a table and a flow generator plus feature extractor trained briefly on one
    thread; returns a hash of the feature extractor's weights."""
    import behavior_soup as bs
    from behavior_soup.ethogram.checkpoint import load_checkpoint
    from behavior_soup.sample_data import make_sample_data

    torch.set_num_threads(1)
    tmp = Path(root)
    sd = make_sample_data(tmp / "raw", n_animals=1, n_trials=3, n_frames=40, size=(32, 32), ephys=False)
    df = bs.create_df(tmp / "exp" / "table.h5", raw_root=tmp / "raw")
    df.behavior.add_item(sd.animals[0])
    df.behavior.load_labels(progress=False)
    common = {"mode": "fast", "device": "cpu", "progress": False, "batch_size": 8, "steps_per_epoch": 3}
    df.flow_generator.train(model_out="flow", epochs=2, input_size=(16, 32), **common)
    df.feature_extractor.train(model_out="fe", epochs=2, augment={"front": {"rotate": 180}}, **common)
    h = hashlib.sha1()
    state = load_checkpoint(tmp / "exp" / "fe" / "last.pt", kind="feature_extractor")["state_dict"]
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].numpy().tobytes())
    return h.hexdigest()


def test_same_weights_in_a_fresh_process_and_after_other_work(tmp_path):
    code = f"import sys; sys.path.insert(0, {str(REPO)!r}); from tests.integration.{Path(__file__).stem} import train_tiny; print(train_tiny(sys.argv[1]))"
    fresh = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "fresh")], check=True, capture_output=True, text=True, cwd=REPO
    ).stdout.split()[-1]
    # what earlier tests may leave behind: used generators, another thread busy decoding
    torch.manual_seed(123)
    torch.rand(1000)
    np.random.seed(7)  # noqa: NPY002  (the legacy global generator, as old code uses it)
    np.random.rand(1000)  # noqa: NPY002
    busy = threading.Event()

    def decode_loop():
        from behavior_soup.video import read_video, write_video

        p = write_video(tmp_path / "busy.mp4", np.zeros((30, 32, 32, 3), np.uint8))
        while not busy.is_set():
            read_video(p)

    t = threading.Thread(target=decode_loop, daemon=True)
    t.start()
    try:
        here = train_tiny(str(tmp_path / "here"))
    finally:
        busy.set()
        t.join()
    assert here == fresh
