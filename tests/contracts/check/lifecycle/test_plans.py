"""Which jobs the lifecycle run plans for the buttons: a non-square grid, and the --v 5 chain for v5's upscalers."""

from __future__ import annotations

from contracts.check.lifecycle import _claim
from contracts.check.lifecycle.plans import LifecycleSettings, job_plans
from contracts.core.budget import JobBudget


def test_the_grid_is_non_square_and_a_v5_grid_leads_to_u1_on_it() -> None:
    plans = job_plans(LifecycleSettings(seed=1), None)
    names = [p.name for p in plans]
    grid, v5, button, v5_button = (
        plans[names.index(n)] for n in ("mj-imagine", "mj-imagine --v 5", "button", "button --v 5")
    )
    assert grid.body["prompt"].endswith(" --ar 3:2")  # the documented example has no --ar: its grid would be square
    assert v5.body["prompt"] == f"{grid.body['prompt']} --v 5"
    assert (v5.only_upscalers, v5_button.only_upscalers, grid.only_upscalers) == (True, True, False)
    assert (v5_button.after, button.after) == (v5.name, grid.name)
    assert names.index(v5.name) == names.index(grid.name) + 1  # started early: its chain is the deepest


def test_under_a_budget_the_v5_chain_is_claimed_after_every_other_kind() -> None:
    plans = job_plans(LifecycleSettings(seed=1), None)
    others = [p for p in plans if not p.only_upscalers]
    claimed = _claim(JobBudget(len(others) + 2), plans)  # room for the others while 2 stay spare for the probes
    assert [p.name for p in plans if claimed[p.name]] == [p.name for p in others]
