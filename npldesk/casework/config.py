"""Casework settings from the home's ``npldesk.toml``: rule thresholds and the policy table."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from npldesk.casework.clocks import Calendar, calendar_from_config
from npldesk.casework.conduct import ConductParams, conduct_params
from npldesk.casework.rules import CaseworkParams, PolicyRow, casework_params, policy_from_config
from npldesk.home import load_home


@dataclass(frozen=True)
class CaseworkSettings:
    params: CaseworkParams
    policy: tuple[PolicyRow, ...]
    conduct: ConductParams = field(default_factory=ConductParams)
    calendar: Calendar = field(default_factory=Calendar)


@functools.cache
def _for_home(home: str | None) -> CaseworkSettings:
    config = load_home(home, must_exist=False).config
    return CaseworkSettings(
        casework_params(config),
        policy_from_config(config),
        conduct_params(config),
        calendar_from_config(config),
    )


def casework_settings() -> CaseworkSettings:
    """The settings of the home Django runs in (read once per process and home)."""
    return _for_home(os.environ.get("NPLDESK_HOME"))
