"""Shared fixtures.

``sample``      session-scoped synthetic raw tree (2 animals x 1 session x 3 trials of 60
                frames, 64x64 px per view, plus an ephys recording); read-only: copy it
                (``raw_copy``) before changing or moving files.
``raw_copy``    a private copy of the sample raw tree, for tests that move or corrupt files.
``table``       an empty trial table in tmp_path whose raw root is ``raw_copy``.
``shared_data`` ``../shared/data`` beside the checkout (tests using it skip when absent).

Every test process and notebook kernel shares one JAX compilation cache for the session
(``BEHAVIOR_SOUP_JAX_CACHE``), so keypoint-moseq's functions compile once per shape, not once
per output root.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import behavior_soup as bs
from behavior_soup.sample_data import make_sample_data

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _shared_jax_cache(tmp_path_factory):
    from behavior_soup.moseq._kpms import CACHE_ENV

    if CACHE_ENV in os.environ:  # set by whoever runs the tests
        yield
        return
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp("jax_cache"))
    yield
    del os.environ[CACHE_ENV]


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample") / "raw"
    return make_sample_data(root, n_animals=2, n_sessions=1, n_trials=3, n_frames=60, ephys_frames=6000)


@pytest.fixture
def raw_copy(sample, tmp_path):
    dst = tmp_path / "raw"
    shutil.copytree(sample.root, dst)
    return dst


@pytest.fixture
def table(raw_copy, tmp_path):
    return bs.create_df(tmp_path / "exp" / "table.h5", raw_root=raw_copy)


@pytest.fixture(autouse=True)
def _no_global_root():
    bs.set_parent_raw_data_path(None)
    yield
    bs.set_parent_raw_data_path(None)


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


def edit_meta(path, **values):
    """Change entries of a table file's metadata in place (to simulate files from elsewhere,
    written by versions without the user-block checksum)."""
    import json

    import numpy as np
    import tables

    from behavior_soup.store import META_NODE

    with tables.open_file(path, "a") as f:
        meta = json.loads(bytes(f.root._f_get_child(META_NODE).read()).decode())
        meta.update({k: str(v) for k, v in values.items()})
        f.remove_node(f.root, META_NODE)
        f.create_array(f.root, META_NODE, obj=np.bytes_(json.dumps(meta).encode()))
    with open(path, "r+b") as fh:  # as an older version wrote it: no stamp (its checksum would not match)
        fh.write(b"\0" * 512)
