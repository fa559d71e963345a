"""Each claim's pre-registered rule gives the verdict the synthetic truth implies: supported
where the effect is there, refuted where the opposite holds, inconclusive where the groups
are equal (issue 36). The null rates of the tests themselves are calibrated in
tests/unit/test_verdicts.py and studies/claims_calibration/."""

import numpy as np
import pandas as pd
import pytest

from analysis import claims

SEEDS = range(5)
ENVS = ("env-a", "env-b")


def gap_table(exponent: float, variant: str = "mbpo-k5", spread: float = 0.02,
              signed: float = 0.0) -> pd.DataFrame:  # fmt: skip
    """Return gaps |J_model - J_real| = 0.1 H^p with p ~ N(exponent, spread) per seed."""
    rng = np.random.default_rng(int(exponent * 100) + len(variant))
    rows = []
    for env in ENVS:
        for seed in SEEDS:
            p = exponent + rng.normal(scale=spread)
            for h in (1, 5, 15, 50, 200):
                for start in range(3):
                    gap = 0.1 * h**p + signed * h
                    rows.append({"variant": variant, "env": env, "seed": seed, "start": start,
                                 "H": h, "gap": gap, "abs_gap": abs(gap)})  # fmt: skip
    return pd.DataFrame(rows)


def empty_tables(**extra) -> dict:
    base = {name: pd.DataFrame(columns=["variant", "env", "seed", "env_step", "name", "value",
                                        "eval_return_mean"]) for name in claims.TABLES}  # fmt: skip
    return {**base, **extra}


@pytest.mark.parametrize(("exponent", "verdict"),
                         [(2.0, "supported"), (1.0, "refuted"), (3.0, "refuted")])  # fmt: skip
def test_compounding_error_is_an_equivalence_test_on_the_return_gap_exponent(exponent, verdict):
    rows = claims.compounding_error(empty_tables(return_gap=gap_table(exponent)),
                                    claims.design_from(None))  # fmt: skip
    primary = [r for r in rows if r["claim"] == claims.CLAIMS["1"]]
    assert [r["env"] for r in primary] == list(ENVS)
    assert {r["verdict"] for r in primary} == {verdict}
    assert all(abs(r["effect"] - exponent) < 0.1 for r in primary)
    assert all(np.isfinite(r["p_holm"]) for r in primary)


def test_a_noisy_exponent_is_not_supported_for_containing_two():
    """The old rule called '2 in the CI' supported; with a wide spread it is inconclusive."""
    rows = claims.compounding_error(empty_tables(return_gap=gap_table(2.3, spread=1.0)),
                                    claims.design_from(None))  # fmt: skip
    primary = [r for r in rows if r["claim"] == claims.CLAIMS["1"]]
    assert {r["verdict"] for r in primary} <= {"inconclusive", "refuted"}


def test_a_missing_measurement_is_inconclusive_and_says_why():
    rows = claims.compounding_error(empty_tables(), claims.design_from(None))
    assert rows[0]["verdict"] == "inconclusive" and "no return-gap" in rows[0]["note"]


def test_claims_name_their_variants_and_never_pool():
    """A second MBPO variant with the opposite result does not enter the comparison."""
    mixed = pd.concat([gap_table(2.0), gap_table(1.0, variant="mbpo-k1")])
    rows = claims.compounding_error(empty_tables(return_gap=mixed), claims.design_from(None))
    primary = [r for r in rows if r["claim"] == claims.CLAIMS["1"]]
    assert {r["variants"] for r in primary} == {"mbpo-k5"}
    assert {r["verdict"] for r in primary} == {"supported"}


def test_dyna_exploitation_needs_a_positive_gap_larger_than_mbpos():
    dyna = gap_table(1.0, variant="dyna-h50", signed=0.5)  # gap 0.1 H + 0.5 H > 0
    mbpo = gap_table(1.0, variant="mbpo-k5", signed=-0.2)
    rows = claims.dyna_exploitation(empty_tables(return_gap=pd.concat([dyna, mbpo])),
                                    claims.design_from(None))  # fmt: skip
    assert {r["verdict"] for r in rows} == {"supported"}
    swapped = pd.concat([dyna.assign(variant="mbpo-k5"), mbpo.assign(variant="dyna-h50")])
    rows = claims.dyna_exploitation(empty_tables(return_gap=swapped), claims.design_from(None))
    assert {r["verdict"] for r in rows} == {"refuted"}


def returns_table(levels: dict[str, float], runs: dict[str, tuple[int, int]]) -> dict:
    """Eval returns every 500 steps: ``levels[variant] + seed`` after the variant's random
    steps, 0 before; ``runs[variant] = (random_steps, env_steps)``."""
    rows, run_rows = [], []
    for variant, level in levels.items():
        random_steps, env_steps = runs[variant]
        for env in ENVS:
            for seed in SEEDS:
                run_rows.append({"variant": variant, "env": env, "seed": seed,
                                 "random_steps": random_steps, "env_steps": env_steps})  # fmt: skip
                for step in range(500, env_steps + 1, 500):
                    value = level + seed if step > random_steps else 0.0
                    rows.append({"variant": variant, "env": env, "seed": seed,
                                 "env_step": step, "eval_return_mean": value})  # fmt: skip
    return {"returns": pd.DataFrame(rows), "runs": pd.DataFrame(run_rows)}


def test_branched_rollouts_compare_after_every_variants_warm_up_on_the_common_budget():
    """SAC catches up after MBPO's budget and is 0 during its own longer warm-up: neither
    window may count. Equal groups in the window are inconclusive, never supported."""
    rivals = {"against": ["sac-matched", "dyna-h50"]}
    design = claims.design_from({"claims": {"branched_rollouts": rivals}})
    tables = returns_table({"mbpo-k5": 900.0, "sac-matched": 100.0, "dyna-h50": 900.0},
                           {"mbpo-k5": (1000, 5000), "sac-matched": (2000, 15000),
                            "dyna-h50": (1000, 5000)})  # fmt: skip
    rows = claims.branched_rollouts(empty_tables(**tables), design)
    by_rival = {(r["variants"], r["env"]): r for r in rows}
    assert {by_rival[("mbpo-k5 vs sac-matched", e)]["verdict"] for e in ENVS} == {"supported"}
    assert {by_rival[("mbpo-k5 vs dyna-h50", e)]["verdict"] for e in ENVS} == {"inconclusive"}
    assert "(2000, 5000]" in by_rival[("mbpo-k5 vs sac-matched", "env-a")]["measure"]
    assert by_rival[("mbpo-k5 vs sac-matched", "env-a")]["effect"] == pytest.approx(800.0)


def timings(mpc_ms: float) -> pd.DataFrame:
    rows = [{"variant": v, "env": e, "seed": s, "env_step": 100,
             "name": "time/policy_ms_per_action", "value": ms * (1 + 0.1 * s)}
            for v, ms in (("mpc-cem", mpc_ms), ("mbpo-k5", 0.1)) for e in ENVS
            for s in SEEDS]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("mpc_ms", "policy_level", "verdict"),
                         [(100.0, 900.0, "supported"), (0.5, 900.0, "refuted"),
                          (100.0, 10.0, "inconclusive")])  # fmt: skip
def test_decision_cost_is_a_ratio_above_ten_at_matched_return(mpc_ms, policy_level, verdict):
    tables = returns_table({"mpc-cem": 900.0, "mbpo-k5": policy_level},
                           {"mpc-cem": (0, 2000), "mbpo-k5": (0, 2000)})  # fmt: skip
    rows = claims.decision_cost(empty_tables(**tables, timings=timings(mpc_ms)),
                                claims.design_from(None))  # fmt: skip
    assert {r["verdict"] for r in rows} == {verdict}
    if verdict == "supported":
        assert all(abs(r["effect"] - 1000.0) < 1.0 for r in rows)  # the ratio, not its log


def test_distribution_mismatch_compares_matched_rollout_steps():
    """Dyna is farther from the real data at steps 1..5 but nearer beyond: only 1..k counts."""
    rows = []
    for variant, near, far in (("dyna-h50", 2.0, 0.1), ("mbpo-k5", 1.0, 9.0)):
        for env in ENVS:
            for seed in SEEDS:
                for step in (1000, 2000):
                    for t in range(1, 51 if variant == "dyna-h50" else 6):
                        value = (near if t <= 5 else far) + 0.01 * seed
                        rows.append({"variant": variant, "env": env, "seed": seed,
                                     "env_step": step, "value": value,
                                     "name": f"rollout/nn_distance_step{t:04d}"})  # fmt: skip
    runs = pd.DataFrame([{"variant": "mbpo-k5", "env": e, "seed": s, "rollout_length": 5}
                         for e in ENVS for s in SEEDS])  # fmt: skip
    result = claims.distribution_mismatch(empty_tables(metrics=pd.DataFrame(rows), runs=runs),
                                          claims.design_from(None))  # fmt: skip
    assert {r["verdict"] for r in result} == {"supported"}
    assert all(r["effect"] == pytest.approx(1.0) for r in result)


def chaos_tables(ftle: float, exponential: bool) -> dict:
    rng = np.random.default_rng(1)
    summary, diag = [], []
    for env in ENVS:
        for seed in SEEDS:
            summary.append({"env": env, "seed": seed, "ftle": ftle + rng.normal(scale=0.01)})
            for h in (1, 2, 5, 10, 20, 50):
                g = (np.exp(0.2 * h) if exponential else h**1.0) * np.exp(rng.normal(scale=0.02))
                diag.append({"env": env, "seed": seed, "horizon": h,
                             "grad_norm_per_discount": g})  # fmt: skip
    return {"chaos_summary": pd.DataFrame(summary),
            "chaos_gradient_diagnostics": pd.DataFrame(diag)}  # fmt: skip


@pytest.mark.parametrize(("ftle", "exponential", "verdict"),
                         [(0.2, True, "supported"), (0.2, False, "inconclusive"),
                          (-0.2, False, "refuted")])  # fmt: skip
def test_bptt_explosion_needs_a_positive_lyapunov_exponent_and_exponential_growth(
    ftle, exponential, verdict
):
    rows = claims.bptt_gradients(empty_tables(**chaos_tables(ftle, exponential)),
                                 claims.design_from(None))  # fmt: skip
    assert {r["verdict"] for r in rows} == {verdict}


def test_unknown_claim_in_the_config_is_refused():
    with pytest.raises(ValueError, match="unknown claim 'typo'"):
        claims.design_from({"claims": {"typo": {}}})


def test_help_states_every_rule(capsys):
    with pytest.raises(SystemExit):
        claims.main(["--help"])
    text = capsys.readouterr().out
    assert all(claims.CLAIMS[k] in text for k in claims.CLAIMS)
    assert "TOST against 2 with margin 0.5" in text


def test_claims_3_and_6_have_rows_only_where_both_variants_run():
    """The default tier runs mbpo-k5 on four envs and dyna-h50 on two: a Dyna-vs-MBPO row on
    an env without Dyna is no claim row ("not decidable" noise), as claim 4 already did."""
    dyna = gap_table(1.0, variant="dyna-h50", signed=0.5)
    mbpo = gap_table(1.0, variant="mbpo-k5", signed=-0.2)
    only_a = pd.concat([dyna[dyna.env == "env-a"], mbpo])
    rows = claims.dyna_exploitation(empty_tables(return_gap=only_a), claims.design_from(None))
    assert [r["env"] for r in rows] == ["env-a"] and rows[0]["verdict"] == "supported"
    metrics = []
    for variant, value in (("dyna-h50", 2.0), ("mbpo-k5", 1.0)):
        for env in ENVS if variant == "mbpo-k5" else ("env-a",):
            for seed in SEEDS:
                for t in range(1, 6):
                    metrics.append({"variant": variant, "env": env, "seed": seed,
                                    "env_step": 1000, "value": value + 0.01 * seed,
                                    "name": f"rollout/nn_distance_step{t:04d}"})  # fmt: skip
    runs = pd.DataFrame([{"variant": "mbpo-k5", "env": e, "seed": s, "rollout_length": 5}
                         for e in ENVS for s in SEEDS])  # fmt: skip
    rows = claims.distribution_mismatch(
        empty_tables(metrics=pd.DataFrame(metrics), runs=runs), claims.design_from(None)
    )
    assert [r["env"] for r in rows] == ["env-a"] and rows[0]["verdict"] == "supported"


def test_seeds_to_decide_says_when_no_affordable_number_decides():
    # inf (no n up to the cap decides) was printed as a dash, like a missing estimate
    assert claims.seeds_cell(float("inf")) == f"> {claims.SEEDS_CAP}"
    assert claims.seeds_cell(float("nan")) == "–"
    assert claims.seeds_cell(12.0) == "12"
