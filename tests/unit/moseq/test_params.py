from __future__ import annotations

import pytest

from behavior_soup.errors import InvalidIdError
from behavior_soup.moseq import FitParams, InferParams, KappaScanParams


def test_defaults_are_keypoint_moseqs():
    p = FitParams()
    assert (p.kappa_ar, p.ar_iters, p.kappa_full, p.full_iters, p.num_states) == (1e6, 50, 1e4, 500, 100)
    assert p.seeds == (0,) and p.latent_dim is None and p.variance == 0.9
    assert InferParams().num_iters == 500


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"kappa_ar": 0}, "kappa"),
        ({"kappa_full": -1.0}, "kappa"),
        ({"kappa_full": float("nan")}, "kappa"),
        ({"latent_dim": 1}, "latent_dim"),
        ({"variance": 0}, "variance"),
        ({"seeds": (1, 1)}, "repeats"),
        ({"seeds": "0"}, "list of names"),
        ({"use_bodyparts": "snout"}, "list of names"),
        ({"anterior": ("snout",), "posterior": ("snout",)}, "differ"),
        ({"use_bodyparts": ("a", "b"), "anterior": ("a",), "posterior": ("c",)}, "among use_bodyparts"),
        ({"overwrite": 1}, "overwrite"),
        ({"ar_iters": 0}, "ar_iters"),
        ({"fps": 0}, "fps"),
    ],
)
def test_bad_fit_parameters_name_the_field(kw, match):
    with pytest.raises(ValueError, match=match):
        FitParams(**kw)


def test_names_become_hdf5_groups_so_they_are_ids():
    with pytest.raises(InvalidIdError):
        FitParams(name="a/b")
    with pytest.raises(InvalidIdError):
        InferParams(model="../x")
    assert FitParams(seeds=3).seeds == (3,)
    assert KappaScanParams(kappas=[1e3, 1e5]).kappas == (1e3, 1e5)
    with pytest.raises(ValueError, match="kappa"):
        KappaScanParams(kappas=[0.0])
