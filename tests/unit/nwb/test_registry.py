"""The NWB section registry: order, claims, what is skipped and what is said missing."""

from __future__ import annotations

import pytest

from behavior_soup.nwb import NWB_SECTIONS, TrialReport, register_nwb_section
from behavior_soup.nwb.registry import classify_keys, sections


class _Ctx:
    label = "m1/s1/trial 1"
    videos = {"front": "m1/s1/front_v001.mp4"}
    model_params: dict = {}


@pytest.fixture
def extra_section():
    calls = []

    @register_nwb_section("test_extra", claims=lambda k: k.startswith("extra/"), missing="no extra", order=5)
    def write(target, keys):
        calls.append(keys)

    yield calls
    del NWB_SECTIONS["test_extra"]


def test_sections_written_in_order_linked_ones_after_their_targets():
    names = [s.name for s in sections()]
    assert names[0] == "video"
    assert names.index("pose") < names.index("moseq")
    assert names.index("video") < names.index("ethogram")


def test_keys_go_to_their_section_and_the_rest_is_reported(extra_section):
    report = TrialReport("m1/s1/trial 1")
    by = classify_keys(_Ctx(), ["extra/a", "fast/features", "fast/ethogram", "odd/thing"], report)
    assert by["test_extra"] == ["extra/a"] and by["ethogram"] == ["fast/ethogram"]
    assert list(by)[:2] == ["video", "test_extra"]  # order 5 sorts between videos and pose
    assert "intermediate" in report.skipped["fast/features"]
    assert "no NWB mapping" in report.skipped["odd/thing"]
    said = " ".join(report.missing)
    assert "keypoints" in said and "syllables" in said and "no extra" not in said
    assert "spike" not in said  # the STA section applies to recordings only
