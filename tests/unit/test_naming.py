import numpy as np
import pytest

from behavior_soup.naming import NamingRule


def test_trial_number_is_exact():
    rule = NamingRule()
    assert rule.match("front_v8.mp4") == ("front", 8)
    assert rule.match("front_v008.mp4") == ("front", 8)
    assert rule.match("front_v018.mp4") == ("front", 18)
    assert rule.match("front_v080.avi") == ("front", 80)
    assert rule.match("side_v0008.MP4") == ("side", 8)
    assert rule.match("front_v8.txt") is None
    assert rule.match("front_v8x.mp4") is None
    assert rule.match("top_v8.mp4") is None
    assert rule.match("xfront_v8.mp4") is None


def test_fixed_width():
    rule = NamingRule(template="{view}_{trial:03d}{ext}")
    assert rule.match("front_008.avi") == ("front", 8)
    assert rule.match("front_8.avi") is None
    assert rule.match("front_0008.avi") is None


def test_subfolders_and_tokens():
    rule = NamingRule(template="trial_{trial}/{view}{ext}", views={"cam0": "front", "cam1": "side"})
    assert rule.depth() == 1
    assert rule.match("trial_12/cam1.mp4") == ("side", 12)
    assert rule.match("trial_12/cam2.mp4") is None
    assert NamingRule.from_dict(rule.to_dict()) == rule


@pytest.mark.parametrize(
    "kwargs",
    [
        {"template": "{view}.mp4"},
        {"template": "{trial}.mp4"},
        {"template": "{view}_{view}_{trial}.mp4"},
        {"views": {"c0": "top"}},
        {"extensions": ("mp4",)},
    ],
)
def test_invalid_rules(kwargs):
    with pytest.raises(ValueError, match="expected"):
        NamingRule(**kwargs)


@pytest.mark.parametrize(
    "rule",
    [
        NamingRule(),
        NamingRule(template="{view}_{trial:03d}{ext}"),
        NamingRule(template="trial_{trial}/{view}.mp4", views={"cam0": "front", "cam1": "side"}),
    ],
)
def test_match_all_equals_match_on_each_path(rule):
    names = [
        "front_v8.mp4", "side_v0008.MP4", "front_v018.avi", "front_008.avi", "front_8.avi", "top_v8.mp4",
        "front_v8.txt", "xfront_v8.mp4", "trial_12/cam1.mp4", "trial_12/CAM0.mp4", "trial_3/cam0.MP4",
        "trial_3/cam0.avi", "notes.txt", "",
    ]  # fmt: skip
    expected = [(n, *m) for n in names if (m := rule.match(n)) is not None]
    assert expected, "the names must exercise the rule"
    for listing in (names, [*names, "front_v9\n.mp4"]):  # a newline in a name takes the path-by-path way
        paths, views, trials = rule.match_all(listing)
        assert trials.dtype == np.int64
        assert list(zip(paths.tolist(), views.tolist(), trials.tolist())) == expected
    paths, views, trials = rule.match_all([])
    assert len(paths) == len(views) == len(trials) == 0
