"""``behavior-soup demo``: sample data through every accessor, ending with one summary table.

Each stage runs one accessor on the synthetic sample data, whose true behaviors, keypoints and
receptive fields are known, and reports what ran, a figure that says whether it worked
(held-out F1, DLC error, STA correlation, syllable NMI), its time and where its results are.
DeepLabCut's and keypoint-moseq's own console output goes to ``<out>/demo.log``.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DemoSettings", "Stage", "run_demo", "summary_table"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSettings:
    """How much training the demo does.

    Attributes
    ----------
    dlc_epochs
        DeepLabCut epochs (0: no DLC training).
    ethogram_epochs
        Feature-extractor epochs of fast mode (the flow generator gets a third; 0: no ethogram).
    ethogram_steps
        Feature-extractor batches per epoch (None: every labelled frame once).
    ethogram_networks
        ``"lite"`` (the default here, for time) or ``"deepethogram"`` (the networks of record,
        which ``--full`` trains).
    moseq_iters
        AR-HMM and full-model iterations of keypoint-MoSeq (0: no MoSeq).
    moseq_infer_iters
        Gibbs iterations of syllable inference per trial.
    progress
        Show progress bars.
    """

    dlc_epochs: int = 5
    ethogram_epochs: int = 6
    ethogram_steps: int | None = 20
    ethogram_networks: str = "lite"
    moseq_iters: int = 30
    moseq_infer_iters: int = 20
    progress: bool = True


#: ``--full``: the longer training, with DeepEthogram's networks.
FULL = DemoSettings(
    dlc_epochs=30,
    ethogram_epochs=20,
    ethogram_steps=None,
    ethogram_networks="deepethogram",
    moseq_iters=100,
    moseq_infer_iters=50,
)


@dataclass
class Stage:
    """One line of the summary table."""

    accessor: str
    ran: str
    figures: str
    seconds: float
    results: str


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


class _Demo:
    def __init__(self, out: Path, settings: DemoSettings) -> None:
        import behavior_soup as bs
        from behavior_soup.sample_data import make_sample_data

        self.s = settings
        self.raw = out / "raw"
        self.table = out / "tables" / "behavior.h5"
        self.out = out
        self.sd = make_sample_data(self.raw, n_animals=3)
        self.df = bs.create_df(self.table, raw_root=self.raw)
        self.stages: list[Stage] = []

    @property
    def rows(self) -> pd.DataFrame:
        return self.df[self.df["exp_type"] == "table"]

    def outputs(self) -> str:
        return str(Path(self.df.paths.output_root))

    def stage(self, accessor: str, func: Callable[[], tuple[str, str, str] | None]) -> None:
        """Run one stage: ``func`` returns what ran, its figures and where its results are, or
        None when it did not run (its extra is not installed, or its training is 0)."""
        t0 = time.perf_counter()
        got = func()
        if got is not None:
            ran, figures, where = got
            seconds = time.perf_counter() - t0
            self.stages.append(Stage(accessor, ran, figures, seconds, where))
            print(f"{accessor}: {ran}; {figures} ({seconds:.0f} s)")

    # -- stages --------------------------------------------------------------------------
    def trials(self) -> tuple[str, str, str]:
        for animal in self.sd.animals:
            self.df.behavior.add_item(animal_id=animal, exp_type="table")
        e = self.sd.ephys
        self.df.sta.add_recording(e["animal_id"], e["session_id"], e["trial_id"], stimulus=e["stimulus"],
                                  spikes=e["spikes"], fps=e["fps"], stimulus_onset=e["stimulus_onset"])  # fmt: skip
        runs = self.df.behavior.run_job("video_stats", rows=self.rows, progress=self.s.progress)
        stats = self.rows.iloc[0].outputs.read("behavior/video_stats")
        done = int((runs["status"] == "done").sum())
        return (
            f"{len(self.df)} trials added, video_stats on {done}/{len(runs)}",
            f"{int(stats['n_frames'])} frames per trial",
            str(self.table),
        )

    def sta(self) -> tuple[str, str, str]:
        e = self.sd.ephys
        self.df.sta.compute(n_delays=e["n_delays"], progress=self.s.progress)
        kernels = np.load(self.raw / "r1" / "s1" / "truth" / "kernels.npz")
        rec = self.df[self.df["exp_type"] == "ephys"].iloc[0]
        summary = self.df.sta.summary()
        corr = [np.corrcoef(rec.sta.result(u, "centered").ravel(), kernels[u].ravel())[0, 1] for u in summary["unit"]]
        return (
            f"STAs of {len(summary)} units",
            f"correlation with the true kernels {min(corr):.2f}-{max(corr):.2f}",
            self.outputs(),
        )

    def pose(self) -> tuple[str, str, str]:
        from behavior_soup.sample_data import DLC_SCORER

        for _, row in self.rows.iterrows():
            sess = self.raw / row["animal_id"] / row["session_id"]
            row.pose.load(sess / "pose" / f"front_v{int(row['trial_id']):03d}{DLC_SCORER}.h5", name="dlc_import")
        runs = self.df.pose.track(source="dlc_import", px_per_cm=10.0, progress=self.s.progress)
        speed = np.median([r.pose.tracking("head_from_ears")["speed"].median() for _, r in self.rows.iterrows()])
        return (
            f"DLC files imported, head tracked on {(runs['status'] == 'done').sum()}/{len(runs)} trials",
            f"median speed {speed:.2f} cm/s",
            self.outputs(),
        )

    def dlc(self) -> tuple[str, str, str] | None:
        if self.s.dlc_epochs <= 0 or not _has("deeplabcut"):
            return None
        from behavior_soup.pose.dlc import make_dlc_project
        from behavior_soup.sample_data import BODYPARTS

        sd = self.sd
        animal, session = sd.animals[0], sd.sessions[0]
        train, held = sd.trials[:-1], sd.trials[-1]
        sess = self.raw / animal / session
        labels = {}
        for t in train:
            truth = sd.truth(animal, session, t)
            labels[str(sess / f"front_v{t:03d}.mp4")] = (np.arange(0, len(truth["labels"]), 2), truth["keypoints"][::2])
        cfg = make_dlc_project(self.table.parent / "dlc", "demo", "bs", labels, BODYPARTS)
        model = self.df.pose.register_model(cfg)
        ev = self.df.pose.train(model.name, epochs=self.s.dlc_epochs, batch_size=16, device="auto")
        row = self.df[(self.df["animal_id"] == animal) & (self.df["trial_id"] == held)].iloc[0]
        r = row.pose.infer(model.name, views=["front"])
        if r["status"] != "done":
            raise RuntimeError(f"DeepLabCut inference on the held-out trial failed: {r['error']}")
        err = np.linalg.norm(
            row.pose.result(model.name).positions - sd.truth(animal, session, held)["keypoints"], axis=2
        )
        return (
            f"DeepLabCut {ev['net_type']} trained {self.s.dlc_epochs} epochs from random weights",
            f"test RMSE {ev['test_rmse_px']:.1f} px; held-out trial median error {np.median(err):.1f} px",
            str(Path(cfg).parent),
        )

    def ethogram(self) -> tuple[str, str, str] | None:
        if self.s.ethogram_epochs <= 0 or not _has("torch"):
            return None
        from behavior_soup.ethogram import class_metrics
        from behavior_soup.sample_data import BEHAVIORS

        rows = self.rows
        self.df.behavior.load_labels(rows=rows, progress=self.s.progress)
        held, train = rows.iloc[-1], rows.iloc[:-1]
        common = {"mode": "fast", "rows": train, "device": "auto", "progress": self.s.progress}
        epochs = self.s.ethogram_epochs
        # lite networks by default: DeepEthogram's take about 3x longer to train on a 2-core CPU
        self.df.flow_generator.train(model_out="models/flow", epochs=max(1, epochs // 3), input_size=(32, 64),
                                     networks=self.s.ethogram_networks, **common)  # fmt: skip
        top_view = {"front": {"rotate": 180, "flip_ud": 0.5}}  # a top view: any heading, either mirror image
        self.df.feature_extractor.train(model_out="models/feature_extractor", epochs=epochs, augment=top_view,
                                        steps_per_epoch=self.s.ethogram_steps, **common)  # fmt: skip
        self.df.sequence.train(model_out="models/sequence", epochs=30, **common)
        runs = self.df.behavior.infer(mode="fast", rows=rows, progress=self.s.progress)
        truth = self.sd.truth(held["animal_id"], held["session_id"], int(held["trial_id"]))["labels"]
        pred = held.behavior.ethogram("fast").to_numpy()
        f1 = class_metrics(pred, np.eye(len(BEHAVIORS), dtype=np.int8)[truth], BEHAVIORS)
        return (
            f"fast mode ({self.s.ethogram_networks} networks) trained on {len(train)} trials ({epochs} epochs), "
            "ethograms for "
            f"{(runs['status'] == 'done').sum()}/{len(runs)}",
            f"held-out F1 {np.mean([m['f1'] for m in f1.values()]):.2f} (" + ", ".join(f"{b} {m['f1']:.2f}" for b, m in f1.items()) + ")",
            str(self.table.parent / "models"),
        )  # fmt: skip

    def moseq(self) -> tuple[str, str, str] | None:
        if self.s.moseq_iters <= 0 or not _has("keypoint_moseq"):
            return None
        from sklearn.metrics import normalized_mutual_info_score

        rows, it = self.rows, self.s.moseq_iters
        fit = self.df.moseq.fit(name="demo", pose_model="dlc_import", kappa_ar=1e4, ar_iters=it, kappa_full=1e3,
                                full_iters=it, rows=rows, progress=self.s.progress)  # fmt: skip
        runs = self.df.moseq.infer(
            model="demo", num_iters=self.s.moseq_infer_iters, rows=rows, progress=self.s.progress
        )
        truth, found = [], []
        for _, row in rows.iterrows():
            found.append(row.moseq.result("demo")["syllable"].to_numpy())
            truth.append(self.sd.truth(row["animal_id"], row["session_id"], int(row["trial_id"]))["labels"])
        nmi = normalized_mutual_info_score(np.concatenate(truth), np.concatenate(found))
        return (
            f"keypoint-MoSeq fitted ({it} + {it} iterations, latent dim {fit['latent_dim']}), syllables for "
            f"{(runs['status'] == 'done').sum()}/{len(runs)}",
            f"{fit['n_syllables']} syllables, median {fit['median_duration_ms']:.0f} ms; NMI with the true behaviors {nmi:.2f}",
            str(Path(self.df.paths.output_root) / "moseq" / "demo"),
        )  # fmt: skip

    def analysis(self) -> tuple[str, str, str]:
        has_e = any(s.accessor == "ethogram" for s in self.stages)
        has_m = any(s.accessor == "moseq" for s in self.stages)
        f = self.df.analysis.frames(ethogram="predicted" if has_e else "none", moseq="demo" if has_m else None,
                                    rows=self.rows, progress=False)  # fmt: skip
        s = self.df.analysis.summary(frames=f)
        figure = f"distance {s['distance_cm'].min():.0f}-{s['distance_cm'].max():.0f} cm per trial"
        if has_e and has_m:
            figure += f"; behaviors vs syllables NMI {self.df.analysis.crosstab('behavior', 'syllable', frames=f).attrs['nmi']:.2f}"
        return (
            f"{len(f)} frames of {f['uuid'].nunique()} trials side by side",
            figure,
            "(in memory: df.analysis.frames)",
        )

    def nwb(self) -> tuple[str, str, str] | None:
        if not (_has("pynwb") and _has("ndx_pose") and _has("ndx_ethogram")):
            return None
        from behavior_soup.nwb import inspect_nwb

        folder = self.out / "nwb"
        # the sample animal's metadata, as a lab would give it for its own
        meta = {
            "subject": {"species": "Mus musculus", "sex": "U", "age": "P90D"},
            "session": {"session_start_time": "2024-01-05T09:00:00+00:00", "experimenter": ["behavior_soup demo"]},
            "spike_resolution": 1 / 30000,
        }
        files = self.df.behavior.to_nwb(folder, per="session", progress=False, **meta)
        issues = sum(len(inspect_nwb(p)) for p in files["path"]) if _has("nwbinspector") else None
        said = "nwbinspector not installed" if issues is None else f"nwbinspector: {issues} violations"
        return f"{len(files)} session files ({int(files['trials'].sum())} trials)", said, str(folder)


def summary_table(stages: list[Stage]) -> str:
    """The stages as a Markdown table: accessor, what ran, figures, seconds, results.

    Parameters
    ----------
    stages
        The stages that ran.

    Returns
    -------
    str
        A header, a rule and one row per stage, columns padded to their widest cell.
    """
    head = ("accessor", "ran", "figures", "seconds", "results")
    rows = [(s.accessor, s.ran, s.figures, f"{s.seconds:.0f}", s.results) for s in stages]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def run_demo(out: str | Path, settings: DemoSettings | None = None) -> list[Stage]:
    """Run the demo into the empty folder ``out``; print each stage and the summary table.

    Parameters
    ----------
    out
        The demo's folder (``raw/``, ``tables/``, ``nwb/``, ``demo.log``); must hold no earlier demo.
    settings
        The training budget; default :class:`DemoSettings` (3 to 5 minutes on a 2-core CPU).

    Returns
    -------
    list of Stage
        One per stage that ran.

    Raises
    ------
    SystemExit
        ``out`` holds an earlier demo.
    """
    out = Path(out).absolute()  # row.pose.load takes relative paths as relative to the raw root
    if (out / "raw").exists() or (out / "tables").exists():
        raise SystemExit(f"expected an empty --out folder, found earlier demo files in {out}; pass another --out")
    out.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out / "demo.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    lib = logging.getLogger("behavior_soup")
    old_level = lib.level
    lib.addHandler(handler)
    lib.setLevel(logging.DEBUG)
    console = [h for h in logging.getLogger().handlers if h.level == logging.NOTSET]
    for h in console:  # the console keeps its warnings; the debug chatter goes to the file only
        h.setLevel(logging.WARNING)
    t0 = time.perf_counter()
    try:
        d = _Demo(out, settings or DemoSettings())
        print(f"sample data: {len(d.sd.animals)} animals x {len(d.sd.trials)} trials and one recording, in {d.raw}")
        steps: list[tuple[str, Callable[[], Any]]] = [
            ("behavior", d.trials), ("sta", d.sta), ("pose", d.pose), ("pose (DLC)", d.dlc),
            ("ethogram", d.ethogram), ("moseq", d.moseq), ("analysis", d.analysis), ("nwb", d.nwb),
        ]  # fmt: skip
        for name, func in steps:
            d.stage(name, func)
    finally:
        lib.removeHandler(handler)
        handler.close()
        lib.setLevel(old_level)
        for h in console:
            h.setLevel(logging.NOTSET)
    print("\n" + summary_table(d.stages))
    print(f"demo finished in {time.perf_counter() - t0:.0f} s; console output of the libraries in {out / 'demo.log'}")
    return d.stages
