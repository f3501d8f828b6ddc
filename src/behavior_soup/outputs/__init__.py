"""Per-session results: one HDF5 file per trial, and ``outputs.h5`` as their index.

Layout of a session folder under the output root::

    outputs.h5                  the index: attrs format="behavior_soup.outputs", layout=2,
                                animal_id, session_id; one HDF5 external link per trial,
                                ``trial_<id>`` -> ``outputs/trial_<id>.h5:/``, so h5py and
                                HDFView browse it as one file
    outputs/trial_<id>.h5       one trial: attrs format="behavior_soup.trial_outputs", uuid,
                                trial_id, animal_id, session_id
    outputs/trial_<id>.h5:/<key>           a result, e.g. "behavior/video_stats", "sta/unit_3";
                                attrs: job, params (JSON), versions (JSON), started,
                                duration_s, status, host, pid
    outputs/trial_<id>.h5:/<key>/<name>    datasets (see :mod:`.codec`)

A write never modifies a file in place: under the trial file's lock, the trial's file is
written anew under a temporary name (the results kept, copied, and the new ones), read back
and checked against what was written, flushed to disk and moved over the old one with
``os.replace``. So a crash, a kill or a full disk at any instant leaves the old file or the
new one, never neither; replaced results leave no dead space behind; and a write costs what
the trial holds, whatever the session's size. The index changes only when a trial's file
appears or goes, and is itself replaced atomically and rebuilt from the trial files when
it is missing or damaged. Reads open the trial file directly, read-only and without any
lock, so results on read-only storage can be read.

Sessions written by earlier versions (every trial a group inside ``outputs.h5``) are read
as they are and converted to this layout at their next write.
"""

from .layout import FORMAT_NAME, TRIAL_FORMAT, rebuild_index, trial_dir, trial_file
from .read import list_results, read_provenance, read_result
from .write import delete_trial, delete_trials, write_result, write_results

__all__ = [
    "FORMAT_NAME",
    "TRIAL_FORMAT",
    "delete_trial",
    "delete_trials",
    "list_results",
    "read_provenance",
    "read_result",
    "rebuild_index",
    "trial_dir",
    "trial_file",
    "write_result",
    "write_results",
]
