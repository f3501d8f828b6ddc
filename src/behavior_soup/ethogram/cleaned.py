"""Hand-cleaned ethograms (``<mode>/cleaned``, written by the cleaner) as training labels:
predict, clean, promote, retrain (as DeepEthogram imports predictions as labels)."""

from __future__ import annotations

from ..jobs import TrialContext
from .jobs import cleaned_key, write_labels
from .labels import Labels

__all__ = ["promote_cleaned"]


def promote_cleaned(ctx: TrialContext, mode: str) -> Labels:
    """Make a trial's cleaned ``mode`` ethogram its ground-truth labels (``behavior/labels``,
    replacing any), recording where they came from.

    Parameters
    ----------
    ctx
        The trial.
    mode
        ``"fast"``, ``"medium"`` or ``"slow"``.

    Returns
    -------
    Labels
        The labels written.

    Raises
    ------
    OutputsError
        If the trial has no cleaned ethogram for ``mode``.
    DataFormatError
        If its frame count is not the video's.
    """
    key = cleaned_key(mode)
    d = ctx.read(key)
    prov = ctx.provenance(key)
    labels = Labels(d["array"], tuple(d["behaviors"]))
    params = {"source": key, "edit_count": prov.get("params", {}).get("edit_count"), "cleaned_at": prov.get("started")}
    write_labels(ctx, labels, params)
    return labels
