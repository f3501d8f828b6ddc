"""The one setting behavior_soup makes on every dask worker it runs jobs on: no stack sampling.

A dask worker samples the stacks of its task threads from its event-loop thread every 10 ms
(its statistical profiler, ``distributed.worker.profile``). Sampling takes a reference to
the task thread's frames. Suppose a frame ends while the event loop still holds it, and the
frame holds an h5py iterator that was stopped part way. keypoint-moseq's checkpoint reader
leaves one like that: ``dict(zip(group.keys(), map(f, group.values())))``. Such an iterator
holds h5py's global lock, taken by the task thread. The frame is then freed on the event-loop
thread, and freeing its h5py objects waits for that lock forever. The worker stops talking to
the scheduler, and its other tasks never start. Jobs that read HDF5 (every
``outputs.h5``, MoSeq checkpoints) hit this now and then; a loop of such reads hits it within
seconds. With sampling off, the task thread's frames are freed on that thread.

:class:`NoStackSampling` is registered on every client the dask backend submits to, so it also
reaches workers that join later (a SLURM job that starts after the call). The dashboard's
profile page stays empty on those workers.
"""

from __future__ import annotations

from typing import Any

from distributed import WorkerPlugin

__all__ = ["PLUGIN_NAME", "NoStackSampling", "install"]

#: Name of the plugin on a cluster (registering it again replaces it).
PLUGIN_NAME = "behavior_soup-no-stack-sampling"

_SAMPLING_CALLBACKS = ("profile", "profile-cycle")


class NoStackSampling(WorkerPlugin):
    """Stops a dask worker's statistical profiler (see the module docstring for why)."""

    name = PLUGIN_NAME

    def setup(self, worker: Any) -> None:
        """Remove the worker's sampling callbacks; it runs in the worker's event loop.

        Parameters
        ----------
        worker
            The ``distributed.Worker``.
        """
        for key in _SAMPLING_CALLBACKS:
            callback = worker.periodic_callbacks.pop(key, None)  # popped: a later start cannot restart it
            if callback is not None:
                callback.stop()


def install(client: Any) -> None:
    """Register :class:`NoStackSampling` on ``client``'s cluster (now and for later workers).

    Parameters
    ----------
    client
        A ``dask.distributed.Client``.
    """
    client.register_plugin(NoStackSampling(), name=PLUGIN_NAME)
