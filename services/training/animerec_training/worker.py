"""Entry of a training child process: hold the training lock, then run `animerec <args>`.

``python -m animerec_training.worker --lock PATH -- train ...``. The lock is released by the
kernel when the process ends, however it ends (SIGKILL included).
"""

from __future__ import annotations

import fcntl
import sys


def main(argv: list[str]) -> int:
    """Returns the exit code of the wrapped `animerec` command (3 when the lock is taken)."""
    if len(argv) < 3 or argv[0] != "--lock" or argv[2] != "--":
        print("usage: python -m animerec_training.worker --lock PATH -- <animerec args>", file=sys.stderr)
        return 2
    lock = open(argv[1], "a")  # kept open (and locked) until the process exits
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("another training run holds the lock", file=sys.stderr)
        return 3
    from animerec_shared.cli import main as animerec

    return animerec(argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
