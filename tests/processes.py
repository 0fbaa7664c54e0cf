"""Facts about a process that tests read from ``/proc`` (Linux), whoever is its parent."""

from __future__ import annotations

from pathlib import Path


def process_state(pid: int) -> str:
    """The one-letter state from ``/proc/<pid>/stat`` (``T`` stopped, ``Z`` zombie, ``R`` running, ...), or ``?``
    when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "?"
