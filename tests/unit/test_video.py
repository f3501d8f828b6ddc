import numpy as np
import pytest

from behavior_soup.errors import VideoError
from behavior_soup.video import VideoReader, iter_concatenated, probe, read_video, write_video


def _frames(n=20, h=32, w=48):
    t = np.arange(n)[:, None, None]
    x = np.arange(w)[None, None, :]
    g = ((x * 5 + t * 9) % 256).astype(np.uint8)
    g = np.broadcast_to(g, (n, h, w))
    return np.stack([g, 255 - g, np.full_like(g, 80)], axis=-1)


def test_write_probe_read(tmp_path):
    fr = _frames()
    p = write_video(tmp_path / "a.mp4", fr, fps=25)
    info = probe(p)
    assert (info.n_frames, info.width, info.height, info.fps) == (20, 48, 32, 25.0)
    v = read_video(p)
    assert v.shape == fr.shape and v.dtype == np.uint8
    assert np.abs(v.astype(int) - fr).mean() < 6
    g = read_video(p, size=(16, 24), pixel_format="gray")
    assert g.shape == (20, 16, 24)
    with VideoReader(p) as r:
        chunks = list(r.iter_chunks(8))
    assert [len(c) for c in chunks] == [8, 8, 4]
    assert write_video(tmp_path / "b.mp4", fr, fps=25).read_bytes() == p.read_bytes()


def test_concatenated_views(tmp_path):
    a = write_video(tmp_path / "front.mp4", _frames())
    b = write_video(tmp_path / "side.mp4", _frames(h=64, w=64))
    chunks = list(iter_concatenated([a, b], size=(32, 32), chunk=16))
    assert [c.shape for c in chunks] == [(16, 32, 64, 3), (4, 32, 64, 3)]
    c = write_video(tmp_path / "short.mp4", _frames(n=10))
    with pytest.raises(VideoError, match="equal frame counts"):
        list(iter_concatenated([a, c]))


def test_truncated_video_reports_fewer_frames(tmp_path):
    p = write_video(tmp_path / "a.mkv", _frames(n=60))
    assert probe(p).n_frames == 60
    data = p.read_bytes()
    t = tmp_path / "trunc.mkv"
    t.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(VideoError, match=r"expected 60 frames .* decoded only \d+"):
        read_video(t)


def test_not_a_video(tmp_path):
    p = tmp_path / "x.mp4"
    p.write_bytes(b"hello" * 100)
    with pytest.raises(VideoError, match="expected a decodable video"):
        probe(p)
    with pytest.raises(VideoError, match="found none"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="expected frames"):
        write_video(tmp_path / "y.mp4", np.zeros((2, 4, 4), np.uint8))
