"""Helper processes for the reliability tests (run as scripts)."""

import sys

import behavior_soup as bs


def saver(table: str) -> None:
    """Save the table over and over, changing a note each time, until killed."""
    df = bs.load_df(table)
    i = 0
    while True:
        df.at[i % len(df), "notes"] = f"n{i}" * (1 + i % 50)
        df.behavior.save(merge=True)
        i += 1


def adder(table: str, animal: str) -> None:
    """Add every session of one animal, one session per call."""
    import os

    df = bs.load_df(table)
    for s in sorted(os.listdir(os.path.join(df.paths.raw_root, animal))):
        df.behavior.add_item(animal, s)


if __name__ == "__main__":
    {"saver": saver, "adder": adder}[sys.argv[1]](*sys.argv[2:])
