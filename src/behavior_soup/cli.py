"""Command line: ``behavior-soup demo`` (see :mod:`behavior_soup.demo`) and ``behavior-soup info``."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

log = logging.getLogger("behavior_soup.cli")


def _demo(args: argparse.Namespace) -> int:
    import dataclasses

    from behavior_soup.demo import FULL, DemoSettings, run_demo

    base = FULL if args.full else DemoSettings()
    chosen = {
        k: getattr(args, k) for k in ("dlc_epochs", "ethogram_epochs", "moseq_iters") if getattr(args, k) is not None
    }
    run_demo(args.out, dataclasses.replace(base, progress=not args.no_progress, **chosen))
    return 0


def _info(path: Path) -> int:
    import pandas as pd

    import behavior_soup as bs
    from behavior_soup import schema

    df = bs.load_df(path)
    info = df.behavior.info
    print(f"table        {info.table_path}")
    print(f"revision     {info.revision}")
    print(f"raw root     {info.raw_root}{'' if Path(info.raw_root).is_dir() else '  (missing here)'}")
    print(f"output root  {info.output_root}")
    print(f"naming       {info.naming['template']}")
    print(
        f"trials       {len(df)}  animals {df['animal_id'].nunique()}  sessions {df.groupby(['animal_id', 'session_id']).ngroups}"
    )
    if len(df):
        print(df.groupby(["animal_id", "session_id"]).size().rename("trials").to_string())
        counts = {
            ns: df[schema.status_column(ns)].replace("", "-").value_counts().to_dict()
            for ns in schema.STATUS_NAMESPACES
        }
        print(pd.DataFrame(counts).fillna(0).astype(int).T.to_string())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``behavior-soup`` command line.

    Parameters
    ----------
    argv
        The arguments after the program name (e.g. ``["info", "trials.h5"]``), or ``None`` for
        ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: ``0`` on success, ``2`` after printing a library error or a missing file to
        stderr. Bad arguments make ``argparse`` exit (``SystemExit``) instead.
    """
    parser = argparse.ArgumentParser(prog="behavior-soup", description="behavior_soup command line")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO level")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="build sample data and run every accessor on it (3 to 5 min on 2 cores)")
    p_demo.add_argument("--out", type=Path, default=Path("demo_out"), help="folder for the demo (default: demo_out)")
    p_demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p_demo.add_argument("--full", action="store_true", help="train longer (DLC, ethogram and MoSeq; 10-25 min)")
    for flag, what in (
        ("--dlc-epochs", "DeepLabCut training epochs (0: skip; needs [pose])"),
        ("--ethogram-epochs", "fast-mode ethogram training epochs (0: skip; needs [ethogram])"),
        ("--moseq-iters", "keypoint-MoSeq AR-HMM and full iterations (0: skip; needs [moseq])"),
    ):
        p_demo.add_argument(flag, type=int, default=None, help=f"{what}; overrides the default or --full")
    p_info = sub.add_parser("info", help="summarise a trial table")
    p_info.add_argument("table", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    from behavior_soup.errors import BehaviorSoupError

    try:
        if args.command == "demo":
            return _demo(args)
        return _info(args.table)
    except (BehaviorSoupError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
