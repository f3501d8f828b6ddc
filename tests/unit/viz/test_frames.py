"""Random access to video frames for the viewers: the same frames as decoding in order."""

from __future__ import annotations

import numpy as np
import pytest

from behavior_soup.video import VideoReader, write_video
from behavior_soup.viz.frames import FrameCache


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 255, (95, 32, 48, 3), dtype=np.uint8)
    frames[:, :4, :4] = np.arange(95, dtype=np.uint8)[:, None, None, None] * 2  # each frame marked
    path = write_video(tmp_path_factory.mktemp("v") / "v.mp4", frames, fps=30.0, lossless=True)
    with VideoReader(path) as r:
        return path, r.read()


@pytest.mark.parametrize("preload", [True, False], ids=["whole", "blocks"])
def test_frames_in_any_order_equal_sequential_decoding(video, preload):
    path, truth = video
    order = np.random.default_rng(0).permutation(len(truth)).tolist() + [94, 0, 93, 1, 50]
    with FrameCache(path, block=16, max_blocks=2, preload_bytes=1 << 40 if preload else 0) as cache:
        assert len(cache) == len(truth)
        for i in order:
            assert np.array_equal(cache[i], truth[i]), i
        with pytest.raises(IndexError, match="expected a frame index in 0..94"):
            cache[95]


def test_blocks_are_kept_so_the_slider_does_not_decode_again(video):
    path, _ = video
    with FrameCache(path, block=16, max_blocks=4, preload_bytes=0) as cache:
        for i in range(16):
            cache[i]
        n = cache.n_decoded
        for i in list(range(16)) * 3:
            cache[i]
        assert cache.n_decoded == n
        cache[40]  # a later block
        assert cache.n_decoded - n <= 48  # at most up to the end of the block needed
