"""The ethogram data path: decode once (cached), windows, streaming equals random access."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from behavior_soup.errors import MissingViewError, VideoError  # noqa: E402
from behavior_soup.ethogram.frames import (  # noqa: E402
    clip_batch,
    norm_stats,
    stream_clips,
    trial_frames,
    view_paths,
    window_index,
)
from behavior_soup.jobs import TrialContext  # noqa: E402
from behavior_soup.video import read_video, write_video  # noqa: E402


@pytest.fixture
def ctx(table):
    table.behavior.add_item("m1", "2024-01-05", 1)
    return TrialContext.from_row(table.iloc[0], table.behavior.info)


def test_window_index_clamps_at_the_edges():
    idx = window_index(np.array([0, 1, 5, 9]), 10, 5)
    assert idx.tolist() == [[0, 0, 0, 1, 2], [0, 0, 1, 2, 3], [3, 4, 5, 6, 7], [7, 8, 9, 9, 9]]


def test_trial_frames_concatenates_views_and_caches(ctx):
    frames = trial_frames(ctx, (32, 64))
    assert frames.shape == (60, 32, 64, 3) and frames.dtype == np.uint8
    front = read_video(ctx.video_path("front"), size=(32, 32))
    side = read_video(ctx.video_path("side"), size=(32, 32))
    assert np.array_equal(frames[:, :, :32], front) and np.array_equal(frames[:, :, 32:], side)
    cached = list((Path(ctx.output_root) / "cache" / "frames").glob("*.npy"))
    assert len(cached) == 1
    # a second call reads the cache (same file, not rewritten)
    mtime = cached[0].stat().st_mtime_ns
    assert np.array_equal(trial_frames(ctx, (32, 64)), frames) and cached[0].stat().st_mtime_ns == mtime
    # a changed video invalidates it
    write_video(ctx.video_path("front"), np.zeros((60, 64, 64, 3), np.uint8))
    os.utime(ctx.video_path("front"), ns=(mtime + 10**9, mtime + 10**9))
    assert trial_frames(ctx, (32, 64))[:, :, :32].max() < 10
    assert len(list(cached[0].parent.glob("*.npy"))) == 1


def test_one_view_and_missing_views(ctx):
    assert [p.name for p in view_paths(ctx, ("side",))] == ["side_v001.mp4"]
    assert trial_frames(ctx, (32, 32), ("front",), cache=False).shape == (60, 32, 32, 3)
    bare = TrialContext(**{**ctx.__dict__, "videos": {}})
    with pytest.raises(MissingViewError, match="expected at least one video"):
        view_paths(bare)


def test_clip_layout_and_normalisation(ctx):
    frames = trial_frames(ctx, (32, 64))
    stats = norm_stats([frames])
    x = frames.astype(np.float64) / 255
    np.testing.assert_allclose(stats["mean"], x.reshape(-1, 3).mean(0), rtol=1e-6)
    np.testing.assert_allclose(stats["std"], x.reshape(-1, 3).std(0), rtol=1e-5)
    clips = clip_batch(frames, np.array([0, 30]), 5, stats)
    assert clips.shape == (2, 15, 32, 64)
    mean, std = np.array(stats["mean"]), np.array(stats["std"])
    expect = (frames[32].astype(np.float32) / 255 - mean) / std  # frame 32 is slot 4 of the window around 30
    np.testing.assert_allclose(clips[1, 12:15].permute(1, 2, 0).numpy(), expect, atol=1e-5)
    np.testing.assert_allclose(clips[0, 0:3], clips[0, 6:9])  # the window around 0 repeats frame 0


def test_streaming_equals_random_access(ctx):
    frames = trial_frames(ctx, (32, 64))
    stats = norm_stats([frames])
    streamed = torch.cat(list(stream_clips(view_paths(ctx), (32, 64), 11, stats, batch_size=7)))
    direct = clip_batch(frames, np.arange(60), 11, stats)
    assert streamed.shape == (60, 33, 32, 64)
    np.testing.assert_allclose(streamed, direct, atol=1e-6)


def test_too_short_for_the_flow_window(tmp_path, ctx):
    short = tmp_path / "short.mp4"
    write_video(short, np.zeros((6, 32, 32, 3), np.uint8))
    with pytest.raises(VideoError, match="expected at least 11 frames"):
        list(stream_clips([short], (32, 32), 11, {"mean": [0.5] * 3, "std": [0.25] * 3}))
