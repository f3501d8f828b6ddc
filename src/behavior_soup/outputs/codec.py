"""How result values are stored in HDF5 groups, and read back.

A result is a group with provenance attributes; its members are datasets (arrays, scalars,
strings), sub-groups for nested mappings, and DataFrames as a sub-group with attribute
``kind="dataframe"`` and one dataset per column. Everything is plain HDF5: nothing is
pickled. Every dataset written records a CRC-32 of its bytes, so a file can be checked
against what was meant to be in it (:func:`verify_digests`).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OutputsError
from ..provenance import Provenance
from ..schema import dumps

__all__ = [
    "copy_node",
    "digest",
    "read_value",
    "storage_digest",
    "validate_key",
    "verify_digests",
    "write_provenance",
    "write_value",
]

#: Digests of the datasets written into one file: path inside the file -> (how, CRC-32),
#: ``how`` being ``"values"`` (of the array's values) or ``"storage"`` (of its stored chunks,
#: for datasets copied as they are).
Digests = dict[str, tuple[str, int]]


def validate_key(key: str) -> list[str]:
    """The parts of a result key like ``"behavior/video_stats"``.

    Parameters
    ----------
    key
        Slash-separated group path; leading and trailing ``/`` are ignored.

    Returns
    -------
    list of str
        Its parts, e.g. ``["behavior", "video_stats"]``.

    Raises
    ------
    ValueError
        A key that is not a string or is empty, or a part that is empty, ``.``/``..``, hidden
        or holds NUL.
    """
    parts = key.strip("/").split("/") if isinstance(key, str) else []
    if not parts or any(not p or p in (".", "..") or p.startswith(".") or "\x00" in p for p in parts):
        raise ValueError(f"expected a result key like 'behavior/video_stats', got {key!r}")
    return parts


def digest(arr: np.ndarray) -> int:
    """CRC-32 of an array's values (strings by their UTF-8 bytes).

    Parameters
    ----------
    arr
        Any array; object arrays must hold ``str`` or bytes-like items.

    Returns
    -------
    int
        A CRC-32 of the values and the shape (the same for equal arrays of the same dtype).
    """
    if arr.dtype.kind == "O":
        items = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in arr.ravel()]
        return zlib.crc32(b"\0".join(items) + str(arr.shape).encode())
    return zlib.crc32(np.ascontiguousarray(arr).view(np.uint8).ravel().tobytes() if arr.size else b"") ^ zlib.crc32(
        str(arr.shape).encode()
    )


def _dataset(group: Any, name: str, arr: np.ndarray, digests: Digests) -> None:
    import h5py

    if arr.dtype.kind in ("U", "O", "S"):
        flat = [x.decode() if isinstance(x, bytes) else str(x) for x in arr.ravel()]
        arr = np.asarray(flat, dtype=object).reshape(arr.shape)
        ds = group.create_dataset(name, data=arr, dtype=h5py.string_dtype())
    else:
        compress = arr.nbytes > 1 << 16
        ds = group.create_dataset(
            name, data=arr, compression="gzip" if compress else None, compression_opts=1 if compress else None
        )
    digests[ds.name] = ("values", digest(arr))


def write_value(group: Any, name: str, value: Any, digests: Digests) -> None:
    """Store ``value`` (array, scalar, string, DataFrame or nested mapping) as ``group[name]``.

    Strings (and object arrays, converted with ``str``) become variable-length UTF-8 datasets;
    datetimes are stored as int64 nanoseconds with ``kind="datetime64[ns]"``; other arrays
    over 64 KiB are gzip-compressed. A DataFrame becomes a group with ``kind="dataframe"``,
    its column names (JSON) and one dataset per column plus ``index``.

    Parameters
    ----------
    group
        The open ``h5py.Group`` to write into.
    name
        The member's name.
    value
        The value to store.
    digests
        Updated with the digest of every dataset written (by its path in the file).
    """
    if isinstance(value, pd.DataFrame):
        sub = group.create_group(name)
        sub.attrs["kind"] = "dataframe"
        sub.attrs["columns"] = dumps([str(c) for c in value.columns])
        for i, col in enumerate(value.columns):
            write_value(sub, f"c{i}", value[col].to_numpy(), digests)
        write_value(sub, "index", value.index.to_numpy(), digests)
        return
    if isinstance(value, Mapping):
        sub = group.create_group(name)
        for k, v in value.items():
            write_value(sub, str(k), v, digests)
        return
    arr = np.asarray(value)
    if arr.dtype.kind == "M":
        _dataset(group, name, arr.astype("datetime64[ns]").astype("int64"), digests)
        group[name].attrs["kind"] = "datetime64[ns]"
        return
    if arr.dtype.kind == "U":
        arr = arr.astype(object)
    if arr.dtype.kind == "O":
        arr = np.asarray([str(x) for x in arr.ravel()], dtype=object).reshape(arr.shape)
    _dataset(group, name, arr, digests)


def write_provenance(group: Any, provenance: Provenance) -> None:
    """Write ``provenance`` as attributes of ``group``, dicts and lists as JSON text.

    Parameters
    ----------
    group
        The open ``h5py.Group`` of the result.
    provenance
        How the result was made.
    """
    for k, v in provenance.to_dict().items():
        group.attrs[k] = dumps(v) if isinstance(v, (dict, list)) else v


def read_array(node: Any) -> np.ndarray:
    """A dataset's values as stored: strings as an object array of ``str``.

    Parameters
    ----------
    node
        An open ``h5py.Dataset``.

    Returns
    -------
    numpy.ndarray
        Its values with the dataset's shape (0-d for a scalar) and dtype, or ``object`` for
        strings.
    """
    import h5py

    if node.dtype.kind == "O" or h5py.check_string_dtype(node.dtype) is not None:
        data = node.asstr()[()]
        return np.asarray(data, dtype=object)
    return np.asarray(node[()])


def read_value(node: Any) -> Any:
    """The value stored at ``node`` (see :func:`write_value`).

    Parameters
    ----------
    node
        An open ``h5py.Group`` or ``h5py.Dataset``.

    Returns
    -------
    numpy.ndarray, pandas.DataFrame, scalar, str or dict
        A DataFrame group as a DataFrame, another group as a dict of its members (read the
        same way), a string dataset as a ``str`` or an object array of ``str``, a datetime
        dataset as ``datetime64[ns]``, and any other dataset as its array or NumPy scalar.
    """
    import h5py

    if isinstance(node, h5py.Group):
        if node.attrs.get("kind") == "dataframe":
            cols = json.loads(node.attrs["columns"])
            data = {c: read_value(node[f"c{i}"]) for i, c in enumerate(cols)}
            return pd.DataFrame(data, index=read_value(node["index"]), columns=cols)
        return {k: read_value(v) for k, v in node.items()}
    if node.dtype.kind == "O" or h5py.check_string_dtype(node.dtype) is not None:
        data = node.asstr()[()]
        return np.asarray(data, dtype=object) if isinstance(data, np.ndarray) else data
    data = node[()]
    if node.attrs.get("kind") == "datetime64[ns]":
        return np.asarray(data).astype("datetime64[ns]")
    return data


def storage_digest(ds: Any) -> int:
    """CRC-32 of how a dataset is stored: its raw (still compressed) chunks and their places,
    or its values when it is not chunked. Equal for a dataset and its exact copy, without
    decompressing anything.

    Parameters
    ----------
    ds
        An open ``h5py.Dataset``.

    Returns
    -------
    int
        The CRC-32 (:func:`digest` of its values when it is not chunked).
    """
    if ds.chunks is None:
        return digest(read_array(ds))
    crc = zlib.crc32(f"{ds.shape}{ds.dtype}".encode())
    dsid = ds.id
    for i in range(dsid.get_num_chunks()):
        info = dsid.get_chunk_info(i)
        mask, raw = dsid.read_direct_chunk(info.chunk_offset)
        crc = zlib.crc32(f"{info.chunk_offset}{mask}".encode(), crc)
        crc = zlib.crc32(raw, crc)
    return crc


def copy_node(src: Any, dst_parent: Any, name: str, digests: Digests) -> None:
    """Copy a group or dataset with everything below it into ``dst_parent[name]`` as stored
    (HDF5's object copy: compressed chunks are not recompressed), recording the storage
    digest of every dataset from the source, so a faulty copy shows up in
    :func:`verify_digests`.

    Parameters
    ----------
    src
        The ``h5py.Group`` or ``h5py.Dataset`` to copy.
    dst_parent
        The ``h5py.Group`` to copy into.
    name
        The name of the copy in ``dst_parent``.
    digests
        Updated with ``("storage", crc)`` for every dataset copied, by its path in the
        destination file.
    """
    import h5py

    dst_parent.copy(src, name)
    base = f"{dst_parent.name.rstrip('/')}/{name}"

    def visit(rel: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            digests[f"{base}/{rel}"] = ("storage", storage_digest(obj))

    if isinstance(src, h5py.Dataset):
        digests[base] = ("storage", storage_digest(src))
    else:
        src.visititems(visit)


def verify_digests(f: Any, digests: Digests, where: str) -> None:
    """Re-read every dataset of ``digests`` from the open file ``f`` and compare.

    Parameters
    ----------
    f
        The open ``h5py.File`` just written.
    digests
        The digests recorded while writing it (see :func:`write_value`, :func:`copy_node`).
    where
        What the file holds, for error messages.

    Raises
    ------
    OutputsError
        A dataset is missing, unreadable or holds other values than were written (a write
        that did not reach the disk, e.g. a full disk).
    """
    for path, (how, want) in digests.items():
        try:
            got = storage_digest(f[path]) if how == "storage" else digest(read_array(f[path]))
        except Exception as exc:
            raise OutputsError(
                f"expected {path} readable in the file just written for {where}, got {type(exc).__name__}: {exc} "
                "(is the disk full?); the previous results are kept"
            ) from exc
        if got != want:
            raise OutputsError(
                f"expected {path} in the file just written for {where} to hold what was written, found other "
                "bytes (is the disk full?); the previous results are kept"
            )
