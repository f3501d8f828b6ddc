"""What a viewer or cleaner window shows and edits, apart from drawing: the trials, the current
trial's ethograms, videos and frame, the keys' actions, and debounced autosave.

A drawing backend (:mod:`.fpl`, :mod:`.mpl`) subscribes with :meth:`EthogramSession.subscribe`
and repaints on the events it is sent: ``"trial"``, ``"frame"``, ``"ethogram"``, ``"behavior"``,
``"selection"``, ``"status"``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..errors import BehaviorSoupError, OutputsError
from ..ethogram.jobs import LABELS_KEY, cleaned_key, write_labels
from ..ethogram.labels import UNLABELED, Labels
from ..ethogram.modes import MODES
from ..jobs import TrialContext
from ..provenance import Provenance
from ..schema import VIEWS
from .editor import EthogramEditor
from .frames import FrameCache
from .keys import ACTIONS, KEYS, action, canonical
from .trial_data import Keypoints, sources_of, trial_keypoints

__all__ = ["EthogramSession", "SessionKind"]

log = logging.getLogger(__name__)

SessionKind = Literal["view", "clean", "label"]


@dataclass(frozen=True)
class _Target:
    key: str
    source_key: str | None
    mode: str | None


class EthogramSession:
    """Trials, ethograms and videos behind a viewer (``kind="view"``), the ethogram cleaner
    (``"clean"``: edits ``<mode>/cleaned``, starting from it or from ``<mode>/ethogram``) or
    the labeller (``"label"``: edits ``behavior/labels``, from them or from nothing).

    Parameters
    ----------
    ctxs
        The trials, in order.
    kind
        ``"view"``, ``"clean"`` or ``"label"``.
    mode
        The ethogram mode to show or clean; the first one the trial has when None.
    behaviors
        Behavior names (background first) for labelling trials that have neither labels nor
        an ethogram.
    autosave_s
        Seconds after the last edit before it is saved; ``0`` saves on every edit, ``None``
        only on ``y`` and when leaving a trial.
    compare
        For a viewer: two source names (see :func:`~behavior_soup.viz.api.resolve_source`),
        the first shown as the tracks and the second as :attr:`reference` under them.
    pose
        The pose source whose keypoints are drawn over the videos (:attr:`keypoints`); None:
        the first one each view has; ``False``: none.
    """

    def __init__(
        self,
        ctxs: Sequence[TrialContext],
        *,
        kind: SessionKind = "view",
        mode: str | None = None,
        behaviors: Sequence[str] | None = None,
        autosave_s: float | None = 2.0,
        compare: tuple[str, str] | None = None,
        pose: str | bool | None = None,
    ) -> None:
        if kind not in ("view", "clean", "label"):
            raise ValueError(f"expected kind 'view', 'clean' or 'label', got {kind!r}")
        if not ctxs:
            raise ValueError("expected at least one trial, got none")
        if mode is not None and mode not in MODES:
            raise ValueError(f"expected mode one of {list(MODES)} or None, got {mode!r}")
        self.ctxs = list(ctxs)
        self.kind: SessionKind = kind
        self.mode = mode
        self.behaviors = tuple(behaviors) if behaviors is not None else None
        self.autosave_s = autosave_s
        if compare is not None and kind != "view":
            raise ValueError(f"expected compare= only with kind='view', got kind={kind!r}")
        self.compare = compare
        self.pose = pose
        self.keypoints: dict[str, Keypoints] = {}
        self.reference: np.ndarray | None = None
        self.trial = -1
        self.frame = 0
        self.playing = False
        self.status = ""
        self.saves = 0
        self._listeners: list[Callable[[str], None]] = []
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._saved_count = 0
        self.videos: dict[str, FrameCache] = {}
        self._kept: dict[tuple[int, str | None], tuple] = {}  # edited trials left, with their undo history
        self.goto_trial(0)

    # ------------------------------------------------------------------ events
    def subscribe(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(event)`` on every change (see the module docs)."""
        self._listeners.append(callback)

    def _emit(self, event: str) -> None:
        for cb in self._listeners:
            cb(event)

    def _say(self, msg: str) -> None:
        self.status = msg
        log.info(msg)
        self._emit("status")

    # ------------------------------------------------------------------ trials
    @property
    def ctx(self) -> TrialContext:
        return self.ctxs[self.trial]

    @property
    def n_frames(self) -> int:
        return self.editor.n_frames

    @property
    def dirty(self) -> bool:
        return self.editor.edit_count != self._saved_count

    def goto_trial(self, i: int) -> None:
        """Show trial ``i`` (saving the current one's edits first)."""
        if not 0 <= i < len(self.ctxs):
            raise IndexError(f"expected a trial index in 0..{len(self.ctxs) - 1}, got {i}")
        if self.trial >= 0:
            self.flush()
            if self.kind != "view":
                self._kept[(self.trial, self.mode)] = self._state()
        for v in self.videos.values():
            v.close()
        self.videos = {}
        self.trial = i
        if self.kind != "view" and (i, self.mode) in self._kept:
            self._restore(self._kept[(i, self.mode)])
        else:
            self._load()
        self.frame = min(self.frame, self.n_frames - 1)
        self._emit("trial")
        self._say(f"{self.ctx.label}: {self.source or 'new labels'} ({self.n_frames} frames)")

    def _state(self) -> tuple:
        return (
            self.sources,
            self.source,
            self._target,
            self.editor,
            self._saved_count,
            self.probabilities,
            self.keypoints,
        )

    def _restore(self, state: tuple) -> None:
        (self.sources, self.source, self._target, self.editor, self._saved_count, self.probabilities,
         self.keypoints) = state  # fmt: skip

    def _load(self) -> None:
        ctx = self.ctx
        self.sources = sources_of(ctx)
        modes = [m for m in MODES if m in self.sources]
        mode = self.mode if self.mode in modes else (modes[0] if modes else None)
        if self.kind == "view":
            if not self.sources:
                raise OutputsError(f"expected an ethogram or labels for {ctx.label}, found none; run infer first")
            self.source = mode if mode is not None and self.mode is not None else next(iter(self.sources))
            key = self.sources[self.source]
            if self.compare is not None:
                from .api import resolve_source

                key = resolve_source(self.compare[0], ctx, self.compare[1])
                self.source = next(k for k, v in self.sources.items() if v == key)
                self.reference = np.asarray(ctx.read(resolve_source(self.compare[1], ctx, self.compare[0]))["array"])
            d = ctx.read(key)
            self._target = None
            self.editor = EthogramEditor(d["array"], tuple(d["behaviors"]))
        elif self.kind == "clean":
            if mode is None:
                raise OutputsError(
                    f"expected a predicted ethogram ({', '.join(f'{m}/ethogram' for m in MODES)}) for {ctx.label}, "
                    f"found results {sorted(self.sources.values())}; run df.behavior.infer first"
                )
            pred = ctx.read(f"{mode}/ethogram")
            start = ctx.read(cleaned_key(mode)) if f"{mode} cleaned" in self.sources else pred
            if list(start["behaviors"]) != list(pred["behaviors"]):
                start = pred
            self.source = f"{mode} cleaned"
            self._target = _Target(cleaned_key(mode), f"{mode}/ethogram", mode)
            self.editor = EthogramEditor(start["array"], tuple(pred["behaviors"]), original=pred["array"])
        else:
            self.source = "labels"
            self._target = _Target(LABELS_KEY, None, None)
            self.editor = self._label_editor(mode)
        self._saved_count = self.editor.edit_count
        self.probabilities = None
        keys = ctx.keys()
        self.keypoints = {} if self.pose is False else trial_keypoints(ctx, keys, self.views(), self.pose or None)
        if mode is not None and f"{mode}/sequence" in set(keys):
            p = ctx.read(f"{mode}/sequence")
            if list(p["behaviors"]) == list(self.editor.behaviors) and len(p["probabilities"]) == self.n_frames:
                self.probabilities = np.asarray(p["probabilities"], dtype=np.float32)

    def _label_editor(self, mode: str | None) -> EthogramEditor:
        ctx = self.ctx
        if "labels" in self.sources:
            d = ctx.read(LABELS_KEY)
            return EthogramEditor(d["array"], tuple(d["behaviors"]))
        behaviors = self.behaviors
        if behaviors is None and mode is not None:
            behaviors = tuple(ctx.read(f"{mode}/ethogram")["behaviors"])
        if behaviors is None:
            raise ValueError(f"expected behaviors= (background first) to label {ctx.label}, which has no labels yet")
        n = self.video(next(iter(self.ctx.videos))).info.n_frames if ctx.videos else 0
        if n <= 0:
            raise OutputsError(f"expected a video with a frame count for {ctx.label}, found views {sorted(ctx.videos)}")
        return EthogramEditor(np.full((n, len(behaviors)), UNLABELED, np.int8), behaviors)

    def video(self, view: str) -> FrameCache:
        """The current trial's ``view`` video, opened once."""
        if view not in self.videos:
            self.videos[view] = FrameCache(self.ctx.video_path(view))
        return self.videos[view]

    def views(self) -> list[str]:
        """The current trial's camera views, in :data:`~behavior_soup.schema.VIEWS` order."""
        return [v for v in VIEWS if v in self.ctx.videos]

    def points(self, view: str) -> np.ndarray | None:
        """``(K, 2)`` float32 keypoints of :attr:`frame` over ``view`` (NaN hidden), or None."""
        kp = self.keypoints.get(view)
        return None if kp is None else kp.at(self.frame)

    def frame_image(self, view: str) -> np.ndarray:
        """``(H, W, 3)`` uint8 frame :attr:`frame` of ``view`` (its last frame past the end)."""
        v = self.video(view)
        return v[min(self.frame, len(v) - 1)]

    # ------------------------------------------------------------------ frame and selection
    def set_frame(self, i: int) -> None:
        """Move the cursor to frame ``i`` (clipped)."""
        i = int(np.clip(i, 0, self.n_frames - 1))
        if i != self.frame:
            self.frame = i
            self._emit("frame")

    def select(self, start: int, stop: int) -> None:
        """Select frames ``start..stop``, both included."""
        self.editor.select(start, stop)
        self._emit("selection")

    def tick(self, dt: float) -> None:
        """Advance playback by ``dt`` seconds of video (at the video's frame rate)."""
        if not self.playing:
            return
        fps = self.video(self.views()[0]).info.fps if self.views() else 30.0
        step = max(1, int(round(dt * (fps or 30.0))))
        if self.frame + step >= self.n_frames:
            self.playing = False
        self.set_frame(self.frame + step)

    # ------------------------------------------------------------------ keys
    def press(self, key: str, modifiers: Sequence[str] = ()) -> str | None:
        """Handle a key press; returns the action's name, or None for an unbound key."""
        name = KEYS.get(canonical(key, modifiers))
        if name is None:
            return None
        act = ACTIONS[name]
        if act.edits and self.kind == "view":
            self._say(f"{name}: this viewer is read-only (use clean_ethograms() to edit)")
            return name
        try:
            with self._lock:
                act.run(self)
        except (ValueError, BehaviorSoupError, OSError) as exc:  # said in the window, never lost in the event loop
            self._say(f"{name} failed: {exc}")
            if not isinstance(exc, ValueError):
                log.error("%s failed for %s: %s", name, self.ctx.label, exc)
        return name

    def _edited(self, changed: bool) -> None:
        if not changed:
            return
        self._emit("ethogram")
        if self.autosave_s == 0:
            self.save()
        elif self.autosave_s is not None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.autosave_s, self._autosave)
            self._timer.daemon = True
            self._timer.start()

    def _autosave(self) -> None:
        try:
            self.save()
        except Exception as exc:  # a failed autosave must not kill the timer thread silently
            self._say(f"autosave failed, edits kept in memory: {type(exc).__name__}: {exc}")

    @action("insert", ("1",), "insert the current behavior over the selection", edits=True)
    def _insert(self) -> None:
        self._edited(self.editor.insert())

    @action("delete", ("2",), "delete the current behavior from the selection", edits=True)
    def _delete(self) -> None:
        self._edited(self.editor.delete())

    @action("previous_behavior", ("q",), "previous behavior")
    def _prev_behavior(self) -> None:
        self._say(f"behavior: {self.editor.previous_behavior()}")
        self._emit("behavior")

    @action("next_behavior", ("s",), "next behavior")
    def _next_behavior(self) -> None:
        self._say(f"behavior: {self.editor.next_behavior()}")
        self._emit("behavior")

    @action("reset_all", ("r",), "reset the whole ethogram to the model output", edits=True)
    def _reset_all(self) -> None:
        self._edited(self.editor.reset_all())

    @action("reset_current", ("t",), "reset the current behavior to the model output", edits=True)
    def _reset_current(self) -> None:
        self._edited(self.editor.reset_current())

    @action("save", ("y",), "save now", edits=True)
    def _save_key(self) -> None:
        self.save(force=True)

    @action("undo", ("ctrl+z",), "undo", edits=True)
    def _undo(self) -> None:
        self._edited(self.editor.undo())

    @action("redo", ("ctrl+y", "ctrl+shift+z"), "redo", edits=True)
    def _redo(self) -> None:
        self._edited(self.editor.redo())

    @action("frame_back", ("left",), "one frame back")
    def _back(self) -> None:
        self.set_frame(self.frame - 1)

    @action("frame_forward", ("right",), "one frame forward")
    def _forward(self) -> None:
        self.set_frame(self.frame + 1)

    @action("jump_back", ("down",), "30 frames back")
    def _jump_back(self) -> None:
        self.set_frame(self.frame - 30)

    @action("jump_forward", ("up",), "30 frames forward")
    def _jump_forward(self) -> None:
        self.set_frame(self.frame + 30)

    @action("previous_bout", ("b",), "previous bout of the current behavior")
    def _prev_bout(self) -> None:
        f = self.editor.previous_bout(self.frame)
        self.set_frame(self.frame if f is None else f) if f is not None else self._say("no earlier bout")

    @action("next_bout", ("n",), "next bout of the current behavior")
    def _next_bout(self) -> None:
        f = self.editor.next_bout(self.frame)
        self.set_frame(f) if f is not None else self._say("no later bout")

    @action("play", ("space",), "play / pause")
    def _play(self) -> None:
        self.playing = not self.playing

    @action("next_source", ("m",), "next ethogram (mode) of this trial")
    def _next_source(self) -> None:
        options = [s for s in self.sources if self.kind == "view" or (self.kind == "clean" and s in MODES)]
        if len(options) < 2:
            self._say(f"only {options[0] if options else 'one ethogram'} here")
            return
        current = self.source if self.kind == "view" else self._target.mode  # type: ignore[union-attr]
        nxt = options[(options.index(current) + 1) % len(options)] if current in options else options[0]
        self.flush()
        if self.kind == "view":
            d = self.ctx.read(self.sources[nxt])
            self.source, self.editor = nxt, EthogramEditor(d["array"], tuple(d["behaviors"]))
            self._saved_count = self.editor.edit_count
        else:
            self.mode = nxt
            self._load()
        self._emit("trial")
        self._say(f"showing {self.source}")

    @action("previous_trial", ("pageup",), "previous trial")
    def _prev_trial(self) -> None:
        self.goto_trial(max(self.trial - 1, 0))

    @action("next_trial", ("pagedown",), "next trial")
    def _next_trial(self) -> None:
        self.goto_trial(min(self.trial + 1, len(self.ctxs) - 1))

    # ------------------------------------------------------------------ saving
    def save(self, force: bool = False) -> bool:
        """Write the edited ethogram now (if changed since the last save, or ``force``);
        returns whether it wrote."""
        if self._target is None:
            return False
        with self._lock:
            if not (self.dirty or force):
                return False
            count, array = self.editor.edit_count, self.editor.array.copy()
            behaviors, original = self.editor.behaviors, self.editor.original
            ctx, target = self.ctx, self._target
        params = {
            "source": target.source_key,
            "mode": target.mode,
            "edit_count": int(count),
            "frames_changed": int((array != original).any(axis=1).sum()),
        }
        if target.key == LABELS_KEY:
            write_labels(ctx, Labels(array, behaviors), {**params, "source": "labeller"})
        else:
            prov = Provenance("ethogram_clean", params)
            ctx.write(target.key, {"array": array, "behaviors": list(behaviors)}, prov.finish())
        with self._lock:
            self._saved_count = count
            self.saves += 1
            if f"{target.mode} cleaned" not in self.sources and target.mode is not None:
                self.sources[f"{target.mode} cleaned"] = target.key
        self._say(f"saved {target.key} of {ctx.label} ({params['frames_changed']} frames differ from the source)")
        return True

    def flush(self) -> None:
        """Save pending edits now (cancelling the autosave timer)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.dirty:
            self.save()

    def close(self) -> None:
        """Save pending edits and close the videos."""
        self.flush()
        for v in self.videos.values():
            v.close()
        self.videos = {}
