"""The month-end run (``npldesk month-end``): the steps a branch network's month-end takes after
the month's import, in order, as one run with a record of each step (``docs/month-end.md``).

``run_month_end`` runs the steps of ``STEPS`` that are not done yet: a failed step stops the run
(its error recorded), the next call resumes from it with the parameters the run started with,
and a run that is done is not run again (nothing is written). Steps join the run by
registration (``register_step``), one line each.
"""

from npldesk.monthend.run import (
    STEPS,
    MonthEndResult,
    RunContext,
    Step,
    StepFailed,
    register_step,
    run_month_end,
)

__all__ = [
    "STEPS",
    "MonthEndResult",
    "RunContext",
    "Step",
    "StepFailed",
    "register_step",
    "run_month_end",
]
