"""Claim verdicts follow their stated rules on synthetic tables."""

import numpy as np
import pandas as pd

from analysis import claims


def model_error_table(exponent: float, runs: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(runs):
        for t in range(1, 30):
            mse = 1e-4 * t**exponent * np.exp(rng.normal(scale=0.05))
            rows.append({"mode": "mean", "t": t, "mse": mse, "n": 10, "variant": "mbpo-k1",
                         "env": "e", "seed": seed})  # fmt: skip
    return pd.DataFrame(rows)


def test_model_error_verdict_depends_on_whether_two_is_in_the_ci():
    (row,) = claims.model_error_exponent(model_error_table(2.0))
    assert row["verdict"] == "supported" and row["ci_low"] <= 2.0 <= row["ci_high"]
    (row,) = claims.model_error_exponent(model_error_table(1.0))
    assert row["verdict"] == "not supported" and abs(row["effect"] - 1.0) < 0.05
    (row,) = claims.model_error_exponent(model_error_table(2.0, runs=2))
    assert row["verdict"] == "inconclusive"


def timings_table(mpc_ms: float) -> pd.DataFrame:
    rows = [{"variant": v, "method": m, "env": "e", "seed": s, "env_step": 100,
             "name": "time/policy_ms_per_action", "value": ms * (1 + 0.1 * s)}
            for v, m, ms in (("mpc-cem", "mpc", mpc_ms), ("sac", "sac", 0.1))
            for s in range(4)]  # fmt: skip
    return pd.DataFrame(rows)


def test_decision_cost_rule():
    (row,) = claims.decision_cost(timings_table(100.0))
    assert row["verdict"] == "supported" and row["effect"] > 100
    (row,) = claims.decision_cost(timings_table(0.2))
    assert row["verdict"] == "not supported"


def test_branched_efficiency_uses_auc_on_the_common_range():
    rows = []
    for method, level, last in (("mbpo", 900.0, 5000), ("sac", 100.0, 15000), ("dyna", 95.0, 5000)):
        for seed in range(4):
            for step in range(1000, last + 1, 1000):
                # SAC catches up after 5k steps: beyond the common range, it must not count
                value = level + seed if step <= 5000 else 1000.0
                rows.append({"variant": method, "method": method, "env": "e", "seed": seed,
                             "env_step": step, "eval_return_mean": value})  # fmt: skip
    result = claims.branched_efficiency(pd.DataFrame(rows))
    assert [r["verdict"] for r in result] == ["supported", "supported"]
    assert all(r["effect"] == 1.0 for r in result)
    # a short MPC run on the same env does not shrink the MBPO-vs-SAC range, and an env
    # without MBPO gives no row
    for seed in range(4):
        rows += [{"variant": "mpc", "method": "mpc", "env": "e", "seed": seed, "env_step": 300,
                  "eval_return_mean": 5.0},
                 {"variant": "sac", "method": "sac", "env": "other", "seed": seed,
                  "env_step": 1000, "eval_return_mean": 5.0}]  # fmt: skip
    result = claims.branched_efficiency(pd.DataFrame(rows))
    assert [r["measure"] for r in result] == ["P(AUC_mbpo > AUC_sac) to 5000 steps",
                                              "P(AUC_mbpo > AUC_dyna) to 5000 steps"]  # fmt: skip
    assert [r["verdict"] for r in result] == ["supported", "supported"]
