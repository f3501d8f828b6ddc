"""Writing a revision of the table: the temporary file, its check, and the atomic replace.

A revision is written to a temporary file beside the table, which is then reopened and
checked (its metadata, its row count, every byte of ``/trials`` readable, the checksum in its
user block), flushed to disk and moved over the table with ``os.replace``. PyTables can close
a file without raising when the disk fills; the check catches that, so the previous table is
kept and :class:`~behavior_soup.errors.WriteError` raised.
"""

from __future__ import annotations

import json
import logging
import secrets
import warnings
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema
from .._version import __version__
from ..errors import ItemExistsError, WriteError
from ..locking import atomic_write, remove_stale_temps
from ..naming import NamingRule
from ..paths import is_inside
from .format import FORMAT_NAME, META_NODE, NAN_REP, to_disk
from .info import TableInfo, set_info
from .merge import remember
from .stamp import STAMP_SIZE, file_crc, has_user_block, remember_meta, stamp_bytes

__all__ = ["commit", "initial_meta", "replace_contents"]

log = logging.getLogger(__name__)


def initial_meta(table_path: Path, raw_root: Path, output_root: Path, naming: NamingRule) -> dict[str, str]:
    """The metadata of a new, empty table (revision 0).

    Parameters
    ----------
    table_path
        Absolute path of the table file.
    raw_root
        Absolute raw-data root.
    output_root
        Absolute output root; stored relative to the table's folder when inside it.
    naming
        The table's naming rule.

    Returns
    -------
    dict of str to str
        ``format``, ``revision``, ``raw_root``, ``output_root``, ``output_root_relative``
        (``"1"`` or ``"0"``), ``naming`` (JSON) and ``created`` (ISO-8601 UTC).
    """
    tdir = table_path.parent
    rel = is_inside(output_root, tdir)
    return {
        "format": FORMAT_NAME,
        "revision": "0",
        "raw_root": str(raw_root),
        "output_root": output_root.relative_to(tdir).as_posix() if rel else str(output_root),
        "output_root_relative": "1" if rel else "0",
        "naming": schema.dumps(naming.to_dict()),
        "created": datetime.now(timezone.utc).isoformat(),
    }


def _check_written(tmp: Path, text: str, n_rows: int, stamp: tuple[int, int] | None) -> None:
    """Reopen a table file just written and check it holds what was meant (see the module
    docstring). Raises WriteError otherwise."""
    import h5py

    def fail(what: str) -> WriteError:
        return WriteError(
            f"expected the table file just written ({str(tmp)!r}) to hold what was written, {what}; "
            "the disk may be full or failing: the previous table is kept, nothing was saved"
        )

    try:
        if stamp is not None and file_crc(tmp) != stamp:
            raise fail("its bytes changed after writing")
        with h5py.File(tmp, "r", locking=False) as f:
            node = f.get(META_NODE)
            if not isinstance(node, h5py.Dataset) or bytes(node[()]).decode("utf-8") != text:
                raise fail("its metadata is missing or different")
            if n_rows:
                table = f.get("trials/table")
                if not isinstance(table, h5py.Dataset) or table.shape[0] != n_rows:
                    raise fail(f"found {None if table is None else table.shape} rows where {n_rows} were written")
                _ = table[...]  # every chunk readable
    except WriteError:
        raise
    except Exception as exc:  # h5py raises several types for damaged files
        raise fail(f"found an unreadable file ({type(exc).__name__}: {exc})") from exc


def _write(path: Path, enc: pd.DataFrame, meta: Mapping[str, str]) -> None:
    text = json.dumps({k: str(v) for k, v in meta.items()}, sort_keys=True)

    def writer(tmp: Path) -> None:
        with pd.HDFStore(tmp, mode="w", user_block_size=STAMP_SIZE) as st:
            if len(enc):  # pandas cannot write a 0-row "table"; the metadata's n_rows says it is empty
                st.put("trials", enc, format="table", index=False, track_times=False, nan_rep=NAN_REP)
            root = st.get_node("/")
            root._v_file.create_array(root, META_NODE, obj=np.bytes_(text.encode("utf-8")))
        stamp = None
        if has_user_block(tmp):  # never write over HDF5's own bytes where the block is missing
            stamp = file_crc(tmp)
            with open(tmp, "r+b") as fh:  # HDF5 leaves the user block to us
                fh.write(stamp_bytes(meta, *stamp))
        else:
            log.debug("%s was written without a user block; it carries no stamp", tmp)
        _check_written(tmp, text, len(enc), stamp)

    try:
        atomic_write(path, writer)
    except WriteError:
        raise
    except OSError as exc:
        raise WriteError(
            f"expected to write the table {str(path)!r}, got {type(exc).__name__}: {exc}; the previous table is kept"
        ) from exc
    except Exception as exc:  # PyTables' HDF5ExtError and friends when the disk fills mid-write
        if type(exc).__module__.startswith("tables"):
            raise WriteError(
                f"expected to write the table {str(path)!r}, got {type(exc).__name__}: {exc} (is the disk full?); "
                "the previous table is kept"
            ) from exc
        raise


def _check_unique(df: pd.DataFrame) -> None:
    n = len(df)
    ids = zip(df["animal_id"].tolist(), df["session_id"].tolist(), df["trial_id"].tolist())
    if len(set(df["uuid"].tolist())) == n and len(set(ids)) == n:
        return
    if df["uuid"].duplicated().any():
        dup = df.loc[df["uuid"].duplicated(), "uuid"].tolist()[:5]
        raise ItemExistsError(f"expected unique uuids, found duplicates {dup}")
    ident = df[["animal_id", "session_id", "trial_id"]]
    d = ident.duplicated()
    if d.any():
        dups = [tuple(x) for x in ident[d].itertuples(index=False)][:5]
        raise ItemExistsError(f"expected each (animal_id, session_id, trial_id) once, found duplicates {dups}")


def commit(path: Path, new: pd.DataFrame, meta_in: Mapping[str, str]) -> tuple[int, str]:
    """Write ``new`` (in the schema's in-memory form, see :func:`schema.coerce`) as the next
    revision (lock held by caller); return (revision, write_id).

    Parameters
    ----------
    path
        The table file.
    new
        The rows to write.
    meta_in
        The metadata to write; ``n_rows``, ``schema_version``, ``revision`` (one more than
        ``meta_in``'s), ``write_id``, ``saved`` and ``behavior_soup_version`` are set on a copy.

    Returns
    -------
    tuple of (int, str)
        The new revision number and its random write id (16 hex digits).

    Raises
    ------
    ItemExistsError
        ``new`` has duplicate uuids or ``(animal_id, session_id, trial_id)``.
    ValueError
        A column cannot be encoded (see :func:`~.format.to_disk`).
    WriteError
        The file could not be written or did not check out; the previous table is kept.
    """
    _check_unique(new)
    enc = to_disk(new)
    meta = dict(meta_in)
    meta.update(
        n_rows=str(len(enc)),
        schema_version=str(schema.SCHEMA_VERSION),
        revision=str(int(meta_in.get("revision", "0")) + 1),
        write_id=secrets.token_hex(8),
        saved=datetime.now(timezone.utc).isoformat(),
        behavior_soup_version=__version__,
    )
    remove_stale_temps(path)
    _write(path, enc, meta)
    remember(meta["write_id"], enc)
    remember_meta(meta)
    return int(meta["revision"]), meta["write_id"]


def replace_contents(df: pd.DataFrame, new: pd.DataFrame, info: TableInfo) -> None:
    """Make ``df`` (the user's object) hold ``new`` (in the schema's in-memory form), in place.

    pandas has no public way to replace a DataFrame's contents in place (the accessors act on
    the user's object, which must see the saved table); ``_update_inplace`` is what pandas'
    own ``inplace=True`` methods use.

    Parameters
    ----------
    df
        The DataFrame to update.
    new
        Its new contents; given a ``RangeIndex`` from 0 if it has another index.
    info
        The :class:`TableInfo` to attach to ``df``.
    """
    if not isinstance(new.index, pd.RangeIndex) or new.index.start != 0 or new.index.step != 1:
        new = new.set_axis(pd.RangeIndex(len(new)))
    with warnings.catch_warnings():  # a slice being saved is replaced on purpose
        if hasattr(pd.errors, "SettingWithCopyWarning"):  # gone with pandas' copy-on-write
            warnings.simplefilter("ignore", pd.errors.SettingWithCopyWarning)
        df._update_inplace(new)
    set_info(df, info)
