"""Spike-triggered averages and spatio-temporal receptive fields.

Plain functions (:func:`compute_sta`, :func:`sta_sums`, :func:`load_stimulus`,
:func:`load_spikes`, :func:`fit_gaussian_2d`, :func:`plot_sta`) and the ``sta`` row job used by
the ``df.sta`` / ``row.sta`` accessors.
"""

from .compute import StaResult, compute_sta, spike_frames, sta_sums
from .fit import fit_gaussian_2d
from .loaders import load_spikes, load_stimulus, register_spike_loader, register_stimulus_loader
from .plots import plot_sta
from .recording import add_recording, read_sta, sta_summary

__all__ = [
    "StaResult",
    "add_recording",
    "compute_sta",
    "fit_gaussian_2d",
    "load_spikes",
    "load_stimulus",
    "plot_sta",
    "read_sta",
    "register_spike_loader",
    "register_stimulus_loader",
    "spike_frames",
    "sta_sums",
    "sta_summary",
]
