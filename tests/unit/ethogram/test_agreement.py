"""Agreement of two ethograms: F1 and Cohen's kappa per behavior, disagreement segments."""

from __future__ import annotations

import numpy as np
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.ethogram.agreement import agreement, cohen_kappa, disagreements

B = ("bg", "walk", "groom")


def onehot(idx):
    a = np.zeros((len(idx), 3), np.int8)
    a[np.arange(len(idx)), idx] = 1
    return a


def test_kappa_matches_its_definition_on_a_hand_counted_table():
    # 2x2 table: both yes 20, a only 5, b only 10, both no 15 -> po = 0.7, pe = 0.5*0.6 + 0.5*0.4 = 0.5
    a = np.array([1] * 20 + [1] * 5 + [0] * 10 + [0] * 15, bool)
    b = np.array([1] * 20 + [0] * 5 + [1] * 10 + [0] * 15, bool)
    assert cohen_kappa(a, b) == pytest.approx((0.7 - 0.5) / 0.5)
    assert cohen_kappa(a, a) == 1.0 and cohen_kappa(a, ~a) == pytest.approx(-1.0)
    assert cohen_kappa(np.zeros(4, bool), np.zeros(4, bool)) == 1.0
    assert np.isnan(cohen_kappa(np.zeros(0), np.zeros(0)))


def test_agreement_per_behavior_on_labelled_frames_only():
    a = onehot([0, 1, 1, 1, 2, 2, 0, 0])
    b = onehot([0, 1, 1, 0, 2, 1, 0, 0])
    b[7] = -1  # unlabelled: left out
    t = agreement(a, b, B).set_index("behavior")
    assert t["frames"].tolist() == [7, 7, 7]
    assert t.loc["walk", ["frames_a", "frames_b", "disagree"]].tolist() == [3, 3, 2]
    assert t.loc["walk", "f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert t.loc["groom", "f1"] == pytest.approx(2 / 3)
    assert t.loc["bg", "kappa"] == pytest.approx(cohen_kappa(a[:7, 0], b[:7, 0]))


def test_disagreements_are_inclusive_runs_in_frame_order():
    a = onehot([0, 1, 1, 1, 0, 2])
    b = onehot([0, 1, 0, 0, 0, 1])
    d = disagreements(a, b, B)
    assert d[["behavior", "start", "stop", "n_frames"]].values.tolist() == [
        ["bg", 2, 3, 2],
        ["walk", 2, 3, 2],
        ["groom", 5, 5, 1],
        ["walk", 5, 5, 1],
    ]
    assert d["in_a"].tolist() == [0, 1, 1, 0] and d["in_b"].tolist() == [1, 0, 0, 1]
    assert disagreements(a, a, B).empty


def test_shapes_that_do_not_match_are_refused():
    with pytest.raises(DataFormatError, match=r"expected two ethograms of one shape \(T, 3\)"):
        agreement(onehot([0, 1]), onehot([0, 1, 2]), B)
