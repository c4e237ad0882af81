"""Rule-set parameters for classification, with the defaults of ``docs/figures.md`` §1.

Every threshold is a parameter, set in ``npldesk.toml`` under ``[rules.<name>]``; a figure
computed with other parameters is a different figure, so the parameters' fingerprint is
recorded with every derived (classified) snapshot.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from npldesk.core.classes import LoanClass
from npldesk.core.errors import UsageError

RULE_SETS = ("cn-2023", "eu-npe")


@dataclass(frozen=True)
class RuleParams:
    """The parameters of one rule set.

    cn-2023: 《商业银行金融资产风险分类办法》 (NFRA/PBoC Order 2023 No. 1). DPD ladder 90/270/360
    (confirmed by the regulator's Q&A; "超过N天" read as dpd > N), credit-impaired → at least
    substandard, restructured assets at least special mention during the observation period
    (Art. 17 ff.), the bank's grade as a floor it may worsen, non-retail contagion above 10 %
    (Art. 7 para 2, confirmed), and six months of normal payment before an upgrade (upgrade
    conditions, secondary source: a parameter).
    eu-npe: EBA/GL/2016/07 and CRR Art. 47a: non-performing above 90 days past due or impaired,
    pulling effect above 20 % of the debtor's exposure, three-month probation (cure period).
    """

    name: str = "cn-2023"
    grace_days: int = 0
    substandard_dpd: int = 90
    doubtful_dpd: int = 270
    loss_dpd: int = 360
    restructure_observation_months: int = 12
    restructured_floor: LoanClass = LoanClass.SPECIAL_MENTION
    contagion_share: Decimal = Decimal("0.10")
    probation_months: int = 6
    # eu-npe only
    pulling_share: Decimal = Decimal("0.20")

    def fingerprint(self) -> str:
        """A short hash of every parameter: derived data made with other values is stale."""
        data = {k: str(v.value if isinstance(v, LoanClass) else v) for k, v in asdict(self).items()}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def default_params(name: str = "cn-2023") -> RuleParams:
    if name == "cn-2023":
        return RuleParams()
    if name == "eu-npe":
        return RuleParams(name="eu-npe", substandard_dpd=90, probation_months=3)
    raise UsageError(f"unknown rule set {name!r}; known: {', '.join(RULE_SETS)}")


def params_from_config(config: dict[str, Any], name: str | None = None) -> RuleParams:
    """The parameters from ``npldesk.toml``'s ``[rules]`` table over the rule set's defaults."""
    rules = config.get("rules", {}) if isinstance(config.get("rules"), dict) else {}
    chosen = name or str(rules.get("set", "cn-2023"))
    params = default_params(chosen)
    overrides = rules.get(chosen, {})
    if not isinstance(overrides, dict):
        raise UsageError(f"npldesk.toml: [rules.{chosen}] must be a table")
    known = {f.name for f in fields(RuleParams)} - {"name"}
    unknown = set(overrides) - known
    if unknown:
        raise UsageError(
            f"npldesk.toml: unknown parameter(s) in [rules.{chosen}]: {', '.join(sorted(unknown))}"
        )
    values: dict[str, Any] = {}
    for key, raw in overrides.items():
        try:
            if key == "restructured_floor":
                values[key] = LoanClass.from_label(str(raw))
            elif key in ("contagion_share", "pulling_share"):
                values[key] = Decimal(str(raw))
            else:
                values[key] = int(raw)
        except (ValueError, InvalidOperation) as exc:
            raise UsageError(
                f"npldesk.toml: [rules.{chosen}] {key} = {raw!r} is not valid"
            ) from exc
        if key.endswith(("_dpd", "_months", "_days")) and values[key] < 0:
            raise UsageError(f"npldesk.toml: [rules.{chosen}] {key} must not be negative")
    return replace(params, **values)
