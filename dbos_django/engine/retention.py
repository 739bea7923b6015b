"""Retention: ``prune()`` deletes finished workflows older than a number of days, in short batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import conf
from ..models import TERMINAL_STATUSES
from ..storage import retention as store
from . import clock
from . import runtime as rt

#: Largest batch: every id is a query parameter, and databases bound their number.
MAX_BATCH_SIZE = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneReport:
    """What a prune deleted (or, in a dry run, would delete): rows per table, and in how many batches."""

    workflows: int
    rows: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    dry_run: bool = False


def _alias() -> str:
    runtime = rt.get()
    return runtime.alias if runtime else conf.get().database


def cutoff_ms(older_than_days: float) -> int:
    """The epoch ms before which a workflow must have completed to be pruned."""
    return clock.now_ms() - int(older_than_days * 86_400_000)


def prune(older_than_days: float, *, statuses: Sequence[str] = TERMINAL_STATUSES, batch_size: int = 1000,
          dry_run: bool = False) -> PruneReport:  # fmt: skip
    """Delete the workflows in ``statuses`` completed more than ``older_than_days`` ago, with all their rows.

    Raise ``ValueError`` for a status that is not final, a negative age or a bad batch size.
    """
    unfinished = sorted(set(statuses) - set(TERMINAL_STATUSES))
    if unfinished or not statuses:
        raise ValueError(f"only finished workflows can be pruned ({', '.join(TERMINAL_STATUSES)}), "
                         f"not {', '.join(unfinished) or 'none'}")  # fmt: skip
    if older_than_days < 0:
        raise ValueError(f"the age must be zero or more days, not {older_than_days}")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"the batch size must be between 1 and {MAX_BATCH_SIZE}, not {batch_size}")
    alias, cutoff = _alias(), cutoff_ms(older_than_days)
    if dry_run:
        counted = store.count(alias, statuses, cutoff)
        return PruneReport(workflows=counted[store.WF], rows=counted, dry_run=True)
    totals: Counter[str] = Counter(dict.fromkeys(store.TABLES, 0))
    batches = 0
    while True:
        deleted = store.delete_batch(alias, statuses, cutoff, batch_size)
        if not deleted[store.WF]:
            break
        batches += 1
        totals.update(deleted)
        if deleted[store.WF] < batch_size:
            break
    return PruneReport(workflows=totals[store.WF], rows=dict(totals), batches=batches)
