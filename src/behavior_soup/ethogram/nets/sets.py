"""Network sets: which flow generators and which two-stream class a model is built from.

Two sets are registered: ``"deepethogram"``, the networks of record (DeepEthogram's, layer for
layer: :mod:`.deepethogram`, :mod:`.deepethogram_streams`), and ``"lite"``, the smaller
networks this library trained before (:mod:`.flow`, :mod:`.two_stream`; about 4× fewer
multiply-accumulates in fast mode), kept for speed on CPUs. A checkpoint's architecture
record names its set; records without one are ``"lite"`` (they predate the networks of
record). A new set is one :func:`register_network_set` call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from torch import nn

from .deepethogram import MotionNet, TinyMotionNet, TinyMotionNet3D
from .deepethogram_streams import DeepEthogramTwoStream
from .flow import LITE_FLOW_GENERATORS
from .two_stream import HiddenTwoStream

__all__ = ["NETWORK_SETS", "NetworkSet", "build_flow_generator", "get_network_set", "register_network_set"]


@dataclass(frozen=True)
class NetworkSet:
    """One set of ethogram networks.

    Attributes
    ----------
    name
        The name architecture records store (``"deepethogram"``, ``"lite"``).
    flow_generators
        Flow generator name -> class taking ``n_frames``.
    two_stream
        The feature extractor class: called as ``(flow_generator, backbone, n_frames,
        n_classes, dropout, **extra)``.
    """

    name: str
    flow_generators: Mapping[str, Callable[..., nn.Module]]
    two_stream: Callable[..., nn.Module]


NETWORK_SETS: dict[str, NetworkSet] = {}


def register_network_set(net_set: NetworkSet) -> NetworkSet:
    """Register ``net_set`` under its name (replacing one of the same name).

    Parameters
    ----------
    net_set
        The set.

    Returns
    -------
    NetworkSet
        ``net_set``.
    """
    NETWORK_SETS[net_set.name] = net_set
    return net_set


def get_network_set(name: str) -> NetworkSet:
    """The registered set ``name``.

    Parameters
    ----------
    name
        ``"deepethogram"``, ``"lite"`` or another registered set.

    Returns
    -------
    NetworkSet

    Raises
    ------
    ValueError
        ``name`` is not registered.
    """
    try:
        return NETWORK_SETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"expected networks in {sorted(NETWORK_SETS)}, got {name!r}") from None


def build_flow_generator(name: str, n_frames: int = 11, networks: str = "deepethogram") -> nn.Module:
    """A randomly initialised flow generator of a network set, by name.

    Parameters
    ----------
    name
        ``"TinyMotionNet"``, ``"MotionNet"`` or ``"TinyMotionNet3D"``.
    n_frames
        Frames per clip ``L`` (at least 2).
    networks
        The network set (see :data:`NETWORK_SETS`).

    Returns
    -------
    torch.nn.Module
        The network, on the CPU, in training mode.

    Raises
    ------
    ValueError
        If the set or the name is unknown, or ``n_frames`` is below 2.
    """
    gens = get_network_set(networks).flow_generators
    try:
        cls = gens[name]
    except KeyError:
        raise ValueError(f"expected a flow generator in {sorted(gens)}, got {name!r}") from None
    return cls(n_frames)


register_network_set(
    NetworkSet(
        "deepethogram",
        {"TinyMotionNet": TinyMotionNet, "MotionNet": MotionNet, "TinyMotionNet3D": TinyMotionNet3D},
        DeepEthogramTwoStream,
    )
)
register_network_set(NetworkSet("lite", LITE_FLOW_GENERATORS, HiddenTwoStream))
