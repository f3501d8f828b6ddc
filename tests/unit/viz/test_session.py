"""The cleaner's and labeller's state without drawing: keys, saving, autosave, faults."""

from __future__ import annotations

import time

import numpy as np
import pytest

from behavior_soup import outputs
from behavior_soup.accessors._common import contexts
from behavior_soup.errors import OutputsError
from behavior_soup.ethogram.jobs import LABELS_KEY
from behavior_soup.viz.session import EthogramSession


def _ctx0(df):
    return contexts(df)[0]


def test_clean_starts_from_the_prediction_and_saves_cleaned_with_provenance(trials):
    ctxs = contexts(trials)
    s = EthogramSession(ctxs, kind="clean", autosave_s=None)
    pred = np.asarray(ctxs[0].read("fast/ethogram")["array"])
    assert np.array_equal(s.editor.array, pred) and s.source == "fast cleaned"
    assert s.probabilities is not None and s.probabilities.shape == pred.shape
    s.select(5, 14)
    assert s.press("s") == "next_behavior" and s.editor.current == 2
    assert s.press("1") == "insert"
    assert not s.saves  # autosave off: nothing written until y
    assert s.press("Y", ("Shift",)) == "save" and s.saves == 1
    d = ctxs[0].read("fast/cleaned")
    assert d["array"][5:15, 2].tolist() == [1] * 10 and list(d["behaviors"]) == list(s.editor.behaviors)
    prov = ctxs[0].provenance("fast/cleaned")
    assert prov["job"] == "ethogram_clean" and prov["status"] == "done"
    assert prov["params"]["source"] == "fast/ethogram" and prov["params"]["edit_count"] == 1
    assert prov["params"]["frames_changed"] == int((d["array"] != pred).any(axis=1).sum()) > 0
    assert np.array_equal(ctxs[0].read("fast/ethogram")["array"], pred), "the prediction is never changed"
    # opened again: starts from the cleaned one, resets go to the prediction
    s2 = EthogramSession(ctxs, kind="clean", autosave_s=None)
    assert np.array_equal(s2.editor.array, d["array"]) and np.array_equal(s2.editor.original, pred)
    s2.press("r")
    assert np.array_equal(s2.editor.array, pred)


def test_readers_prefer_the_cleaned_ethogram(trials):
    row = trials.iloc[0]
    pred = row.behavior.ethogram("fast", stage="ethogram")
    assert row.behavior.ethogram("fast").attrs["key"] == "fast/ethogram"  # nothing cleaned yet
    s = EthogramSession(contexts(trials), kind="clean", autosave_s=None)
    s.select(0, 9)
    s.press("s")
    s.press("1")
    s.save()
    auto = row.behavior.ethogram("fast")
    assert auto.attrs["key"] == "fast/cleaned" and list(auto.columns) == list(pred.columns)
    assert auto.iloc[:10, s.editor.current].tolist() == [1] * 10 and not auto.equals(pred)
    assert row.behavior.ethogram("fast", stage="cleaned").equals(auto)
    assert row.behavior.ethogram("fast", stage="ethogram").equals(pred)
    with pytest.raises(ValueError, match="expected stage one of"):
        row.behavior.ethogram("fast", stage="smoothed")  # type: ignore[arg-type]


def test_autosave_waits_for_a_pause_and_saves_once(trials):
    s = EthogramSession(contexts(trials), kind="clean", autosave_s=0.3)
    for i in range(5):
        s.select(i * 3, i * 3 + 1)
        s.press("1")
    assert s.saves == 0
    deadline = time.time() + 10
    while s.saves == 0 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.4)
    assert s.saves == 1 and not s.dirty
    assert np.array_equal(_ctx0(trials).read("fast/cleaned")["array"], s.editor.array)


def test_leaving_a_trial_saves_it_and_undo_works_across_saves(trials):
    ctxs = contexts(trials)
    s = EthogramSession(ctxs, kind="clean", autosave_s=None)
    s.select(0, 9)
    s.press("1")
    first = s.editor.array.copy()
    s.press("PageDown")
    assert s.trial == 1 and s.saves == 1
    assert np.array_equal(ctxs[0].read("fast/cleaned")["array"], first)
    s.press("PageUp")
    s.press("z", ("Control",))
    s.close()
    assert np.array_equal(ctxs[0].read("fast/cleaned")["array"], ctxs[0].read("fast/ethogram")["array"])


def test_a_failed_save_keeps_the_previous_version_and_the_edits(trials, monkeypatch):
    ctx = _ctx0(trials)
    s = EthogramSession(contexts(trials), kind="clean", autosave_s=None)
    s.select(0, 4)
    s.press("1")
    s.press("y")
    saved = ctx.read("fast/cleaned")["array"].copy()
    s.select(20, 30)
    s.press("1")

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("behavior_soup.locking.os.replace", full_disk)
    s.press("y")  # the key reports the failure instead of raising into the event loop
    assert "No space left" in s.status and s.dirty
    monkeypatch.undo()
    assert np.array_equal(ctx.read("fast/cleaned")["array"], saved)
    s.flush()
    assert np.array_equal(ctx.read("fast/cleaned")["array"], s.editor.array)


def test_viewer_is_read_only_and_switches_among_the_ethograms_present(trials):
    ctxs = contexts(trials)
    s = EthogramSession(ctxs, kind="view")
    assert set(s.sources) == {"fast", "labels"}
    before = s.editor.array.copy()
    s.select(0, 5)
    assert s.press("1") == "insert" and "read-only" in s.status
    assert np.array_equal(s.editor.array, before)
    first = s.source
    s.press("m")
    assert s.source != first and s.source in {"fast", "labels"}
    assert not outputs.list_results(ctxs[0].outputs_file, trial_id=ctxs[0].trial_id, uuid=ctxs[0].uuid).count(
        "fast/cleaned"
    )


def test_labeller_starts_unlabelled_and_writes_labels(table):
    table.behavior.add_item("m1", exp_type="openfield")
    ctx = _ctx0(table)
    with pytest.raises(ValueError, match="expected behaviors= .* which has no labels yet"):
        EthogramSession([ctx], kind="label")
    s = EthogramSession([ctx], kind="label", behaviors=("none", "walk", "groom"), autosave_s=0)
    assert (s.editor.array == -1).all() and s.n_frames == 60
    s.select(10, 19)
    s.press("1")
    lab = ctx.read(LABELS_KEY)
    assert lab["array"][10:20, 1].tolist() == [1] * 10 and (lab["array"][:10] == -1).all()
    assert ctx.provenance(LABELS_KEY)["params"]["source"] == "labeller"
    again = EthogramSession([ctx], kind="label", autosave_s=0)  # from the stored labels now
    assert np.array_equal(again.editor.array, lab["array"])


def test_clean_without_a_prediction_says_what_to_run(table):
    table.behavior.add_item("m1", exp_type="openfield")
    with pytest.raises(OutputsError, match="expected a predicted ethogram .* run df.behavior.infer first"):
        EthogramSession(contexts(table), kind="clean")
