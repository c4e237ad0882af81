"""``/planner/``: the double-reduction planner for leaders and risk analysts."""
