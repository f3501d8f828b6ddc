"""Reading and writing trial videos with PyAV (FFmpeg).

Frames are decoded sequentially (the fast path for every codec), optionally resized and
converted by FFmpeg's swscale during decoding, and the decoded count is checked against the
container's claim so a truncated file is an error, not a silently shorter trial.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np

from .errors import VideoError

__all__ = ["VideoInfo", "VideoReader", "iter_concatenated", "probe", "read_video", "write_video"]

log = logging.getLogger(__name__)

PixelFormat = Literal["rgb24", "gray"]


@dataclass(frozen=True)
class VideoInfo:
    """What a video's container says about it.

    Attributes
    ----------
    n_frames
        Frame count from the container (or duration × fps where the count is not stored).
    fps
        Average frame rate.
    width, height
        Frame size in pixels.
    codec
        Codec name.
    """

    path: str
    n_frames: int
    fps: float
    width: int
    height: int
    codec: str


def _open(path: Path):
    import av

    if not path.is_file():
        raise VideoError(f"expected a video file at {str(path)!r}, found none")
    try:
        container = av.open(str(path))
    except Exception as exc:  # av.error.* for corrupt/foreign files
        raise VideoError(f"expected a decodable video at {str(path)!r}, found {type(exc).__name__}: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"expected a video stream in {str(path)!r}, found none")
    return container


def _info(path: Path, container) -> VideoInfo:
    s = container.streams.video[0]
    fps = float(s.average_rate or s.guessed_rate or 0)
    n = int(s.frames or 0)
    if n <= 0 and s.duration is not None and s.time_base is not None and fps > 0:
        n = int(round(float(s.duration * s.time_base) * fps))
    if n <= 0 and container.duration and fps > 0:
        n = int(round(container.duration / 1_000_000 * fps))
    return VideoInfo(str(path), n, fps, int(s.codec_context.width), int(s.codec_context.height), s.codec_context.name)


def probe(path: str | os.PathLike) -> VideoInfo:
    """Container metadata of a video, without decoding it.

    Parameters
    ----------
    path
        Video file.

    Returns
    -------
    VideoInfo
        Frame count, frame rate, frame size in pixels and codec, as the container states them.

    Raises
    ------
    VideoError
        If there is no file at ``path``, it cannot be opened, or it has no video stream.
    """
    path = Path(path)
    container = _open(path)
    try:
        return _info(path, container)
    finally:
        container.close()


class VideoReader:
    """Sequential frame reader.

    Parameters
    ----------
    path
        Video file.
    size
        ``(height, width)`` to resize to during decoding, or None for the native size.
    pixel_format
        ``"rgb24"`` gives ``(H, W, 3)`` uint8 frames, ``"gray"`` gives ``(H, W)`` uint8.
    verify
        Raise :class:`VideoError` if fewer frames decode than the container claims.

    Examples
    --------
    >>> with VideoReader("front_v001.mp4", size=(112, 112)) as r:  # doctest: +SKIP
    ...     for chunk in r.iter_chunks(64):
    ...         ...  # (<=64, 112, 112, 3) uint8
    """

    def __init__(
        self,
        path: str | os.PathLike,
        size: tuple[int, int] | None = None,
        pixel_format: PixelFormat = "rgb24",
        verify: bool = True,
    ) -> None:
        if pixel_format not in ("rgb24", "gray"):
            raise ValueError(f"expected pixel_format 'rgb24' or 'gray', got {pixel_format!r}")
        if size is not None and (len(size) != 2 or min(size) <= 0):
            raise ValueError(f"expected size=(height, width) with positive ints, got {size!r}")
        self.path = Path(path)
        self._container = _open(self.path)
        self.info = _info(self.path, self._container)
        self.size = size
        self.pixel_format = pixel_format
        self.verify = verify
        self.n_decoded = 0

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def __len__(self) -> int:
        return self.info.n_frames

    def __iter__(self) -> Iterator[np.ndarray]:
        stream = self._container.streams.video[0]
        stream.thread_type = "AUTO"
        kwargs: dict = {"format": self.pixel_format}
        if self.size is not None:
            kwargs["height"], kwargs["width"] = self.size
        self.n_decoded = 0
        try:
            for frame in self._container.decode(stream):
                self.n_decoded += 1
                yield frame.to_ndarray(**kwargs)
        except Exception as exc:
            if isinstance(exc, GeneratorExit):
                raise
            raise VideoError(
                f"expected {self.info.n_frames} decodable frames in {str(self.path)!r}, decoding "
                f"failed after {self.n_decoded} ({type(exc).__name__}: {exc})"
            ) from exc
        if self.verify and self.n_decoded < self.info.n_frames:
            raise VideoError(
                f"expected {self.info.n_frames} frames in {str(self.path)!r} (as its container "
                f"claims), decoded only {self.n_decoded}; the file is truncated or corrupt"
            )

    def iter_chunks(self, chunk: int = 64) -> Iterator[np.ndarray]:
        """Yield consecutive frames stacked in arrays of up to ``chunk`` frames,
        shape ``(n, H, W, 3)`` (or ``(n, H, W)`` for gray), dtype uint8.

        Parameters
        ----------
        chunk
            Frames per chunk; only the last chunk may be shorter.

        Yields
        ------
        numpy.ndarray
            ``(n, H, W, 3)`` or ``(n, H, W)`` uint8, ``1 <= n <= chunk``, with ``(H, W)`` the
            reader's ``size`` (or the native size).

        Raises
        ------
        ValueError
            If ``chunk`` is not positive.
        VideoError
            If decoding fails, or (with ``verify``) fewer frames decode than the container claims.
        """
        if chunk <= 0:
            raise ValueError(f"expected a positive chunk size, got {chunk}")
        buf: list[np.ndarray] = []
        for frame in self:
            buf.append(frame)
            if len(buf) == chunk:
                yield np.stack(buf)
                buf = []
        if buf:
            yield np.stack(buf)

    def read(self) -> np.ndarray:
        """All frames, shape ``(T, H, W, 3)`` or ``(T, H, W)``, uint8.

        Returns
        -------
        numpy.ndarray
            ``(T, H, W, 3)`` (``"rgb24"``) or ``(T, H, W)`` (``"gray"``) uint8, ``T`` the number
            of frames decoded.

        Raises
        ------
        VideoError
            If no frame decodes, decoding fails, or (with ``verify``) fewer frames decode than
            the container claims.
        """
        frames = list(self)
        if not frames:
            raise VideoError(f"expected at least one frame in {str(self.path)!r}, decoded none")
        return np.stack(frames)


def read_video(
    path: str | os.PathLike, size: tuple[int, int] | None = None, pixel_format: PixelFormat = "rgb24"
) -> np.ndarray:
    """Decode a whole video: ``(T, H, W, 3)`` (or ``(T, H, W)`` for gray) uint8, verified.

    Parameters
    ----------
    path
        Video file.
    size
        ``(height, width)`` in pixels to resize to during decoding, or ``None`` for the native
        size.
    pixel_format
        ``"rgb24"`` or ``"gray"``.

    Returns
    -------
    numpy.ndarray
        ``(T, H, W, 3)`` or ``(T, H, W)`` uint8.

    Raises
    ------
    VideoError
        If the file cannot be opened or decoded, has no frame, or decodes fewer frames than its
        container claims.
    """
    with VideoReader(path, size=size, pixel_format=pixel_format) as r:
        return r.read()


def iter_concatenated(
    paths: Sequence[str | os.PathLike],
    size: tuple[int, int] | None = None,
    chunk: int = 64,
    pixel_format: PixelFormat = "rgb24",
) -> Iterator[np.ndarray]:
    """Stream several synchronised views side by side.

    Each view is resized to ``size`` = ``(height, width)`` (default: the first view's size)
    and the views are concatenated along the width, giving chunks of shape
    ``(n, height, width * len(paths), 3)`` uint8.

    Parameters
    ----------
    paths
        One video file per view, in the order they are placed from left to right.
    size
        ``(height, width)`` in pixels each view is resized to; ``None`` uses the first view's
        native size.
    chunk
        Frames per chunk; only the last chunk may be shorter.
    pixel_format
        ``"rgb24"``, or ``"gray"`` for chunks of shape ``(n, height, width * len(paths))``.

    Yields
    ------
    numpy.ndarray
        ``(n, height, width * len(paths), 3)`` uint8, ``1 <= n <= chunk``.

    Raises
    ------
    VideoError
        If the views claim or decode different frame counts.
    """
    readers = [VideoReader(p, pixel_format=pixel_format) for p in paths]
    try:
        counts = [r.info.n_frames for r in readers]
        if len(set(counts)) > 1:
            raise VideoError(f"expected views with equal frame counts, found {dict(zip(map(str, paths), counts))}")
        if size is None:
            size = (readers[0].info.height, readers[0].info.width)
        for r in readers:
            r.size = size
        iters = [r.iter_chunks(chunk) for r in readers]
        while True:
            parts = [next(it, None) for it in iters]
            if all(p is None for p in parts):
                return
            if any(p is None for p in parts) or len({len(p) for p in parts}) > 1:
                raise VideoError(
                    f"expected views that decode the same number of frames, {list(map(str, paths))} differ"
                )
            yield np.concatenate(parts, axis=2)
    finally:
        for r in readers:
            r.close()


def write_video(
    path: str | os.PathLike,
    frames: np.ndarray,
    fps: float = 30.0,
    codec: str = "libx264",
    crf: int = 17,
    lossless: bool = False,
) -> Path:
    """Encode ``frames`` (``(T, H, W, 3)`` uint8 RGB) to ``path``; H and W must be even for
    H.264.

    Lossy H.264 bytes are not reproducible: the same frames encoded twice on one thread
    can give different bytes, and so slightly different decoded pixels (seen in the first
    encode of a process on a loaded machine). ``lossless=True`` (``libx264`` at QP 0) makes
    the decoded frames depend on ``frames`` only: they equal ``frames`` converted to 4:2:0
    YUV and back, whatever the encoder decided, at about ten times the file size.

    Parameters
    ----------
    path
        Output file; its parent folders are created. ``.mp4``/``.mov`` files get the
        ``faststart`` flag.
    frames
        ``(T, H, W, 3)`` uint8 RGB frames.
    fps
        Frame rate, frames per second.
    codec
        FFmpeg encoder name.
    crf
        ``libx264`` constant rate factor (lower is better quality), unless ``lossless``.
    lossless
        Encode with ``libx264`` at QP 0 (requires ``codec="libx264"``).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``frames`` is not ``(T, H, W, 3)`` uint8, or ``lossless`` is asked with another codec.
    """
    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"expected frames of shape (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if lossless and codec != "libx264":
        raise ValueError(f"expected codec 'libx264' for lossless=True, got {codec!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    opts = {"movflags": "faststart"} if path.suffix.lower() in (".mp4", ".mov") else {}
    with av.open(str(path), mode="w", options=opts) as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            quality = {"qp": "0"} if lossless else {"crf": str(crf)}
            stream.options = {**quality, "preset": "veryfast", "threads": "1"}
        stream.thread_count = 1
        for arr in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
