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


def test_lossless_frames_are_the_same_in_every_process(tmp_path):
    """Lossy H.264 bytes can differ between two encodes of the same frames (timing inside the
    encoder); lossless ones always decode to the same frames, here and in a fresh process."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    fr = np.clip(_frames(n=30, h=32, w=32).astype(int) + rng.normal(0, 3, (30, 32, 32, 3)), 0, 255).astype(np.uint8)
    np.save(tmp_path / "frames.npy", fr)
    a = read_video(write_video(tmp_path / "a.mp4", fr, lossless=True))
    code = (
        "import numpy as np, sys; from behavior_soup.video import write_video; "
        "write_video(sys.argv[2], np.load(sys.argv[1]), lossless=True)"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "frames.npy"), str(tmp_path / "b.mp4")], check=True)
    b = read_video(tmp_path / "b.mp4")
    assert np.array_equal(a, b)
    # lossless: what is lost is only the conversion to 4:2:0 YUV and back
    import av

    def yuv_round_trip(x):
        yuv = av.VideoFrame.from_ndarray(x, format="rgb24").reformat(format="yuv420p")
        return yuv.reformat(format="rgb24").to_ndarray()

    assert np.array_equal(a, np.stack([yuv_round_trip(x) for x in fr]))
    with pytest.raises(ValueError, match="expected codec 'libx264' for lossless=True"):
        write_video(tmp_path / "c.mkv", fr, codec="mpeg4", lossless=True)


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
