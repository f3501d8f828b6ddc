"""The table's registry of pose models (DeepLabCut), kept in the table file's metadata.

A DeepLabCut model is identified by its project's task, date and iteration, the shuffle,
the training-set index and the snapshot index, plus the engine. The registry records that
identity with the scorer name, bodyparts, network and evaluation, and where the project's
``config.yaml`` is, relative to a root (the table's folder or the raw-data root) so that a
moved project keeps working. It lives in the table file and changes under the table's lock,
so registering is atomic and concurrent registrations never lose each other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from .. import store
from ..errors import DataFormatError, ItemExistsError, ItemNotFoundError
from ..paths import is_inside

__all__ = ["DlcModel", "get_model", "list_models", "read_dlc_config", "register_model", "update_model"]

META_KEY = "pose_models"
Root = Literal["table", "raw", "absolute"]


@dataclass(frozen=True)
class DlcModel:
    """One registered DeepLabCut model.

    Attributes
    ----------
    name
        Registry key, unique in the table.
    engine
        ``"pytorch"`` (DeepLabCut 3) or ``"tensorflow"``.
    task, date, iteration, shuffle, trainingsetindex, snapshotindex
        DeepLabCut's identity of a model (``snapshotindex=-1``: the last snapshot).
    config
        Path of the project's ``config.yaml``: POSIX, relative to ``root`` unless that is
        ``"absolute"``.
    root
        ``"table"`` (the table's folder), ``"raw"`` (the raw-data root) or ``"absolute"``.
    bodyparts
        Bodypart names, in the project's order.
    scorer
        DeepLabCut's scorer name of the snapshot used (known after training or inference).
    net_type
        Network (e.g. ``"cspnext_s"``, ``"resnet_50"``), when known.
    evaluation
        Train/test RMSE in pixels and the snapshot evaluated, after :func:`train`.
    train_run
        The last training run's record (status, parameters, duration, error).
    """

    name: str
    engine: str
    task: str
    date: str
    iteration: int
    shuffle: int
    trainingsetindex: int
    snapshotindex: int
    config: str
    root: Root
    bodyparts: tuple[str, ...]
    scorer: str = ""
    net_type: str = ""
    evaluation: dict[str, Any] = field(default_factory=dict)
    train_run: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple:
        return (
            self.engine,
            self.task,
            self.date,
            self.iteration,
            self.shuffle,
            self.trainingsetindex,
            self.snapshotindex,
        )

    def config_path(self, table_path: str | os.PathLike, raw_root: str | os.PathLike) -> Path:
        """Absolute path of ``config.yaml`` under the roots in force.

        Parameters
        ----------
        table_path
            The trial table's file; its folder is the root of a ``"table"`` model.
        raw_root
            The raw-data root in force; the root of a ``"raw"`` model.

        Returns
        -------
        pathlib.Path
            :attr:`config` joined to its root (as stored for ``"absolute"``); not checked to
            exist.
        """
        if self.root == "absolute":
            return Path(self.config)
        base = Path(table_path).parent if self.root == "table" else Path(raw_root)
        return base / self.config

    def to_json(self) -> dict[str, Any]:
        """The model as JSON-able values, as stored in the table's metadata.

        Returns
        -------
        dict
            Field name -> value, ``bodyparts`` as a list.
        """
        d = asdict(self)
        d["bodyparts"] = list(self.bodyparts)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> DlcModel:
        """The inverse of :meth:`to_json`.

        Parameters
        ----------
        d
            Field name -> value, as written by :meth:`to_json`.

        Returns
        -------
        DlcModel
            The model, ``bodyparts`` as a tuple.
        """
        d = dict(d)
        d["bodyparts"] = tuple(d.get("bodyparts", ()))
        return cls(**d)


def read_dlc_config(config: str | os.PathLike) -> dict[str, Any]:
    """Read a DeepLabCut ``config.yaml`` without importing DeepLabCut.

    Parameters
    ----------
    config
        The project's ``config.yaml``.

    Returns
    -------
    dict
        The parsed config; it has at least ``Task``, ``date``, ``iteration`` and
        ``TrainingFraction``.

    Raises
    ------
    ItemNotFoundError
        If there is no file at ``config``.
    DataFormatError
        If it is not YAML, or lacks one of those keys.
    """
    import yaml

    p = Path(config)
    if not p.is_file():
        raise ItemNotFoundError(f"expected a DeepLabCut config.yaml at {str(p)!r}, found none")
    try:
        with open(p) as fh:
            cfg = yaml.safe_load(fh)
    except yaml.YAMLError as exc:
        raise DataFormatError(f"expected a YAML DeepLabCut config at {str(p)!r}: {exc}") from exc
    missing = [k for k in ("Task", "date", "iteration", "TrainingFraction") if k not in (cfg or {})]
    if missing:
        raise DataFormatError(f"expected DeepLabCut config keys {missing} in {str(p)!r}, found {sorted(cfg or {})}")
    return cfg


def _bodyparts(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    if cfg.get("multianimalproject"):
        return tuple(cfg.get("multianimalbodyparts") or []) + tuple(cfg.get("uniquebodyparts") or [])
    return tuple(cfg.get("bodyparts") or [])


def _registry(meta: Mapping[str, str]) -> dict[str, DlcModel]:
    raw = meta.get(META_KEY)
    if not raw:
        return {}
    return {k: DlcModel.from_json(v) for k, v in json.loads(raw).items()}


def _dump(reg: Mapping[str, DlcModel]) -> str:
    return json.dumps({k: m.to_json() for k, m in reg.items()}, sort_keys=True)


def list_models(df: pd.DataFrame) -> dict[str, DlcModel]:
    """The registered models of ``df``'s table (read from the file).

    Parameters
    ----------
    df
        A trial table (or one of its slices).

    Returns
    -------
    dict of str to DlcModel
        Model name -> model; empty if none is registered.
    """
    return _registry(store.read_meta(store.table_info(df).table_path))


def get_model(df: pd.DataFrame | str | os.PathLike, name: str) -> DlcModel:
    """A registered model by name; ``df`` may also be the table's path.

    Parameters
    ----------
    df
        A trial table, or the path of its file.
    name
        The model's registered name.

    Returns
    -------
    DlcModel
        The model, as stored in the table file.

    Raises
    ------
    ItemNotFoundError
        If no model of that name is registered.
    """
    path = store.table_info(df).table_path if isinstance(df, pd.DataFrame) else df
    reg = _registry(store.read_meta(path))
    if name not in reg:
        raise ItemNotFoundError(f"expected a registered pose model in {sorted(reg)}, got {name!r}")
    return reg[name]


def _relative_config(config: Path, info: store.TableInfo) -> tuple[str, Root]:
    config = config.absolute()
    for root, base in (("table", Path(info.table_path).parent), ("raw", Path(info.raw_root))):
        if is_inside(config, base):
            return config.relative_to(base).as_posix(), root  # type: ignore[return-value]
    return str(config), "absolute"


def register_model(
    df: pd.DataFrame,
    config: str | os.PathLike,
    shuffle: int = 1,
    trainingsetindex: int = 0,
    snapshotindex: int = -1,
    *,
    name: str | None = None,
    engine: str = "pytorch",
    net_type: str = "",
    lock_timeout: float | None = None,
) -> DlcModel:
    """Register a DeepLabCut model with the table (idempotent).

    Registering the same model again returns the existing entry; a name already used by a
    different model is refused.

    Parameters
    ----------
    df
        A trial table; the registry is saved in its file.
    config
        The DeepLabCut project's ``config.yaml`` (``~`` is expanded); stored relative to the
        table's folder or the raw-data root when inside one, else as an absolute path.
    shuffle
        DeepLabCut's shuffle.
    trainingsetindex
        Index into the project's ``TrainingFraction``.
    snapshotindex
        The snapshot to use; ``-1`` for the last.
    name
        Registry name; default ``<Task>_<date>_it<iteration>_shuffle<s>_ts<t>_snap<n>``.
    engine
        ``"pytorch"`` (DeepLabCut 3) or ``"tensorflow"``.
    net_type
        The network (e.g. ``"resnet_50"``), if known.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.

    Returns
    -------
    DlcModel
        The registered model: the existing entry if this model (same identity) is already
        registered under ``name`` (or ``name`` is not given), else the new entry.

    Raises
    ------
    ItemNotFoundError
        ``config`` does not exist.
    ItemExistsError
        ``name`` is taken by a different model.
    ValueError
        Bad indices or engine.
    """
    if engine not in ("pytorch", "tensorflow"):
        raise ValueError(f"expected engine 'pytorch' or 'tensorflow', got {engine!r}")
    for arg, v in (("shuffle", shuffle), ("trainingsetindex", trainingsetindex)):
        if not isinstance(v, int) or v < 0:
            raise ValueError(f"expected {arg} to be a non-negative int, got {v!r}")
    if not isinstance(snapshotindex, int):
        raise ValueError(f"expected snapshotindex to be an int (-1 for the last), got {snapshotindex!r}")
    cfg_path = Path(os.path.expanduser(os.fspath(config)))
    cfg = read_dlc_config(cfg_path)
    fractions = cfg["TrainingFraction"]
    if trainingsetindex >= len(fractions):
        raise ValueError(
            f"expected trainingsetindex < {len(fractions)} (TrainingFraction {fractions}), got {trainingsetindex}"
        )
    info = store.table_info(df)
    rel, root = _relative_config(cfg_path, info)
    default_name = (
        f"{cfg['Task']}_{cfg['date']}_it{cfg['iteration']}_shuffle{shuffle}_ts{trainingsetindex}_snap{snapshotindex}"
    )
    model = DlcModel(
        name=name or default_name,
        engine=engine,
        task=str(cfg["Task"]),
        date=str(cfg["date"]),
        iteration=int(cfg["iteration"]),
        shuffle=shuffle,
        trainingsetindex=trainingsetindex,
        snapshotindex=snapshotindex,
        config=rel,
        root=root,
        bodyparts=_bodyparts(cfg),
        net_type=net_type,
    )
    result: list[DlcModel] = []

    def change(meta: dict[str, str]) -> dict[str, str]:
        reg = _registry(meta)
        same = [m for m in reg.values() if m.identity == model.identity]
        if same and (name is None or same[0].name == name):
            result.append(same[0])
            return meta
        if model.name in reg:
            raise ItemExistsError(
                f"expected a new model name, got {model.name!r} already registered for a different model "
                f"{reg[model.name].identity}; pass another name="
            )
        reg[model.name] = model
        result.append(model)
        return {**meta, META_KEY: _dump(reg)}

    store.transact(df, None, lock_timeout=lock_timeout, meta_change=change)
    return result[0]


def update_model(
    table_path: str | os.PathLike, name: str, lock_timeout: float | None = None, **fields: Any
) -> DlcModel:
    """Set fields of a registered model (scorer, evaluation, train_run, ...) under the lock.

    Parameters
    ----------
    table_path
        The trial table's file.
    name
        The model's registered name.
    lock_timeout
        Seconds to wait for the table's lock; ``None`` means the default.
    **fields
        :class:`DlcModel` field -> new value.

    Returns
    -------
    DlcModel
        The model as now stored.

    Raises
    ------
    ItemNotFoundError
        If no model of that name is registered.
    """
    out: list[DlcModel] = []

    def change(meta: dict[str, str]) -> dict[str, str]:
        reg = _registry(meta)
        if name not in reg:
            raise ItemNotFoundError(f"expected a registered pose model in {sorted(reg)}, got {name!r}")
        reg[name] = replace(reg[name], **fields)
        out.append(reg[name])
        return {**meta, META_KEY: _dump(reg)}

    store.update_meta(table_path, change, lock_timeout=lock_timeout)
    return out[0]
