"""The registry of ethogram model kinds: one :class:`ModelKind` per kind of network.

A kind says how its network is built from the architecture record its checkpoints carry,
which table-level task trains it, and which kind it is trained on top of. Checkpoint
loading, network building, training through the accessors and the model registry of a
table all look kinds up here, so a new kind is one :func:`register_model_kind` call.

Examples
--------
>>> from behavior_soup.ethogram.kinds import get_model_kind
>>> k = get_model_kind("sequence")
>>> k.task, k.parent, k.parent_param
('train_sequence', 'feature_extractor', 'feature_model_in')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MODEL_KINDS", "ModelKind", "get_model_kind", "register_model_kind"]


@dataclass(frozen=True)
class ModelKind:
    """One kind of ethogram network.

    Attributes
    ----------
    name
        The kind, as stored in checkpoints (``"flow_generator"``, ...) and named by the
        ``df.<name>`` accessor that trains it.
    build
        ``build(architecture) -> torch.nn.Module``, randomly initialised.
    task
        Name of the registered table-level task that trains it (see
        :func:`behavior_soup.jobs.register_task`).
    task_module
        Module that registers ``task`` (imported before the task is looked up).
    parent
        The kind it is trained on top of, or None.
    parent_param
        The training task's parameter naming the parent checkpoint.
    supervised
        Whether training needs ground-truth labels (its default rows are the labelled trials).
    """

    name: str
    build: Callable[[Mapping[str, Any]], Any]
    task: str
    task_module: str
    parent: str | None = None
    parent_param: str | None = None
    supervised: bool = True

    @property
    def train_call(self) -> str:
        """The accessor call that trains this kind, for messages.

        Returns
        -------
        str
            E.g. ``"df.sequence.train"``.
        """
        return f"df.{self.name}.train"


#: Registered kinds, by name, in registration order.
MODEL_KINDS: dict[str, ModelKind] = {}


def register_model_kind(kind: ModelKind) -> ModelKind:
    """Register ``kind`` (replacing a kind of the same name defined by the same module).

    Parameters
    ----------
    kind
        The kind; its ``parent``, when given, must be registered already.

    Returns
    -------
    ModelKind
        ``kind``.

    Raises
    ------
    ValueError
        An unknown parent, or a parent without ``parent_param``.
    """
    if kind.parent is not None and (kind.parent not in MODEL_KINDS or not kind.parent_param):
        raise ValueError(
            f"expected the parent of {kind.name!r} to be a registered kind with a parent_param, "
            f"got parent {kind.parent!r} (registered: {list(MODEL_KINDS)}) and parent_param {kind.parent_param!r}"
        )
    MODEL_KINDS[kind.name] = kind
    return kind


def get_model_kind(name: str) -> ModelKind:
    """The registered kind ``name``.

    Parameters
    ----------
    name
        A kind name.

    Returns
    -------
    ModelKind

    Raises
    ------
    ValueError
        ``name`` is not registered.
    """
    try:
        return MODEL_KINDS[name]
    except (KeyError, TypeError):
        raise ValueError(f"expected a model kind in {list(MODEL_KINDS)}, got {name!r}") from None


# ------------------------------------------------------------------------------ built-in kinds


def _flow_generator(arch: Mapping[str, Any]) -> Any:
    from .nets import build_flow_generator

    return build_flow_generator(arch["flow_generator"], arch["n_frames"], arch.get("networks", "lite"))


def _feature_extractor(arch: Mapping[str, Any]) -> Any:
    from .nets import build_flow_generator, get_network_set

    networks = arch.get("networks", "lite")  # records without one predate the networks of record
    gen = build_flow_generator(arch["flow_generator"], arch["n_frames"], networks)
    extra = {"spatial_channel": arch["spatial_channel"]} if arch.get("spatial_channel") is not None else {}
    cls = get_network_set(networks).two_stream
    return cls(gen, arch["backbone"], arch["n_frames"], arch["n_classes"], arch["dropout"], **extra)


def _sequence(arch: Mapping[str, Any]) -> Any:
    from .nets import TGMJ

    return TGMJ(**arch)


_TRAINING = "behavior_soup.ethogram.training"
register_model_kind(
    ModelKind("flow_generator", _flow_generator, "train_flow_generator", f"{_TRAINING}.flow", supervised=False)
)
register_model_kind(
    ModelKind(
        "feature_extractor",
        _feature_extractor,
        "train_feature_extractor",
        f"{_TRAINING}.features",
        parent="flow_generator",
        parent_param="flow_model_in",
    )
)
register_model_kind(
    ModelKind(
        "sequence",
        _sequence,
        "train_sequence",
        f"{_TRAINING}.sequence",
        parent="feature_extractor",
        parent_param="feature_model_in",
    )
)
