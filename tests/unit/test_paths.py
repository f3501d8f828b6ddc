import pytest

from behavior_soup import paths
from behavior_soup.errors import DataRootError


@pytest.mark.parametrize("bad", ["/abs/x.mp4", "a/../../x", "..", "a\\b.mp4", "C:/data/x.mp4", ""])
def test_validate_relative_rejects(bad):
    with pytest.raises(ValueError, match="expected"):
        paths.validate_relative(bad)


def test_relative_and_resolve(tmp_path):
    (tmp_path / "m1" / "s").mkdir(parents=True)
    f = tmp_path / "m1" / "s" / "v.mp4"
    f.write_bytes(b"")
    rel = paths.to_relative_posix(f, tmp_path)
    assert rel == "m1/s/v.mp4"
    assert paths.resolve(tmp_path, rel) == f
    with pytest.raises(DataRootError, match="inside the root"):
        paths.to_relative_posix("/elsewhere/v.mp4", tmp_path)


def test_check_root(tmp_path):
    with pytest.raises(DataRootError, match="does not exist"):
        paths.check_root(tmp_path / "nope", "raw-data root")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(DataRootError, match="expected the raw-data root to be a directory"):
        paths.check_root(f, "raw-data root")


def test_parent_raw_data_path(tmp_path):
    assert paths.set_parent_raw_data_path(tmp_path) == tmp_path
    assert paths.get_parent_raw_data_path() == tmp_path
    paths.set_parent_raw_data_path(None)
    assert paths.get_parent_raw_data_path() is None
