"""One spelling of keys across drawing backends, and the key registry."""

from __future__ import annotations

import pytest

from behavior_soup.viz import keys
from behavior_soup.viz.keys import ACTIONS, KEYS, action, canonical


@pytest.mark.parametrize(
    "key,mods,want",
    [
        ("1", (), "1"),
        ("Q", ("Shift",), "q"),
        ("z", ("Control",), "ctrl+z"),
        ("Z", ("Control", "Shift"), "ctrl+shift+z"),
        ("ctrl+z", (), "ctrl+z"),
        ("ctrl+Z", (), "ctrl+z"),
        ("ArrowLeft", (), "left"),
        ("left", (), "left"),
        ("ArrowUp", ("Shift",), "shift+up"),
        (" ", (), "space"),
        ("PageDown", (), "pagedown"),
        ("Control", ("Control",), "ctrl"),
        ("+", (), "+"),
    ],
)
def test_rendercanvas_and_matplotlib_spellings_meet(key, mods, want):
    assert canonical(key, mods) == want


def test_the_cleaners_keys_are_animal_soups_plus_undo_and_navigation():
    import behavior_soup.viz.session  # noqa: F401  (registers the actions)

    want = {
        "1": "insert",
        "2": "delete",
        "q": "previous_behavior",
        "s": "next_behavior",
        "r": "reset_all",
        "t": "reset_current",
        "y": "save",
        "ctrl+z": "undo",
        "ctrl+y": "redo",
        "ctrl+shift+z": "redo",
        "left": "frame_back",
        "right": "frame_forward",
        "b": "previous_bout",
        "n": "next_bout",
        "space": "play",
    }
    assert {k: KEYS[k] for k in want} == want
    assert not any(k.startswith("shift+") for k in KEYS), "selectors use shift+arrows"
    assert "1" in keys.help_table() and "insert" not in keys.help_table(editable=False)


def test_a_key_taken_or_misspelt_is_refused():
    import behavior_soup.viz.session  # noqa: F401

    with pytest.raises(ValueError, match="expected key '1' to be free, it is taken by action 'insert'"):
        action("other", ("1",), "x")(lambda s: None)
    with pytest.raises(ValueError, match="expected canonical key names, got 'ArrowLeft'"):
        action("other", ("ArrowLeft",), "x")(lambda s: None)
    assert "other" not in ACTIONS
