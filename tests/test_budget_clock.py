"""The time left that the epoch lines print: the budget's end when it comes before the epochs' end."""

from tasks.train.budget import TimeBudget
from tasks.train.loop import sooner


class _Loop:
    budget_left = None


def test_the_budget_bounds_the_time_left_and_unknowns_are_skipped():
    now = [100.0]
    budget, loop = TimeBudget(2.0, clock=lambda: now[0]), _Loop()
    budget.on_train_begin(loop)
    now[0] += 30
    assert loop.budget_left() == 90.0
    assert sooner(11_132_710.0, loop.budget_left()) == 90.0  # a 1,000,000-epoch estimate under a 2-minute budget
    assert sooner(40.0, loop.budget_left()) == 40.0
    assert sooner(None, None) is None and sooner(-5.0) == 0.0
