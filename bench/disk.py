"""Whether the disk holds a benchmark run, asked before it starts (issue 22: "says so before it starts").

The estimate is per stored request and per address, from what a run writes: the generated
history file, the request table with its indexes and history events, the import's staging
copy (held until the import commits), the addresses; plus room for the write-ahead log and
sorts. The per-row figures are deliberately on the high side (the run's own results state
the real sizes of the table and its indexes, `storage` in bench/results/requests.json).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.address_validation import MAX_ADDRESSES
from core.errors import UserError

#: Bytes per request: history file, table and indexes, events, the import's staging copy.
CSV_BYTES_PER_REQUEST = 260
STORED_BYTES_PER_REQUEST = 3_000
STAGING_BYTES_PER_REQUEST = 1_500
PER_REQUEST_BYTES = CSV_BYTES_PER_REQUEST + STORED_BYTES_PER_REQUEST + STAGING_BYTES_PER_REQUEST
#: Bytes per address: the point, its parsed parts, the trigram and street indexes.
BYTES_PER_ADDRESS = 1_500
#: Write-ahead log, sorts of the index builds and the results: room beyond the rows.
SLACK_BYTES = 6_000_000_000


@dataclass(frozen=True)
class DiskNeed:
    """What a run needs and what the disk has, in bytes."""

    needed: int
    free: int
    where: Path

    @property
    def enough(self) -> bool:
        return self.free >= self.needed

    def sentence(self) -> str:
        gb = 1_000_000_000
        return f"needs about {self.needed / gb:.0f} GB on {self.where}, which has {self.free / gb:.0f} GB free"


def bytes_needed(total: int) -> int:
    """What a run of ``total`` requests (and its addresses) writes, at most."""
    return total * PER_REQUEST_BYTES + min(total, MAX_ADDRESSES) * BYTES_PER_ADDRESS + SLACK_BYTES


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_need(total: int, where: Path) -> DiskNeed:
    """The need of a run of ``total`` requests beside the free space of the disk holding ``where``."""
    place = _existing(where.resolve())
    return DiskNeed(bytes_needed(total), shutil.disk_usage(place).free, place)


def check_disk(total: int, where: Path) -> DiskNeed:
    """Raise :class:`UserError` before a run that the disk cannot hold, saying what to do."""
    need = disk_need(total, where)
    if not need.enough:
        room = need.free - SLACK_BYTES - min(total, MAX_ADDRESSES) * BYTES_PER_ADDRESS
        largest = max(0, room) // PER_REQUEST_BYTES
        raise UserError(
            f"A benchmark of {total:,} requests {need.sentence()}. Free space there, or run a smaller one "
            f"(--total {largest // 100_000 * 100_000:,} fits)."
        )
    return need
