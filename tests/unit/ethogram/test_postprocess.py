import numpy as np
import pytest

from behavior_soup.ethogram import apply_thresholds, class_metrics, fit_thresholds, min_bout_length, postprocess


def test_min_bout_length_removes_short_bouts_and_fills_short_gaps():
    x = np.array([0, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 1], dtype=np.int8)[:, None]
    out = min_bout_length(x, 3)[:, 0]
    # the 1-frame bout at 1 goes; the 1-frame gap at 8 is filled; the 2-frame end bout goes
    np.testing.assert_array_equal(out, [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(min_bout_length(x, 1), x)


def test_postprocess_sets_background_where_nothing_else():
    p = np.array([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.3, 0.3, 0.3], [0.1, 0.6, 0.7]])
    e = postprocess(p, np.array([0.5, 0.5, 0.5]))
    np.testing.assert_array_equal(e, [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
    np.testing.assert_array_equal(apply_thresholds(p, [0.25, 0.5, 0.5]), [[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]])


def test_fitted_thresholds_beat_a_fixed_one():
    rng = np.random.default_rng(0)
    y = (rng.random((2000, 3)) < [0.6, 0.2, 0.1]).astype(np.int8)
    # a miscalibrated model: class 2's probabilities sit low
    p = np.clip(y * [0.7, 0.7, 0.25] + rng.normal(0, 0.05, y.shape) + [0.1, 0.1, 0.02], 0, 1)
    y[:50] = -1  # unlabelled frames are ignored
    th = fit_thresholds(p, y)
    assert th[2] < 0.3
    fixed = class_metrics(apply_thresholds(p, [0.5, 0.5, 0.5]), y, ("bg", "a", "b"))
    fitted = class_metrics(apply_thresholds(p, th), y, ("bg", "a", "b"))
    assert fitted["b"]["f1"] > 0.9 > fixed["b"]["f1"]
    assert fitted["a"]["support"] == int((y[50:, 1] == 1).sum())


def test_class_metrics_values():
    y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [-1, -1]])
    pred = np.array([[1, 0], [0, 1], [0, 1], [0, 1], [1, 1]])
    m = class_metrics(pred, y, ("bg", "a"))
    assert m["a"]["precision"] == 2 / 3 and m["a"]["recall"] == 1.0 and m["a"]["f1"] == 0.8
    assert m["bg"]["accuracy"] == 0.75 and m["bg"]["support"] == 2


def test_threshold_floor():
    """A class whose few validation positives sit near zero would get a near-zero threshold,
    marking most frames of a new trial; the floor stops that."""
    y = np.zeros((200, 2), np.int8)
    y[:, 0] = 1
    y[:4, 1], y[:4, 0] = 1, 0
    p = np.full((200, 2), 0.01)
    p[:4, 1] = 0.04  # separable, but only just above the negatives
    assert fit_thresholds(p, y, floor=0.0)[1] <= 0.04
    assert fit_thresholds(p, y)[1] >= 0.1
    with pytest.raises(ValueError, match="expected 0 <= floor < 1"):
        fit_thresholds(p, y, floor=1.0)
