import threading

import h5py
import numpy as np
import pandas as pd
import pytest

from behavior_soup import outputs
from behavior_soup.errors import LockTimeoutError, OutputsError
from behavior_soup.locking import locked
from behavior_soup.provenance import Provenance

U = "uuid-1"


def _write(path, key="behavior/x", data=None, **kw):
    outputs.write_result(
        path,
        trial_id=7,
        uuid=U,
        key=key,
        data=data or {"a": np.arange(5)},
        provenance=Provenance("job", {"p": 1}).finish(),
        **kw,
    )


def test_roundtrip_types(tmp_path):
    p = tmp_path / "outputs.h5"
    df = pd.DataFrame({"x": [1.0, 2.0], "name": ["a", "b"]}, index=[10, 11])
    data = {
        "arr": np.arange(12, dtype=np.float32).reshape(3, 4),
        "big": np.zeros(100_000),
        "names": np.array(["still", "walk"]),
        "frame": df,
        "nested": {"k": np.int64(3)},
        "text": "hello",
    }
    _write(p, data=data, session=("m1", "s1"))
    got = outputs.read_result(p, trial_id=7, uuid=U, key="behavior/x")
    assert got["arr"].dtype == np.float32 and np.array_equal(got["arr"], data["arr"])
    assert got["names"].tolist() == ["still", "walk"]
    pd.testing.assert_frame_equal(got["frame"], df, check_dtype=False)
    assert got["nested"]["k"] == 3 and got["text"] == "hello"
    assert np.array_equal(outputs.read_result(p, trial_id=7, uuid=U, key="behavior/x/arr"), data["arr"])
    prov = outputs.read_provenance(p, trial_id=7, uuid=U, key="behavior/x")
    assert prov["job"] == "job" and prov["params"] == {"p": 1} and prov["status"] == "done"
    assert prov["versions"]["numpy"] == np.__version__ and prov["duration_s"] >= 0 and prov["started"]
    with h5py.File(p) as f:
        assert f.attrs["format"] == "behavior_soup.outputs" and f.attrs["animal_id"] == "m1"
        assert f["trial_7"].attrs["uuid"] == U
    assert outputs.list_results(p, trial_id=7, uuid=U) == ["behavior/x"]


def test_second_write_replaces(tmp_path):
    p = tmp_path / "o.h5"
    _write(p, data={"a": np.arange(5), "old": np.ones(2)})
    _write(p, data={"a": np.arange(3)})
    got = outputs.read_result(p, trial_id=7, uuid=U, key="behavior/x")
    assert sorted(got) == ["a"] and got["a"].tolist() == [0, 1, 2]


def test_failed_write_leaves_no_half_group(tmp_path):
    p = tmp_path / "o.h5"
    _write(p)

    class Boom:
        def __array__(self, *a, **k):
            raise RuntimeError("cannot convert")

    with pytest.raises(RuntimeError):
        outputs.write_results(
            p,
            trial_id=7,
            uuid=U,
            results={
                "behavior/x": ({"a": np.zeros(9)}, Provenance("j", {})),
                "behavior/y": ({"b": Boom()}, Provenance("j", {})),
            },
        )
    assert outputs.read_result(p, trial_id=7, uuid=U, key="behavior/x")["a"].tolist() == [0, 1, 2, 3, 4]
    with h5py.File(p) as f:
        assert list(f["trial_7"]) == ["behavior"] and list(f["trial_7/behavior"]) == ["x"]


def test_missing_result_and_bad_keys(tmp_path):
    p = tmp_path / "o.h5"
    with pytest.raises(OutputsError, match="nothing computed yet"):
        outputs.read_result(p, trial_id=7, uuid=U, key="a")
    _write(p)
    with pytest.raises(OutputsError, match=r"found only \['behavior/x'\]"):
        outputs.read_result(p, trial_id=7, uuid=U, key="behavior/y")
    with pytest.raises(OutputsError, match="found none"):
        outputs.read_result(p, trial_id=8, uuid=U, key="behavior/x")
    for bad in ["", "a//b", "../x", ".tmp/x"]:
        with pytest.raises(ValueError, match="expected a result key"):
            _write(p, key=bad)


def test_damaged_index_is_rebuilt_and_foreign_file_refused(tmp_path):
    p = tmp_path / "o.h5"
    _write(p)
    p.write_bytes(b"\x00garbage" * 50)  # the index only: every result lives in its trial's file
    assert outputs.read_result(p, trial_id=7, uuid=U, key="behavior/x")["a"].tolist() == [0, 1, 2, 3, 4]
    _write(p, key="behavior/y")
    with h5py.File(p) as f:  # rebuilt, and the results reachable through it
        assert f.attrs["layout"] == 2 and sorted(f["trial_7/behavior"]) == ["x", "y"]
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"\x00garbage" * 50)
    trial = outputs.trial_file(bad, 7)
    trial.parent.mkdir()
    trial.write_bytes(b"\x00garbage" * 50)
    with pytest.raises(OutputsError, match="corrupt or foreign"):
        _write(bad)
    assert trial.read_bytes() == b"\x00garbage" * 50  # a damaged trial file is never replaced blindly
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(OutputsError, match="foreign"):
        _write(foreign)
    with h5py.File(foreign) as f:
        assert list(f) == ["x"]


def test_lock_timeout(tmp_path):
    p = tmp_path / "o.h5"
    _write(p)
    held = threading.Event()
    release = threading.Event()

    def holder():
        with locked(outputs.trial_file(p, 7), what="outputs file"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    try:
        with pytest.raises(LockTimeoutError, match=r"within 0.2 s"):
            _write(p, data={"a": np.zeros(1)}, lock_timeout=0.2)
    finally:
        release.set()
        t.join()
    assert outputs.read_result(p, trial_id=7, uuid=U, key="behavior/x")["a"].tolist() == [0, 1, 2, 3, 4]


def test_delete_trials(tmp_path):
    p = tmp_path / "o.h5"
    _write(p)
    outputs.write_result(p, trial_id=8, uuid="u8", key="k", data={"a": 1}, provenance=Provenance("j", {}))
    assert outputs.delete_trials(p, [7]) == 1
    assert outputs.list_results(p, trial_id=8, uuid="u8") == ["k"]
    assert outputs.delete_trials(p, [8]) == 1
    assert not p.exists()
