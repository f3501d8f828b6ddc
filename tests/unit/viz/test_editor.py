"""The ethogram under edit: what each key's edit does to the array, undo/redo, navigation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behavior_soup.errors import DataFormatError
from behavior_soup.viz.editor import EthogramEditor

B = ("background", "walk", "groom", "rear")


def onehot(idx):
    a = np.zeros((len(idx), len(B)), np.int8)
    a[np.arange(len(idx)), idx] = 1
    return a


def test_insert_covers_both_ends_of_the_selection_and_keeps_background_consistent():
    e = EthogramEditor(onehot([0] * 10), B)
    e.select(7, 3)  # either order
    assert e.selection == (3, 7)
    assert e.insert() and e.edit_count == 1
    assert e.array[:, 1].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 0, 0]
    assert e.array[:, 0].tolist() == [1, 1, 1, 0, 0, 0, 0, 0, 1, 1]
    e.next_behavior()
    e.select(7, 8)
    e.insert()  # groom over walk on frame 7: multi-label, background still off
    assert e.array[7].tolist() == [0, 1, 1, 0] and e.array[8].tolist() == [0, 0, 1, 0]
    e.previous_behavior()
    e.select(0, 9)
    e.delete()  # walk off everywhere: background back where nothing else is
    assert e.array[:, 1].sum() == 0
    assert e.array[:, 0].tolist() == [1] * 7 + [0, 0] + [1]


def test_undo_and_redo_step_through_every_edit_and_a_new_edit_clears_redo():
    start = onehot([0, 1, 1, 2, 0, 0])
    e = EthogramEditor(start, B)
    states = [e.array.copy()]
    for lo, hi, op in [(0, 1, "insert"), (2, 5, "delete"), (4, 4, "insert")]:
        e.select(lo, hi)
        getattr(e, op)()
        states.append(e.array.copy())
    for s in reversed(states[:-1]):
        assert e.undo() and np.array_equal(e.array, s)
    assert not e.undo()
    assert e.redo() and np.array_equal(e.array, states[1])
    e.select(5, 5)
    e.insert()
    assert not e.can_redo and not e.redo()


def test_an_edit_that_changes_nothing_is_not_an_edit():
    e = EthogramEditor(onehot([1, 1, 0]), B)
    e.select(0, 1)
    assert not e.insert()
    assert e.edit_count == 0 and not e.can_undo


def test_reset_all_and_reset_current_go_back_to_the_model_output():
    pred = onehot([0, 1, 1, 0, 2, 2])
    e = EthogramEditor(pred, B)
    e.select(0, 5)
    e.insert()  # walk everywhere
    e.next_behavior()
    e.delete()  # groom nowhere
    e.current = 2
    assert e.reset_current()
    assert e.array[:, 2].tolist() == pred[:, 2].tolist() and e.array[:, 1].tolist() == [1] * 6
    assert e.reset_all() and np.array_equal(e.array, pred)
    assert e.undo() and e.array[:, 1].tolist() == [1] * 6


def test_labelling_from_nothing_labels_only_the_frames_touched():
    e = EthogramEditor(np.full((6, 4), -1, np.int8), B)
    e.current = 3
    e.select(2, 3)
    e.insert()
    assert (e.array[[0, 1, 4, 5]] == -1).all()
    assert e.array[2].tolist() == [0, 0, 0, 1] and e.array[3].tolist() == [0, 0, 0, 1]
    e.select(4, 4)
    e.delete()  # labelled as "not rear": background
    assert e.array[4].tolist() == [1, 0, 0, 0]


def test_bouts_and_jumping_between_them():
    e = EthogramEditor(onehot([0, 1, 1, 0, 1, 0, 0, 1]), B)
    assert e.bouts().tolist() == [[1, 2], [4, 4], [7, 7]]
    assert e.next_bout(0) == 1 and e.next_bout(1) == 4 and e.next_bout(7) is None
    assert e.previous_bout(7) == 4 and e.previous_bout(1) is None


def test_behaviors_cycle_over_the_non_background_ones():
    e = EthogramEditor(onehot([0]), B)
    assert [e.next_behavior() for _ in range(4)] == ["groom", "rear", "walk", "groom"]
    assert [e.previous_behavior() for _ in range(3)] == ["walk", "rear", "groom"]


def test_bad_input_is_refused_with_what_was_expected():
    with pytest.raises(DataFormatError, match=r"expected an ethogram of shape \(T>0, 4\)"):
        EthogramEditor(np.zeros((5, 3)), B)
    with pytest.raises(DataFormatError, match="expected ethogram values 1, 0 or -1, found \\[2\\]"):
        EthogramEditor(np.full((2, 4), 2), B)
    e = EthogramEditor(onehot([0, 0]), B)
    with pytest.raises(ValueError, match="expected a selected frame range"):
        e.insert()
    with pytest.raises(ValueError, match="overlapping frames 0..1"):
        e.select(5, 9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=3, max_size=40),
    st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39), st.sampled_from("idqsrt")), max_size=25),
)
def test_any_edits_undone_give_back_the_start_and_keep_background_exact(idx, ops):
    start = onehot(idx)
    e = EthogramEditor(start, B)
    for a, b, op in ops:
        e.select(min(a, len(idx) - 1), min(b, len(idx) - 1))
        {"i": e.insert, "d": e.delete, "q": e.previous_behavior, "s": e.next_behavior}.get(
            op, e.reset_all if op == "r" else e.reset_current
        )()
        assert (e.array[:, 0] == (e.array[:, 1:] != 1).all(axis=1)).all()
    while e.undo():
        pass
    assert np.array_equal(e.array, start)
