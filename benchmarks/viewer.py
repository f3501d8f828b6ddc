"""How long the ethogram cleaner takes to show the next frame, per drawing backend, measured in
one run.

One trial of ``--frames`` frames with front and side videos of ``--size`` x ``--size`` pixels,
its labels and a predicted ``fast`` ethogram. For each backend (fastplotlib offscreen on the
Vulkan adapter it finds, matplotlib on Agg) the cleaner window is opened at its default size
(``behavior_soup.viz.style.DEFAULT_SIZE``, 800 x 500) or ``--canvas WxH``, and, after a warm-up,
timed per frame from the cursor move to the finished canvas (``session.set_frame(i)`` then
``window.render()``, which returns the RGBA pixels):

- play: frames in order, as playback and the arrow keys move;
- seek: frames in a random order, as dragging the slider moves (each a fresh decode unless the
  frame cache holds it);
- edit: an insert over a 30-frame region, which repaints every behavior track.

As an anchor, the same canvas holding one fastplotlib image and nothing else, updated and drawn
the same way: the floor the adapter sets for any window of that size (on a software adapter it
is most of the time).

Target: fastplotlib play median <= 33 ms (30 frames/s playback). The ratios matplotlib /
fastplotlib and fastplotlib / floor of the play medians are printed from the same run.

    python benchmarks/viewer.py [--frames 600] [--size 224] [--repeats 120] [--rounds 6] [--canvas 900x560]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RENDERCANVAS_FORCE_OFFSCREEN", "1")  # a script, never a kernel
if not os.environ.get("XDG_RUNTIME_DIR"):  # the Vulkan loader complains on every call without one
    os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="xdg-")

import numpy as np

import behavior_soup as bs
from behavior_soup.ethogram.jobs import LABELS_KEY
from behavior_soup.provenance import Provenance
from behavior_soup.sample_data import make_sample_data
from behavior_soup.viz.backends import BACKENDS, open_window
from behavior_soup.viz.session import EthogramSession
from behavior_soup.viz.style import DEFAULT_SIZE


def setup(tmp: Path, frames: int, size: int) -> list:
    sd = make_sample_data(tmp / "raw", n_animals=1, n_trials=1, n_frames=frames, size=(size, size), ephys=False)
    df = bs.create_df(tmp / "exp" / "t.h5", raw_root=sd.root)
    df.behavior.add_item("m1")
    df.behavior.load_labels(progress=False)
    ctx = df.iloc[0].behavior.context()
    lab = ctx.read(LABELS_KEY)
    pred = np.asarray(lab["array"]).copy()
    pred[::7] = np.roll(pred[::7], 1, axis=1)
    ctx.write("fast/ethogram", {"array": pred, "behaviors": list(lab["behaviors"])}, Provenance("bench", {}).finish())
    return [ctx]


def ms(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1e3


class Floor:
    """A canvas of the same size with one image and nothing else, updated and drawn like the
    window: what the adapter costs for any window of that size."""

    def __init__(self, canvas: tuple[int, int], frames: np.ndarray) -> None:
        import fastplotlib as fpl

        self.frames = frames
        self.fig = fpl.Figure(size=canvas)
        self.img = self.fig[0, 0].add_image(frames[0])
        self.fig.show()
        self.fig.canvas.draw()

    def step(self, k: int) -> None:
        self.img.data[:] = self.frames[k % len(self.frames)]
        self.fig.canvas.draw()


def measure(
    name: str,
    ctxs: list,
    repeats: int,
    rounds: int,
    rng: np.random.Generator,
    canvas: tuple[int, int],
    floor: Floor | None,
) -> dict[str, float]:
    """The window's figures; with ``floor``, its play frames alternate with the floor's in
    ``rounds`` rounds, so that both see the same machine (its speed drifts within minutes)."""
    session = EthogramSession(ctxs, kind="clean", mode="fast", autosave_s=None)
    win = open_window("ethogram", session, backend=name, size=canvas)
    n = session.n_frames
    shape = win.render().shape  # first draw: fits cameras, compiles shaders

    def step(i: int) -> None:
        session.set_frame(i)
        win.render()

    for i in range(1, 11):  # warm-up
        step(i)
        if floor is not None:
            floor.step(i)
    play, base, ratios = [], [], []
    per = max(repeats // rounds, 1)
    for r in range(rounds):
        p = [ms(step, 11 + (r * per + k) % (n - 11)) for k in range(per)]
        play += p
        if floor is not None:
            b = [ms(floor.step, r * per + k) for k in range(per)]
            base += b
            ratios.append(statistics.median(p) / statistics.median(b))
    seek = [ms(step, int(i)) for i in rng.permutation(n)[:repeats]]
    edit = []
    for k in range(min(repeats, 20)):
        lo = int(rng.integers(0, n - 31))
        session.select(lo, lo + 29)

        def insert() -> None:
            win.press("1")
            win.render()

        edit.append(ms(insert))
        if k % 2:
            session.press("ctrl+z")
    win.close()
    out = {
        "canvas": f"{shape[1]}x{shape[0]}",
        "play": statistics.median(play),
        "play_p95": float(np.percentile(play, 95)),
        "seek": statistics.median(seek),
        "edit": statistics.median(edit),
    }
    if floor is not None:
        out["floor"] = statistics.median(base)
        out["ratio_floor"] = statistics.median(ratios)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=120)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--canvas", default="x".join(map(str, DEFAULT_SIZE)), help="window size WxH in pixels")
    args = ap.parse_args()
    canvas = tuple(int(v) for v in args.canvas.lower().split("x"))
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        ctxs = setup(Path(tmp), args.frames, args.size)
        print(
            f"one trial, {args.frames} frames, front+side {args.size}x{args.size}, "
            f"{args.repeats} frames per figure (play: {args.rounds} rounds alternating with the floor)"
        )
        print(f"{'backend':<12} {'canvas':>8} {'play ms':>8} {'p95 ms':>7} {'seek ms':>8} {'edit ms':>8}")
        res = {}
        for name, backend in BACKENDS.items():
            why = backend.check()
            if why is not None:
                print(f"{name:<12} skipped: {why}")
                continue
            floor = None
            if name == "fastplotlib":
                floor = Floor(canvas, rng.integers(0, 256, (30, args.size, args.size, 3), dtype=np.uint8))
            r = res[name] = measure(name, ctxs, args.repeats, args.rounds, rng, canvas, floor)
            print(
                f"{name:<12} {r['canvas']:>8} {r['play']:8.1f} {r['play_p95']:7.1f} {r['seek']:8.1f} {r['edit']:8.1f}"
            )
            if floor is not None:
                print(f"{'floor':<12} {args.canvas:>8} {r['floor']:8.1f}   (one image, nothing else)")
    if "fastplotlib" in res:
        fp = res["fastplotlib"]
        print(
            f"fastplotlib play {fp['play']:.1f} ms per frame (target <= 33): {'met' if fp['play'] <= 33 else 'NOT met'}"
        )
        print(f"ratio fastplotlib/floor (play, median of rounds) {fp['ratio_floor']:.2f}")
        if "matplotlib" in res:
            print(f"ratio matplotlib/fastplotlib (play) {res['matplotlib']['play'] / fp['play']:.2f}")
    if not res:
        sys.exit("no backend can draw here")


if __name__ == "__main__":
    main()
