import numpy as np
import pytest

from behavior_soup.errors import DataFormatError
from behavior_soup.sta import compute_sta, fit_gaussian_2d, spike_frames, sta_sums


def naive_sta(stim, times, fps, onset, n_delays):
    """Reference: one spike at a time, exactly as the definition reads."""
    t_frames = stim.shape[0]
    acc = np.zeros((n_delays, *stim.shape[1:]))
    n = 0
    for t in times:
        if t < onset:
            continue
        f = int(np.floor((t - onset) * fps))
        if f >= t_frames or f < n_delays - 1:
            continue
        for d in range(n_delays):
            acc[d] += stim[f - d]
        n += 1
    return acc / n, n


@pytest.mark.parametrize("precision", ["float64", "mixed"])
@pytest.mark.parametrize("block", [None, 7, 64])
def test_matches_naive_loop_with_edge_spikes(block, precision):
    rng = np.random.default_rng(3)
    fps, onset, nd = 30.0, 0.25, 6
    stim = rng.normal(size=(500, 5, 4)).astype(np.float32)
    end = onset + 500 / fps
    edges = np.array(
        [onset - 1e-9, onset, onset + (nd - 1) / fps - 1e-9, onset + (nd - 1) / fps, end - 1e-9, end, end + 1, -3.0]
    )
    spikes = {"a": np.concatenate([rng.uniform(onset - 1, end + 1, 800), edges]), "b": rng.uniform(onset, end, 50)}
    res = compute_sta(stim, spikes, fps, onset, nd, n_shuffles=0, block_frames=block, precision=precision)
    for name, times in spikes.items():
        ref, n = naive_sta(stim.astype(np.float64), times, fps, onset, nd)
        assert res[name].n_spikes == n
        if precision == "float64":
            np.testing.assert_allclose(res[name].sta, ref, rtol=1e-10, atol=1e-12)
        else:  # float32 block products: ~1e-6 of the scale of the sums
            np.testing.assert_allclose(res[name].sta, ref, rtol=0, atol=2e-6 * np.abs(stim).max())
        assert sum(res[name].excluded.values()) + n == len(times)
    ex = res["a"].excluded
    assert ex["before_onset"] >= 2 and ex["after_end"] >= 2 and ex["incomplete_window"] >= 1


def test_mixed_precision_error_stays_small_on_long_movies():
    """Float32 partial sums span one block; blocks add up in float64, so the error does not grow
    with the movie's length."""
    rng = np.random.default_rng(4)
    stim = (rng.normal(size=(60_000, 6)) + 3.0).astype(np.float32)  # an offset makes sums large
    counts = rng.poisson(2.0, size=(1, 60_000)).astype(float)
    exact = sta_sums(stim, counts, 4, precision="float64")
    mixed = sta_sums(stim, counts, 4, precision="mixed")
    rel = np.abs(mixed - exact).max() / np.abs(exact).max()
    assert 0 < rel < 1e-6
    with pytest.raises(ValueError, match="expected precision"):
        sta_sums(stim, counts, 4, precision="half")


def test_spike_frames_boundaries():
    # fps 8, onset 0.25: frame f covers [0.25 + f/8, 0.25 + (f+1)/8)
    times = np.array([0.0, 0.25, 0.375, 0.5, 1.49, 1.5, 2.0])
    frames, ex = spike_frames(times, n_frames=10, fps=8, onset=0.25, n_delays=3)
    assert frames.tolist() == [2, 9]
    assert ex == {"before_onset": 1, "after_end": 2, "incomplete_window": 2}


def test_sta_sums_equals_per_delay_products():
    rng = np.random.default_rng(0)
    stim = rng.integers(-1, 2, size=(300, 7)).astype(np.int8)
    counts = rng.poisson(0.7, size=(3, 300)).astype(float)
    out = sta_sums(stim, counts, 5, block_frames=33)
    for d in range(5):
        np.testing.assert_allclose(out[:, d], counts[:, d:] @ stim[: 300 - d].astype(float))


def test_full_field_flicker():
    rng = np.random.default_rng(1)
    fps = 100.0
    stim = rng.normal(size=20000)
    kernel = np.array([0.0, 0.5, 1.0, 0.3, -0.4, -0.2, 0, 0])
    drive = np.convolve(stim, kernel)[: len(stim)]
    counts = rng.poisson(np.exp(-1 + drive))
    times = (np.repeat(np.arange(len(stim)), counts) + 0.5) / fps
    r = compute_sta(stim.reshape(-1, 1, 1), {"u": times}, fps, 0.0, 8, n_shuffles=10)["u"]
    assert r.sta.shape == (8, 1, 1)
    assert np.corrcoef(r.temporal_profile, kernel)[0, 1] > 0.95
    assert r.peak_delay == 2 and r.snr > 5
    assert np.isnan(r.rf["x"])


def test_zscore_null_and_peak():
    rng = np.random.default_rng(2)
    stim = rng.choice([-1.0, 1.0], size=(8000, 8, 8))
    drive = stim[:, 3, 5]
    counts = np.zeros(8000, int)
    counts[2:] = rng.poisson(np.exp(-1 + 1.2 * drive[:-2]))
    times = (np.repeat(np.arange(8000), counts) + 0.5) / 50.0
    r = compute_sta(stim, {"u": times}, 50.0, 0.0, 5, n_shuffles=20)["u"]
    assert r.peak_delay == 2 and r.peak_pixel == (3, 5)
    assert r.zscore[2, 3, 5] > 10
    assert np.abs(np.delete(r.zscore.ravel(), np.ravel_multi_index((2, 3, 5), r.zscore.shape))).max() < 6


@pytest.mark.parametrize(
    ("kw", "exc", "msg"),
    [
        ({"fps": 0}, ValueError, "fps > 0"),
        ({"fps": -5.0}, ValueError, "fps > 0"),
        ({"n_delays": 101}, ValueError, "n_delays <= 100"),
        ({"n_delays": 0}, ValueError, "1 <= n_delays"),
        ({"n_shuffles": 1}, ValueError, "n_shuffles"),
        ({"onset": 50.0}, DataFormatError, "found all 3 outside"),
        ({"spikes": {"u": np.array([])}}, DataFormatError, "empty unit"),
        ({"spikes": {"u": np.array([-1.0, 100.0, 200.0])}}, DataFormatError, "found all 3 outside"),
        ({"spikes": {}}, DataFormatError, "at least one unit"),
    ],
)
def test_errors(kw, exc, msg):
    args = {
        "stimulus": np.zeros((100, 2, 2)),
        "spikes": {"u": np.array([1.0, 2.0, 3.0])},
        "fps": 10.0,
        "onset": 0.0,
        "n_delays": 5,
        "n_shuffles": 0,
    }
    args.update(kw)
    with pytest.raises(exc, match=msg):
        compute_sta(**args)


def test_gaussian_fit_recovers_centre():
    yy, xx = np.mgrid[0:20, 0:24]
    img = -2.0 * np.exp(-(((xx - 7.3) / 2.0) ** 2 + ((yy - 12.6) / 1.5) ** 2) / 2) + np.random.default_rng(0).normal(
        0, 0.02, (20, 24)
    )
    fit = fit_gaussian_2d(img)
    assert abs(fit["x"] - 7.3) < 0.1 and abs(fit["y"] - 12.6) < 0.1
    assert fit["amplitude"] < 0 and fit["r2"] > 0.95
    assert {round(fit["sigma_x"], 0), round(fit["sigma_y"], 0)} == {2.0, 1.0} or abs(
        max(fit["sigma_x"], fit["sigma_y"]) - 2.0
    ) < 0.2


def test_integer_stimulus_fast_path_is_exact():
    rng = np.random.default_rng(5)
    stim8 = rng.choice(np.array([-1, 1], np.int8), size=(3000, 6, 6))
    times = rng.uniform(0, 100, 5000)
    a = compute_sta(stim8, {"u": times}, 30.0, 0.0, 7, n_shuffles=0, fit=False)["u"]
    b = compute_sta(stim8.astype(np.float64), {"u": times}, 30.0, 0.0, 7, n_shuffles=0, fit=False)["u"]
    np.testing.assert_array_equal(a.sta, b.sta)
    ref, _ = naive_sta(stim8.astype(np.float64), times, 30.0, 0.0, 7)
    np.testing.assert_allclose(a.sta, ref, rtol=1e-12)
    np.testing.assert_allclose(a.sta_centered, a.sta - stim8.mean(axis=0), rtol=1e-10, atol=1e-14)
