"""The 512-byte user block at the start of a table file: which write made the file, and a
checksum of everything after it.

HDF5 readers (pandas, h5py, PyTables) skip the user block. It holds ``behavior_soup table``
and a JSON object ``{"write_id", "revision", "size", "crc32"}`` padded with NUL bytes:
``size`` is the file's length and ``crc32`` the CRC-32 of its bytes after the block. A
process checks whether anyone else saved with one small read (the write id), and every load
checks the checksum before HDF5 parses a byte, so a flipped or lost byte is a clear
:class:`~behavior_soup.errors.TableFormatError` instead of a different uuid, a wrong trial id
or a crash inside libhdf5. Tables written before the checksum existed carry only the write
id (or no block) and are checked from their next save on.
"""

from __future__ import annotations

import json
import os
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import TableFormatError

__all__ = ["STAMP_MAGIC", "STAMP_SIZE", "file_crc", "read_stamp", "stamp_bytes", "verify_checksum"]

#: Size of the HDF5 user block at the start of a table file (the smallest HDF5 allows).
STAMP_SIZE = 512
STAMP_MAGIC = b"behavior_soup table\n"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_CHUNK = 1 << 20


def _parse(head: bytes) -> dict[str, Any] | None:
    if not head.startswith(STAMP_MAGIC):
        return None
    try:
        d = json.loads(head[len(STAMP_MAGIC) :].split(b"\0", 1)[0].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return d if isinstance(d, dict) else None


def read_stamp_dict(path: str | os.PathLike) -> dict[str, Any] | None:
    """The JSON object of a table file's user block, or None where the file has none or it
    cannot be read.

    Parameters
    ----------
    path
        The table file.

    Returns
    -------
    dict or None
        The stamp (``write_id``, ``revision`` and, if written with a checksum, ``size`` and
        ``crc32``), or ``None``.
    """
    try:
        with open(path, "rb") as fh:
            return _parse(fh.read(STAMP_SIZE))
    except OSError:
        return None


def read_stamp(path: str | os.PathLike) -> str | None:
    """The ``write_id`` recorded in a table file's user block, or None where the file has
    none (written by an older version) or it cannot be read.

    Parameters
    ----------
    path
        The table file.

    Returns
    -------
    str or None
        The write id, or ``None`` if there is no non-empty string write id.
    """
    d = read_stamp_dict(path)
    wid = d.get("write_id") if d else None
    return wid if isinstance(wid, str) and wid else None


def _crc_rest(fh: Any) -> tuple[int, int]:
    crc = 0
    fh.seek(STAMP_SIZE)
    while chunk := fh.read(_CHUNK):
        crc = zlib.crc32(chunk, crc)
    return fh.tell(), crc


def file_crc(path: str | os.PathLike) -> tuple[int, int]:
    """``(size, crc32)`` of a file's bytes after the user block.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    tuple of (int, int)
        The file's total length in bytes (including the user block) and the CRC-32 of the
        bytes after the first :data:`STAMP_SIZE`.
    """
    with open(path, "rb") as fh:
        return _crc_rest(fh)


def stamp_bytes(meta: Mapping[str, str], size: int, crc: int) -> bytes:
    """The user block recording a revision.

    Parameters
    ----------
    meta
        The revision's metadata; its ``write_id`` and ``revision`` are recorded.
    size, crc
        The file's length and the CRC-32 of its bytes after the user block (see
        :func:`file_crc`).

    Returns
    -------
    bytes
        :data:`STAMP_MAGIC` and the JSON stamp, padded with NUL bytes to :data:`STAMP_SIZE`.

    Raises
    ------
    ValueError
        If the stamp does not fit in :data:`STAMP_SIZE` bytes.
    """
    body = STAMP_MAGIC + json.dumps(
        {"write_id": meta["write_id"], "revision": meta["revision"], "size": size, "crc32": crc}
    ).encode("utf-8")
    if len(body) >= STAMP_SIZE:  # ids are 16 hex digits: never, unless the code changes
        raise ValueError(f"expected a user-block stamp under {STAMP_SIZE} bytes, got {len(body)}")
    return body.ljust(STAMP_SIZE, b"\0")


def has_user_block(path: str | os.PathLike) -> bool:
    """Whether HDF5's signature sits right after a user block of :data:`STAMP_SIZE` bytes.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    bool
        ``True`` if the HDF5 signature starts at byte :data:`STAMP_SIZE`.
    """
    with open(path, "rb") as fh:
        fh.seek(STAMP_SIZE)
        return fh.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE


def verify_checksum(path: str | os.PathLike) -> bool:
    """Check a table file against its stamp; True if it carries a checksum (and matches).

    Parameters
    ----------
    path
        The table file.

    Returns
    -------
    bool
        ``True`` if the stamp carries a checksum and the file matches it, ``False`` if it
        carries none (nothing to check).

    Raises
    ------
    TableFormatError
        The file's length or content differs from what its writer recorded.
    """
    with open(path, "rb") as fh:  # one open file: the stamp and the bytes of the same version
        d = _parse(fh.read(STAMP_SIZE))
        if not d or "crc32" not in d:
            return False
        size, crc = _crc_rest(fh)
    if size != d.get("size") or crc != d.get("crc32"):
        raise TableFormatError(
            f"expected the table {str(path)!r} to hold what was written (size {d.get('size')} bytes, CRC-32 "
            f"{d.get('crc32')}), found size {size} and CRC-32 {crc}: the file was damaged or changed by another program after it "
            "was saved (disk, copy, transfer or an edit in place); restore it from a backup or an earlier copy"
        )
    return True


# The metadata of the last few revisions written or loaded here, by write_id: a change to a
# table whose user block still carries the write id this process last saw needs no metadata read.
_METAS: OrderedDict[str, dict[str, str]] = OrderedDict()
_METAS_LIMIT = 64


def remember_meta(meta: Mapping[str, str]) -> None:
    """Remember the metadata of a revision written or loaded here, by its ``write_id``.

    Only the last few revisions are kept; metadata without a ``write_id`` is ignored.

    Parameters
    ----------
    meta
        The revision's metadata.
    """
    wid = meta.get("write_id")
    if wid:
        _METAS[wid] = dict(meta)
        _METAS.move_to_end(wid)
        while len(_METAS) > _METAS_LIMIT:
            _METAS.popitem(last=False)


def known_meta(path: Path, write_id: str) -> dict[str, str] | None:
    """The metadata remembered for ``write_id`` if the file's stamp still carries it.

    Parameters
    ----------
    path
        The table file.
    write_id
        The write id the caller last saw.

    Returns
    -------
    dict of str to str or None
        A copy of the remembered metadata, or ``None`` if none is remembered for ``write_id``
        or the file's stamp now carries another write id.
    """
    known = _METAS.get(write_id) if write_id else None
    if known is not None and read_stamp(path) == write_id:
        return dict(known)
    return None
