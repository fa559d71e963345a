"""Hopper replication (issue 38): window means, P(MBPO > SAC), unfinished runs, figure, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import replication as rep

STEPS = np.arange(1000, 100_001, 1000)
REPS = 2000  # bootstrap replicates in tests (the CLI default is 50,000)


def _run(method: str, seed: int, level: float, steps: np.ndarray = STEPS) -> pd.DataFrame:
    """A run that returns ``level`` at every evaluation (its window mean is ``level``)."""
    variant = {"MBPO": "mbpo-sched", "SAC": "sac"}[method]
    return pd.DataFrame({"variant": variant, "method": method, "env": rep.ENV, "seed": seed,
                         "env_step": steps, "eval_return_mean": level})  # fmt: skip


def _curve(source: str, method: str, seed: int, steps: list[int], values: list[float]):
    return pd.DataFrame({"source": source, "method": method, "env": rep.ENV,
                         "env_version": "Hopper-v4", "seed": seed, "env_step": steps,
                         "return": values})  # fmt: skip


@pytest.fixture
def runs() -> pd.DataFrame:
    """MBPO seeds flat at 3000, 2600, 2000; SAC at 1000, 1200, 1400 and one stopped at 80k."""
    parts = [_run("MBPO", s, v) for s, v in enumerate([3000.0, 2600.0, 2000.0])]
    parts += [_run("SAC", s, v) for s, v in enumerate([1000.0, 1200.0, 1400.0])]
    parts.append(_run("SAC", 3, 5000.0, steps=STEPS[STEPS <= 80_000]))  # unfinished
    return pd.concat(parts, ignore_index=True)


@pytest.fixture
def reference() -> pd.DataFrame:
    """Published SAC: 4 seeds with one evaluation in the window (95k); MBPO: 1 seed at 2500."""
    sac = [_curve("pubsac", "SAC", s, [50_000, 95_000, 120_000], [0.0, v, 0.0])
           for s, v in enumerate([500.0, 1100.0, 1300.0, 2000.0])]  # fmt: skip
    mbpo = _curve("pubmbpo", "MBPO", 0, [80_000, 90_000, 100_000, 110_000], [0, 2400, 2600, 0])
    return pd.concat([*sac, mbpo], ignore_index=True)


def _row(table: pd.DataFrame, source: str) -> pd.Series:
    return table.set_index("source").loc[source]


def test_summary_numbers_on_known_means(runs, reference):
    table = rep.summary(runs, reference, reps=REPS)
    mbpo, sac = _row(table, "ours (mbpo-sched)"), _row(table, "ours (sac)")
    assert mbpo.n_finished == 3 and mbpo["mean"] == pytest.approx(7600 / 3)
    assert mbpo.window_means == "s0 3000; s1 2600; s2 2000"
    assert mbpo.n_reach_threshold == 2  # 3000 and 2600 >= 2500
    assert 2000 <= mbpo.ci_low < mbpo["mean"] < mbpo.ci_high <= 3000  # bootstrap of 3 means
    # every MBPO seed beats every SAC seed: P = 1 and every resample agrees
    assert (mbpo.p_mbpo_gt_sac, mbpo.p_ci_low, mbpo.p_ci_high) == (1.0, 1.0, 1.0)
    assert np.isnan(sac.p_mbpo_gt_sac)
    # percentiles (kind="mean") among the published seeds of the same method:
    # MBPO vs {2500}: 100, 100, 0; SAC vs {500, 1100, 1300, 2000}: 25, 50, 75
    assert mbpo.percentile_vs_published == pytest.approx(200 / 3)
    assert sac.percentile_vs_published == pytest.approx(50.0)
    pub = _row(table, "pubmbpo")
    assert pub["mean"] == pytest.approx(2500.0) and np.isnan(pub.ci_low)  # 90k and 100k only
    assert _row(table, "pubsac")["mean"] == pytest.approx(1225.0)


def test_unfinished_run_is_reported_not_averaged(runs, reference):
    table = rep.summary(runs, reference, reps=REPS)
    sac = _row(table, "ours (sac)")
    assert (sac.n_seeds, sac.n_finished) == (4, 3)
    assert sac["mean"] == pytest.approx(1200.0)  # the 5000-return seed is left out
    assert "s3: unfinished (last evaluation at 80,000 steps)" in sac.unfinished
    seeds = rep.seed_table(runs, reference).set_index(["source", "seed"])
    s3 = seeds.loc[("ours (sac)", 3)]
    assert not s3.finished and np.isnan(s3.window_mean) and not s3.reaches_threshold


def test_run_stopping_inside_the_window_is_unfinished(reference):
    runs = pd.concat([_run("MBPO", 0, 3000.0, steps=STEPS[STEPS <= 95_000]),
                      _run("SAC", 0, 1000.0)])  # fmt: skip
    table = rep.summary(runs, reference, reps=REPS)
    mbpo = _row(table, "ours (mbpo-sched)")
    assert mbpo.n_finished == 0 and np.isnan(mbpo["mean"]) and np.isnan(mbpo.p_mbpo_gt_sac)


def test_window_mean_averages_the_evaluations_inside_the_window_only(reference):
    runs = _run("MBPO", 0, 0.0).assign(eval_return_mean=STEPS / 100.0)
    seeds = rep.seed_table(runs, reference).set_index("source")
    row = seeds.loc["ours (mbpo-sched)"]
    assert row.n_window_evals == 11  # 90k, 91k, ..., 100k
    assert row.window_mean == pytest.approx(950.0)


def test_positions_place_each_seed_among_each_published_curve(runs, reference):
    pos = rep.positions(rep.seed_table(runs, reference))
    sac = pos[pos.published.str.startswith("SAC") & pos.ours.str.startswith("SAC")]
    assert sac.set_index("seed").percentile.to_dict() == {0: 25.0, 1: 50.0, 2: 75.0}
    assert set(sac.published_seeds) == {4}
    assert sac.published_median.iloc[0] == pytest.approx(1200.0)


def test_figure_files_are_written(runs, reference, tmp_path):
    png, pdf = tmp_path / "hop.png", tmp_path / "hop.pdf"
    rep.hopper_replication(runs, reference, png, pdf)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    fig = rep.replication_figure(runs, reference)
    labels = fig.axes[0].get_legend().get_texts()
    text = " ".join(t.get_text() for t in labels)
    assert "SAC here (sac, Hopper-v5): mean, 95% CI; 4 seeds, 1 unfinished" in text
    assert "SAC, pubsac (Hopper-v4): mean, min-max of 4 seeds" in text
    assert "MBPO, pubmbpo (Hopper-v4): 1 seed" in text


def _write_runs(root: Path, runs: pd.DataFrame) -> None:
    for (variant, seed), group in runs.groupby(["variant", "seed"]):
        folder = root / variant / rep.ENV / f"s{seed}"
        folder.mkdir(parents=True)
        group.assign(eval_return_std=0.0, n_episodes=5)[
            ["env_step", "eval_return_mean", "eval_return_std", "n_episodes"]
        ].to_csv(folder / "returns.csv", index=False)


def test_cli_writes_figure_and_tables(runs, reference, tmp_path, capsys):
    _write_runs(tmp_path / "runs", runs)
    (tmp_path / "ref").mkdir()
    reference.to_csv(tmp_path / "ref" / "curves_hopper_test.csv", index=False)
    out = tmp_path / "fig" / "hopper_replication"
    argv = ["--runs", str(tmp_path / "runs"), "--reference", str(tmp_path / "ref"),
            "--out", str(out), "--reps", str(REPS)]  # fmt: skip
    assert rep.main(argv) == 0
    for suffix in (".png", ".pdf", ".md", "_summary.csv", "_seeds.csv"):
        assert Path(f"{out}{suffix}").stat().st_size > 0
    table = pd.read_csv(f"{out}_summary.csv")
    mbpo = _row(table, "ours (mbpo-sched)")
    assert mbpo["mean"] == pytest.approx(7600 / 3) and mbpo.p_mbpo_gt_sac == 1.0
    assert "P(MBPO > SAC)" in Path(f"{out}.md").read_text()


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_runs_dir", "runs folder"),
        ("no_runs", "no runs found"),
        ("bad_columns", "lacks columns"),
        ("bad_number", "not a finite number"),
        ("no_curves", "holds no curves_hopper_*.csv"),
        ("bad_flag", "unrecognized arguments"),
    ],
)
def test_cli_bad_input_is_one_error_line(runs, reference, tmp_path, capsys, case, message):
    root, ref = tmp_path / "runs", tmp_path / "ref"
    ref.mkdir()
    reference.to_csv(ref / "curves_hopper_test.csv", index=False)
    root.mkdir()
    extra: list[str] = []
    if case == "no_runs_dir":
        root = tmp_path / "missing"
    elif case in ("bad_columns", "bad_number"):
        _write_runs(root, runs)
        path = root / "sac" / rep.ENV / "s0" / "returns.csv"
        text = "step,value\n1000,5\n" if case == "bad_columns" else \
            "env_step,eval_return_mean\n1000,abc\n"  # fmt: skip
        path.write_text(text)
    elif case == "no_curves":
        _write_runs(root, runs)
        (ref / "curves_hopper_test.csv").rename(ref / "other.csv")
    elif case == "bad_flag":
        extra = ["--bogus"]
    argv = ["--runs", str(root), "--reference", str(ref), "--out", str(tmp_path / "o"), *extra]
    assert rep.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err


def test_committed_reference_curves():
    curves = rep.load_reference(Path(__file__).parents[2] / "reference")
    assert set(curves.env_version) == {"Hopper-v2", "Hopper-v4"}
    counts = curves.groupby(["source", "method"]).seed.nunique().to_dict()
    assert counts == {("DAVIAN-Robotics/SimbaV2", "REDQ (UTD 20)"): 10,
                      ("DAVIAN-Robotics/SimbaV2", "SAC"): 10,
                      ("x35f/model_based_rl", "MBPO"): 1}  # fmt: skip
    simba = curves[curves.source == "DAVIAN-Robotics/SimbaV2"]
    assert simba.env_step.max() <= 150_000
    redq = simba[(simba.method == "REDQ (UTD 20)") & (simba.env_step == 99_996)]
    assert redq["return"].mean() == pytest.approx(2750, abs=1)
    x35f = curves[curves.source == "x35f/model_based_rl"]
    assert (x35f.env_step.min(), x35f.env_step.max(), len(x35f)) == (0, 123_000, 119)


def _write_timings(folder: Path, rows: list[tuple[int, float, float, float]], resumed=None):
    """timings.csv with, per evaluation (step, cumulative wall, model s, SAC s), and a
    meta.json (with ``resumed_at_steps`` when given)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["env_step,name,value"]
    for step, wall, model, sac in rows:
        lines += [
            f"{step},time/model_train_s,{model}",
            f"{step},time/policy_update_s,{sac}",
            f"{step},time/policy_ms_per_action,0.2",
            f"{step},time/train_wall_s,{wall}",
        ]
    (folder / "timings.csv").write_text("\n".join(lines) + "\n")
    meta = {"wall_seconds": 1.0, **({"resumed_at_steps": resumed} if resumed else {})}
    (folder / "meta.json").write_text(__import__("json").dumps(meta))


def test_cost_table_rates_and_phases_per_bin(tmp_path):
    """Known truth: seed 0 takes 10 s per 1000 steps (model 4, SAC 5, rest 1) to 2000, then
    20 s (model 12, SAC 6, rest 2); seed 1 takes twice seed 0's times. Seed 1 resumed at
    2500: its interval (2000, 3000] is left out, never averaged in with a lost wall time."""
    root = tmp_path / "runs"
    _write_timings(
        root / "mbpo-sched" / rep.ENV / "s0",
        [(1000, 10, 4, 5), (2000, 20, 4, 5), (3000, 40, 12, 6), (4000, 60, 12, 6)],
    )
    _write_timings(root / "mbpo-sched" / rep.ENV / "s1",
                   [(1000, 20, 8, 10), (2000, 40, 8, 10), (3000, 41, 24, 12),
                    (4000, 81, 24, 12)], resumed=[2500])  # fmt: skip
    timings = rep.load_timings(root)
    cost = rep.cost_table(timings, bin_steps=2000).set_index("steps_to")
    first, second, whole = cost.loc[2000], cost.loc[4000], cost.loc["all"]
    assert (first.n_seeds, first.left_out, second.left_out, whole.left_out) == (2, 0, 1, 1)
    assert first.steps_per_s == pytest.approx((100 + 50) / 2)  # mean of the seeds' rates
    assert first["model training"] == pytest.approx(6) and first["SAC updates"] == 7.5
    assert first["env and rest"] == pytest.approx(1.5) and first.total_s_per_1000 == 15
    # bin 2: seed 0 both intervals (20 s per 1000), seed 1 only (3000, 4000] (40 s)
    assert second.steps_per_s == pytest.approx((50 + 25) / 2)
    assert second["model training"] == pytest.approx((12 + 24) / 2)
    assert second["env and rest"] == pytest.approx((2 + 4) / 2)
    # the whole run: seed 0 4000 steps in 60 s; seed 1 3000 steps in 20 + 20 + 40 = 80 s
    assert whole.steps_per_s == pytest.approx((4000 / 60 + 3000 / 80) / 2)
    assert list(cost.columns[-1:]) == ["total_s_per_1000"]


def test_cli_writes_the_cost_table_when_runs_have_timings(runs, reference, tmp_path):
    _write_runs(tmp_path / "runs", runs)
    for seed in range(3):
        _write_timings(
            tmp_path / "runs" / "sac" / rep.ENV / f"s{seed}",
            [(s, s / 50, 0.0, s / 100) for s in range(1000, 100_001, 1000)],
        )
    (tmp_path / "ref").mkdir()
    reference.to_csv(tmp_path / "ref" / "curves_hopper_test.csv", index=False)
    out = tmp_path / "hopper_replication"
    argv = ["--runs", str(tmp_path / "runs"), "--reference", str(tmp_path / "ref"),
            "--out", str(out), "--reps", "200"]  # fmt: skip
    assert rep.main(argv) == 0
    cost = pd.read_csv(f"{out}_cost.csv")
    assert set(cost.variant) == {"sac"} and cost.steps_per_s.round(6).eq(50).all()
    text = Path(f"{out}.md").read_text()
    assert "## What the runs cost" in text and "| sac | SAC | all | 3 | 0 | 50.00 |" in text


def test_cli_corrupt_meta_json_is_one_error_line(runs, reference, tmp_path, capsys):
    _write_runs(tmp_path / "runs", runs)
    folder = tmp_path / "runs" / "sac" / rep.ENV / "s0"
    _write_timings(folder, [(1000, 10, 0, 5)])
    (folder / "meta.json").write_text("{not json")
    (tmp_path / "ref").mkdir()
    reference.to_csv(tmp_path / "ref" / "curves_hopper_test.csv", index=False)
    argv = ["--runs", str(tmp_path / "runs"), "--reference", str(tmp_path / "ref"),
            "--out", str(tmp_path / "o"), "--reps", "200"]  # fmt: skip
    assert rep.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot read") and "meta.json" in err[0]


def test_positions_compare_a_method_only_with_its_published_peers(runs, reference):
    """Our SAC seeds are placed among published SAC seeds only (a percentile of SAC among
    MBPO seeds means nothing); our MBPO among published MBPO and REDQ (model-free at the same
    20 updates per env step, the issue's model-free yardstick)."""
    redq = _curve("pubredq", "REDQ (UTD 20)", 0, [90_000, 100_000], [2000.0, 2000.0])
    pos = rep.positions(rep.seed_table(runs, pd.concat([reference, redq], ignore_index=True)))
    placed = pos.groupby(pos.ours.str.split(",").str[0]).published.agg(
        lambda p: sorted(set(p.str.split(",").str[0])))  # fmt: skip
    assert placed.to_dict() == {"MBPO": ["MBPO", "REDQ (UTD 20)"], "SAC": ["SAC"]}
