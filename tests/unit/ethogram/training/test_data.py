"""Splitting trials and sampling for training."""

from __future__ import annotations

import numpy as np
import pytest

from behavior_soup.ethogram.training.data import split_trials, stream_mask


def test_split_by_trial():
    u = [f"u{i}" for i in range(10)]
    train, val = split_trials(u, 0.2, seed=1)
    assert len(val) == 2 and sorted(train + val) == sorted(u) and not set(train) & set(val)
    assert split_trials(u, 0.2, seed=1) == (train, val)
    assert split_trials(u, 0.99)[0]  # never all trials in validation
    assert split_trials(["a", "b"], 0.01)[1] == ["a"] or split_trials(["a", "b"], 0.01)[1] == ["b"]
    assert split_trials(u, val_uuids=["u3"]) == ([x for x in u if x != "u3"], ["u3"])
    with pytest.raises(ValueError, match="at least 2 trials"):
        split_trials(["a"])
    with pytest.raises(ValueError, match="proper subset"):
        split_trials(["a", "b"], val_uuids=["a", "b"])
    with pytest.raises(ValueError, match="proper subset"):
        split_trials(["a", "b"], val_uuids=["zz"])


def teststream_mask_drops_one_stream_and_keeps_the_sum():
    m = stream_mask(10_000, 0.5, np.random.default_rng(0))
    assert set(np.unique(m.sum(axis=1))) == {2.0}
    dropped = (m == 0).any(axis=1)
    assert 0.47 < dropped.mean() < 0.53 and 0.45 < (m[dropped, 0] == 0).mean() < 0.55
    assert (stream_mask(5, 0.0, np.random.default_rng(0)) == 1).all()
