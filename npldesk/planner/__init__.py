"""The double-reduction planner (``docs/planner.md``): above casework, beside the reports.

The year-end forecast itself is an analytics function (``npldesk.analytics.forecast``: it
reads only the tape store). Here live what needs the casework as well: the required reduction
per unit (``levers.required_reduction``), the levers that close it and their capacities, the
proposed mix at the least expected loss (``levers.propose_mix``), the casework pipeline and
recovery rates they are sized on (``pipeline``), and the ``plan`` document the faces show
(``plan.plan_report``, ``plan.backtest_report``).
"""
