"""A paginator that never counts a whole big table: exact up to a bound, the planner's estimate past it."""

from __future__ import annotations

import json
from typing import Any

from django.core.paginator import Paginator
from django.db import DatabaseError, connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

EXACT_UP_TO = 10_000


def planner_estimate(queryset: QuerySet[Any]) -> int | None:
    """The number of rows the database's planner expects ``queryset`` to return, where it says (EXPLAIN JSON)."""
    features = connections[queryset.db].features
    if "JSON" not in getattr(features, "supported_explain_formats", set()):
        return None
    try:
        plan = json.loads(queryset.order_by().explain(format="json"))
    except (DatabaseError, ValueError):
        return None
    if isinstance(plan, list):
        plan = plan[0]
    rows = plan.get("Plan", {}).get("Plan Rows") if isinstance(plan, dict) else None
    return int(rows) if isinstance(rows, (int, float)) else None


class EstimatedCountPaginator(Paginator):
    """Count exactly while the rows are few; past ``EXACT_UP_TO``, take the planner's estimate.

    ``estimated`` tells the template to say "about". Where the database gives no estimate
    (SQLite), the count is exact: such databases are not the ones holding millions of rows.
    """

    exact_up_to = EXACT_UP_TO
    estimated = False  # set once ``count`` is an estimate

    @cached_property
    def count(self) -> int:
        """The exact count if it is at most ``exact_up_to``, else an estimate no smaller than that."""
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        bounded = queryset.order_by()[: self.exact_up_to + 1].count()
        if bounded <= self.exact_up_to:
            return bounded
        estimate = planner_estimate(queryset)
        if estimate is None:
            return queryset.count()
        self.estimated = True
        return max(estimate, bounded)
