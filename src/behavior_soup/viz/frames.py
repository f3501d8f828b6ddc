"""Random access to a video's frames for the viewers: decoded in blocks through one open
container, kept in a small LRU cache, so moving the slider never reopens the file.

A short video (under ``preload_bytes`` decoded) is decoded once, whole. A longer one is read
block by block: seek to the keyframe before the block, decode forward, keep the block. Frame
numbers come from the frames' timestamps, so a block lands where it should whatever the
keyframe spacing; a video whose frames carry no timestamps is read from the start.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..errors import VideoError
from ..video import VideoReader, probe

__all__ = ["FrameCache"]

log = logging.getLogger(__name__)


class FrameCache:
    """Frames of one video by index, ``(H, W, 3)`` uint8 RGB.

    Parameters
    ----------
    path
        The video file.
    block
        Frames decoded per block.
    max_blocks
        Blocks kept decoded (least recently used dropped first).
    preload_bytes
        Decode the whole video at once when its frames take at most this many bytes.

    Examples
    --------
    >>> frames = FrameCache("front_v001.mp4")  # doctest: +SKIP
    >>> frames[120].shape  # doctest: +SKIP
    (224, 224, 3)
    """

    def __init__(
        self, path: str | os.PathLike, block: int = 32, max_blocks: int = 16, preload_bytes: int = 256 * 2**20
    ) -> None:
        import av

        if block <= 0 or max_blocks <= 0:
            raise ValueError(f"expected positive block and max_blocks, got {block} and {max_blocks}")
        self.path = Path(path)
        self.info = probe(self.path)
        self.block = int(block)
        self.max_blocks = int(max_blocks)
        self._blocks: OrderedDict[int, np.ndarray] = OrderedDict()
        self._all: np.ndarray | None = None
        self.n_decoded = 0
        size = self.info.n_frames * self.info.height * self.info.width * 3
        if self.info.n_frames and size <= preload_bytes:
            with VideoReader(self.path) as r:
                self._all = r.read()
            self.n_decoded = len(self._all)
            self._container = None
            return
        self._container = av.open(str(self.path))
        self._stream = self._container.streams.video[0]
        self._base: int | None = None

    def __len__(self) -> int:
        return len(self._all) if self._all is not None else self.info.n_frames

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def __enter__(self) -> FrameCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getitem__(self, i: int) -> np.ndarray:
        n = len(self)
        i = int(i)
        if not 0 <= i < n:
            raise IndexError(f"expected a frame index in 0..{n - 1} of {str(self.path)!r}, got {i}")
        if self._all is not None:
            return self._all[i]
        b = i // self.block
        if b not in self._blocks:
            self._blocks[b] = self._decode_block(b)
            while len(self._blocks) > self.max_blocks:
                self._blocks.popitem(last=False)
        self._blocks.move_to_end(b)
        block = self._blocks[b]
        if i - b * self.block >= len(block):
            raise VideoError(f"expected frame {i} in {str(self.path)!r} (its container claims {n}), it does not decode")
        return block[i - b * self.block]

    def _index(self, frame) -> int | None:
        if frame.pts is None or frame.time_base is None:
            return None
        if self._base is None:
            self._base = self._stream.start_time if self._stream.start_time is not None else frame.pts
        return int(round(float((frame.pts - self._base) * frame.time_base) * self.info.fps))

    def _decode_block(self, b: int) -> np.ndarray:
        first, last = b * self.block, min((b + 1) * self.block, len(self)) - 1
        container, stream = self._container, self._stream
        if container is None:
            raise VideoError(f"expected an open video {str(self.path)!r}, it was closed")
        if self._base is None:  # learn the first timestamp from frame 0
            container.seek(0, stream=stream)
            for frame in container.decode(stream):
                self._index(frame)
                break
        target = None
        if self._base is not None and stream.time_base is not None and self.info.fps:
            target = int(self._base + first / self.info.fps / float(stream.time_base))
        container.seek(max(target or 0, 0) if target is not None else 0, stream=stream, backward=True)
        out: dict[int, np.ndarray] = {}
        k = -1
        for frame in container.decode(stream):
            idx = self._index(frame)
            k += 1
            idx = k if idx is None or target is None else idx
            self.n_decoded += 1
            if idx > last:
                break
            if idx >= first:
                out[idx] = frame.to_ndarray(format="rgb24")
            if len(out) == last - first + 1:
                break
        have = [j for j in range(first, last + 1) if j in out]
        if have != list(range(first, first + len(have))):
            raise VideoError(
                f"expected frames {first}..{last} of {str(self.path)!r} in order, decoded {sorted(out)[:8]}; "
                "its timestamps do not match its frame rate"
            )
        return np.stack([out[j] for j in have]) if have else np.zeros((0, 1, 1, 3), np.uint8)
