"""Parameters of the pose row jobs: DeepLabCut inference (:class:`PoseInferParams`) and the
import of a pose file (:class:`PoseLoadParams`), with the checks of their fields.

The jobs themselves are in :mod:`behavior_soup.pose.jobs`, which re-exports both classes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .. import checks
from ..params import Params, param
from ..paths import is_inside
from ..schema import VIEWS, validate_id
from .models import get_model

__all__ = ["PoseInferParams", "PoseLoadParams"]


def _views(v: object, name: str) -> tuple[str, ...] | None:
    return None if v is None else checks.names(checks.one_of(VIEWS))(v, name)


def _device(v: object, name: str) -> str:
    if not isinstance(v, str) or not (v in ("auto", "cpu") or v.startswith("cuda")):
        raise ValueError(f"expected {name} 'auto', 'cpu' or 'cuda[:N]', got {v!r}")
    return v


@dataclass(frozen=True)
class PoseInferParams(Params):
    """Parameters of DeepLabCut inference (``row.pose.infer``, ``df.pose.infer``)."""

    model: str = param("", checks.text(), "a registered model's name (df.pose.models())")
    views: tuple[str, ...] | None = param(None, _views, "views to run on; None: every view of the trial")
    device: str = param("auto", _device, '"auto", "cpu" or "cuda[:N]"')
    batch_size: int = param(8, checks.integer(min=1), "frames per batch")

    def resolve(self, obj: object) -> PoseInferParams:
        """Check that :attr:`model` is registered with the table.

        Parameters
        ----------
        obj
            The trial table, or one of its rows.

        Returns
        -------
        PoseInferParams
            ``self``.

        Raises
        ------
        ItemNotFoundError
            If no model of that name is registered.
        """
        from ..store import table_info

        get_model(table_info(obj).table_path, self.model)  # type: ignore[arg-type]
        return self


def _format(v: object, name: str) -> str | None:
    from .io import POSE_LOADERS

    return None if v is None else checks.one_of(sorted(POSE_LOADERS))(v, name)


@dataclass(frozen=True)
class PoseLoadParams(Params):
    """Parameters of a pose import (``row.pose.load``)."""

    path: str = param(
        "",
        checks.path(),
        "the pose file (DLC .h5/.csv, SLEAP .slp/.h5, NWB); a relative path is under the raw-data root",
    )
    view: str = param("front", checks.one_of(VIEWS), "the camera view it tracks")
    name: str = param("imported", lambda v, n: validate_id(v, "pose source name"), "name to store it under")
    individual: str | None = param(None, checks.optional(checks.text()), "the animal, in a multi-animal file")
    format: str | None = param(None, _format, "a name in POSE_LOADERS; None: detected")

    def resolve(self, obj: object) -> PoseLoadParams:
        """The file checked to exist; recorded relative to the raw-data root when under it.

        Parameters
        ----------
        obj
            The trial table, or one of its rows.

        Returns
        -------
        PoseLoadParams
            A copy with ``path`` a POSIX path relative to the raw-data root, or absolute when
            outside it (``~`` expanded; a relative ``path`` is taken under the raw-data root).

        Raises
        ------
        FileNotFoundError
            If there is no file at ``path``.
        """
        import os

        from ..store import table_info

        info = table_info(obj)  # type: ignore[arg-type]
        path = Path(os.path.expanduser(self.path))
        path = path if path.is_absolute() else Path(info.raw_root) / path
        if not path.is_file():
            raise FileNotFoundError(f"expected a pose file at {str(path)!r}, found none")
        root = Path(info.raw_root)
        rel = path.absolute().relative_to(root).as_posix() if is_inside(path.absolute(), root) else str(path.absolute())
        return replace(self, path=rel)
