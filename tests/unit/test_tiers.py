"""Every shipped tier (config/*.yaml) passes the schema and resolves every (variant, env)."""

from pathlib import Path

import pytest

from methods.common.config import check_tier, load_config_file, schema_problem
from methods.common.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
TIERS = sorted((ROOT / "config").glob("*.yaml"))


def test_the_tiers_are_found():
    assert {p.name for p in TIERS} >= {"smoke.yaml", "mid.yaml", "config.yaml", "paper.yaml"}


@pytest.mark.parametrize("path", TIERS, ids=lambda p: p.name)
def test_tier_is_valid(path):
    tier = load_config_file(path)
    assert schema_problem(tier, ROOT / "workflow/schemas/config.schema.yaml") is None
    assert check_tier(tier) >= len(tier["variants"])


@pytest.mark.parametrize(
    ("key", "message"),
    [("heldout", "heldout policy_variant 'sacc' is not a variant"),
     ("chaos", "chaos variant 'sacc' is not a variant")],
)  # fmt: skip
def test_a_diagnostic_naming_an_unknown_variant_is_refused(key, message):
    tier = load_config_file(ROOT / "config/smoke.yaml")
    tier[key] = {**tier[key], ("policy_variant" if key == "heldout" else "variant"): "sacc"}
    with pytest.raises(UserError, match=message):
        check_tier(tier)
