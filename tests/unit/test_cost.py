"""The tier cost table: core-hours per rule and the wall time of a list schedule."""

import pandas as pd
import pytest

from analysis.cost import main, per_rule, read_jobs, wall_hours
from methods.common.errors import UserError


def write_tier(root, train_seconds, bench):
    (root / "tables").mkdir(parents=True)
    rows = [{"variant": v, "env": e, "seed": s, "wall_s": t} for (v, e, s), t in
            train_seconds.items()]  # fmt: skip
    pd.DataFrame(rows).to_csv(root / "tables" / "provenance.csv", index=False)
    for rel, seconds in bench.items():
        path = root / "benchmarks" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0\t100\n")


def test_jobs_are_read_with_their_run_and_rules_are_summed(tmp_path):
    write_tier(tmp_path, {("sac", "A", 0): 3600.0, ("mbpo", "A", 0): 7200.0},
               {"model_error/mbpo/A/s0.tsv": 360, "chaos/A/s0.tsv": 720,
                "heldout/A_policy.tsv": 36, "claims.tsv": 3.6})  # fmt: skip
    jobs = read_jobs(tmp_path)
    assert len(jobs) == 6
    row = jobs[jobs.rule == "model_error"].iloc[0]
    assert (row.variant, row.env, row.seed) == ("mbpo", "A", 0)
    assert set(jobs.rule) == {"train", "model_error", "chaos", "heldout_policy", "claims"}
    table = per_rule(jobs)
    assert table.iloc[0].rule == "train" and table.iloc[0].core_h == pytest.approx(3.0)
    assert table.iloc[0].jobs == 2 and table.iloc[0].longest_h == pytest.approx(2.0)


def test_wall_time_schedules_longest_first_and_waits_for_each_run(tmp_path):
    # 3 runs of 3, 2 and 1 h on 2 cores: LPT ends training at 3 h (3 | 2+1); the model
    # error of the 3-h run (0.5 h) can only start at 3 h; claims (0.1 h) come last
    write_tier(tmp_path, {("a", "E", 0): 3 * 3600, ("b", "E", 0): 2 * 3600,
                          ("c", "E", 0): 3600},
               {"model_error/a/E/s0.tsv": 1800, "claims.tsv": 360})  # fmt: skip
    jobs = read_jobs(tmp_path)
    assert wall_hours(jobs, 2) == pytest.approx(3.5 + 0.1)
    assert wall_hours(jobs, 1) == pytest.approx(6.5 + 0.1)  # one core: the sum


def test_a_tier_without_provenance_is_one_error_line(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "provenance.csv is missing" in err
    with pytest.raises(UserError, match="--cores"):
        wall_hours(pd.DataFrame(columns=["rule", "seconds"]), 0)


def test_model_error_waits_for_its_envs_held_out_sets_and_odd_names_are_refused(tmp_path):
    # one 1-h run on 2 cores; the trained policy's held-out set (0.5 h) waits for the run,
    # the model error (0.25 h) for both: 1 + 0.5 + 0.25 h
    write_tier(tmp_path, {("a", "E", 0): 3600},
               {"heldout/E_policy.tsv": 1800, "model_error/a/E/s0.tsv": 900})  # fmt: skip
    assert wall_hours(read_jobs(tmp_path), 2) == pytest.approx(1.75)
    write_tier(tmp_path / "odd", {("a", "E", 0): 3600}, {"chaos/E/s0-old.tsv": 1})
    with pytest.raises(UserError, match="expected a file named s<seed>.tsv"):
        read_jobs(tmp_path / "odd")


def test_a_job_that_shared_its_core_costs_its_cpu_seconds(tmp_path):
    """Core-hours are CPU time: a job run beside others on an oversubscribed machine took
    longer but used no more CPU. Training counts the CPU seconds its meta.json kept over all
    attempts or, where an attempt predates them, scales the run's kept wall seconds by its
    last attempt's CPU share; other rules use their cpu_time; files without cpu_time count
    wall seconds."""
    runs = {("a", "E", 0): 7200.0, ("b", "E", 0): 3600.0, ("c", "E", 0): 5000.0}
    write_tier(tmp_path, runs, {})
    prov = pd.read_csv(tmp_path / "tables/provenance.csv")
    prov["last_attempt_s"] = [3600.0, None, 1000.0]
    prov["last_attempt_cpu_s"] = [1800.0, None, 100.0]  # a: half a core in its last attempt
    prov["cpu_s"] = [None, None, 4000.0]  # c: measured over all its attempts
    prov.to_csv(tmp_path / "tables/provenance.csv", index=False)
    path = tmp_path / "benchmarks/chaos/E/s0.tsv"
    path.parent.mkdir(parents=True)
    path.write_text("s\th:m:s\tmax_rss\tmean_load\tcpu_time\n1000\t0\t100\t40\t400\n")
    jobs = read_jobs(tmp_path).set_index(["rule", "variant"], drop=False)
    assert jobs.loc[("train", "a"), "seconds"] == pytest.approx(3600.0)
    assert jobs.loc[("train", "b"), "seconds"] == pytest.approx(3600.0)
    assert jobs.loc[("train", "c"), "seconds"] == pytest.approx(4000.0)
    assert jobs[jobs.rule == "chaos"].seconds.iloc[0] == pytest.approx(400.0)
