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
