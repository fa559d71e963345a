"""The Hopper replication's learning diagnostics: our metrics and the published log, binned."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import replication as rep
from analysis import replication_diagnostics as diag

REPO = Path(__file__).resolve().parents[2]


def _metrics(steps, alpha, actor_loss, critic_loss, holdout=None) -> pd.DataFrame:
    """A metrics.csv table (``env_step, name, value``) with the SAC stats and, given, the
    model's holdout MSE at each step."""
    rows = []
    for i, step in enumerate(steps):
        rows += [
            (step, "sac/alpha", alpha[i]),
            (step, "sac/actor_loss", actor_loss[i]),
            (step, "sac/critic_loss", critic_loss[i]),
            (step, "train/episode_return", 9.0),
        ]
        if holdout is not None:
            rows.append((step, "model/holdout_mse", holdout[i]))
    return pd.DataFrame(rows, columns=["env_step", "name", "value"])


def test_our_quantities_follow_their_definitions():
    """soft value = -actor loss; one head's critic loss = the logged two-head sum / 2."""
    table = diag.run_diagnostics(_metrics([1000], [0.3], [-150.0], [20.0], [0.05]))
    got = dict(zip(table.quantity, table.value, strict=True))
    assert got == {"alpha": 0.3, "soft_value": 150.0, "critic_loss": 10.0,
                   "model_holdout_mse": 0.05}  # fmt: skip


def test_sac_has_no_model_quantity():
    table = diag.run_diagnostics(_metrics([1000], [0.3], [-150.0], [20.0]))
    assert set(table.quantity) == {"alpha", "soft_value", "critic_loss"}


def test_published_quantities_follow_their_definitions():
    log = pd.DataFrame({"tag": ["misc/entropy_alpha", "loss/policy", "loss/q1", "loss/q2"],
                        "step": 5250, "value": [0.25, -200.0, 4.0, 6.0]})  # fmt: skip
    table = diag.published_diagnostics(log)
    got = dict(zip(table.quantity, table.value, strict=True))
    assert got == {"alpha": 0.25, "soft_value": 200.0, "critic_loss": 5.0}
    assert table.env_step.tolist() == [5250.0] * 3


def test_table_bins_medians_maxima_and_returns():
    """Two bins of 10k: steps 1k-10k (alpha 1..10) and 11k-20k (alpha 0.1 constant)."""
    steps = np.arange(1, 21) * 1000
    alpha = np.r_[np.arange(1.0, 11.0), np.full(10, 0.1)]
    quantities = diag.run_diagnostics(
        _metrics(steps, alpha, -alpha * 100, alpha * 4, np.full(20, 0.02))
    ).assign(source="ours (mbpo-sched)", method="MBPO", seed=3)
    returns = pd.DataFrame({"source": "ours (mbpo-sched)", "seed": 3, "env_step": steps,
                            "return": np.r_[np.full(10, 100.0), np.full(10, 900.0)]})  # fmt: skip
    table = diag.diagnostics_table(quantities, returns, bin_steps=10_000)
    assert table.steps_to.tolist() == [10_000, 20_000]
    first, second = table.iloc[0], table.iloc[1]
    assert first.alpha_median == pytest.approx(5.5) and first.alpha_max == 10.0
    assert first.soft_value_median == pytest.approx(550.0)
    assert first.critic_loss_median == pytest.approx(11.0) and first.critic_loss_max == 20.0
    assert first.eval_return == 100.0 and second.eval_return == 900.0
    assert second.alpha_max == pytest.approx(0.1) and second.model_holdout_mse_median == 0.02


def test_a_step_on_a_bin_edge_belongs_to_the_bin_it_ends():
    assert diag.bin_end(pd.Series([1.0, 10_000.0, 10_001.0]), 10_000).tolist() == [
        10_000, 10_000, 20_000]  # fmt: skip


def test_cli_writes_the_diagnostics_beside_the_published_run(tmp_path):
    root, ref = tmp_path / "runs", tmp_path / "ref"
    for variant, method in rep.VARIANT_METHODS.items():
        folder = root / variant / rep.ENV / "s0"
        folder.mkdir(parents=True)
        pd.DataFrame({"env_step": [90_000, 100_000], "eval_return_mean": [1000.0, 1000.0],
                      "eval_return_std": 0.0, "n_episodes": 5}).to_csv(
            folder / "returns.csv", index=False)  # fmt: skip
        holdout = [0.01, 0.01] if method == "MBPO" else None
        _metrics([90_000, 100_000], [0.2, 0.2], [-200.0, -200.0], [8.0, 8.0], holdout).to_csv(
            folder / "metrics.csv", index=False)  # fmt: skip
    ref.mkdir()
    pd.DataFrame({"source": diag.PUBLISHED_SOURCE, "method": "MBPO", "env": rep.ENV,
                  "env_version": "Hopper-v2", "seed": 0, "env_step": [95_000],
                  "return": [2000.0]}).to_csv(ref / "curves_hopper_x.csv", index=False)  # fmt: skip
    pd.DataFrame({"tag": ["misc/entropy_alpha", "loss/policy", "loss/q1", "loss/q2"],
                  "step": 95_000, "value": [0.25, -220.0, 4.0, 6.0]}).to_csv(
        ref / diag.PUBLISHED_FILE, index=False)  # fmt: skip
    out = tmp_path / "hop"
    argv = ["--runs", str(root), "--reference", str(ref), "--out", str(out), "--reps", "100"]
    assert rep.main(argv) == 0
    table = pd.read_csv(f"{out}_diagnostics.csv")
    assert set(table.source) == {diag.PUBLISHED_SOURCE, "ours (mbpo-sched)", "ours (sac)"}
    published = table[table.source == diag.PUBLISHED_SOURCE].iloc[0]
    assert published.eval_return == 2000.0 and published.critic_loss_median == 5.0
    assert np.isnan(table[table.source == "ours (sac)"].model_holdout_mse_median.iloc[0])
    assert "## Learning diagnostics" in Path(f"{out}.md").read_text()
    for suffix in ("png", "pdf"):
        assert Path(f"{out}_diagnostics.{suffix}").stat().st_size > 1000


def test_runs_without_metrics_get_an_empty_table_with_its_columns(tmp_path):
    table = diag.diagnostics_table(rep.load_diagnostics(tmp_path, tmp_path), pd.DataFrame())
    assert table.empty and list(table.columns) == diag.TABLE_COLUMNS


def test_cli_corrupt_metrics_is_one_error_line(tmp_path, capsys):
    folder = tmp_path / "runs" / "sac" / rep.ENV / "s0"
    folder.mkdir(parents=True)
    pd.DataFrame({"env_step": [100_000], "eval_return_mean": [1.0]}).to_csv(
        folder / "returns.csv", index=False)  # fmt: skip
    (folder / "metrics.csv").write_text("env_step,name,value\n1000,sac/alpha,oops\n")
    (tmp_path / "ref").mkdir()
    pd.DataFrame({"source": "p", "method": "SAC", "env": rep.ENV, "env_version": "v4",
                  "seed": 0, "env_step": [1], "return": [1.0]}).to_csv(
        tmp_path / "ref" / "curves_hopper_p.csv", index=False)  # fmt: skip
    argv = ["--runs", str(tmp_path / "runs"), "--reference", str(tmp_path / "ref"),
            "--out", str(tmp_path / "o"), "--reps", "100"]  # fmt: skip
    assert rep.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "metrics.csv" in err[0]


def test_committed_published_diagnostics_cover_the_run():
    """reference/diagnostics_hopper_x35f_mbpo.csv: the four tags, every 250 steps, 5.25k-123.25k."""
    log = pd.read_csv(REPO / "reference" / diag.PUBLISHED_FILE)
    assert list(log.columns) == ["tag", "step", "value"]
    counts = log.groupby("tag").step.agg(["min", "max", "count"])
    assert set(counts.index) == {"misc/entropy_alpha", "loss/policy", "loss/q1", "loss/q2"}
    assert (counts["min"] == 5250).all() and (counts["max"] == 123_250).all()
    assert (counts["count"] == 473).all()


def test_a_diverged_runs_nan_is_dropped_not_fatal(tmp_path):
    """A run whose model loss went NaN keeps a 'nan' in metrics.csv: that value is left out of
    the diagnostics; the report, summary and figure are still written."""
    folder = tmp_path / "runs" / "mbpo-sched" / rep.ENV / "s0"
    folder.mkdir(parents=True)
    pd.DataFrame({"env_step": [100_000], "eval_return_mean": [1.0]}).to_csv(
        folder / "returns.csv", index=False)  # fmt: skip
    metrics = _metrics([99_000, 100_000], [0.2, 0.3], [-1.0, -1.0], [2.0, 2.0], [0.01, 0.02])
    metrics.loc[metrics.name == "model/holdout_mse", "value"] = [0.01, float("nan")]
    metrics.loc[metrics.name == "sac/alpha", "value"] = [0.2, float("inf")]
    metrics.to_csv(folder / "metrics.csv", index=False)
    (tmp_path / "ref").mkdir()
    pd.DataFrame({"source": "p", "method": "SAC", "env": rep.ENV, "env_version": "v4",
                  "seed": 0, "env_step": [1], "return": [1.0]}).to_csv(
        tmp_path / "ref" / "curves_hopper_p.csv", index=False)  # fmt: skip
    out = tmp_path / "o"
    argv = ["--runs", str(tmp_path / "runs"), "--reference", str(tmp_path / "ref"),
            "--out", str(out), "--reps", "100"]  # fmt: skip
    assert rep.main(argv) == 0
    row = pd.read_csv(f"{out}_diagnostics.csv").iloc[0]
    assert row.model_holdout_mse_median == 0.01 and row.alpha_max == 0.2


def test_published_diagnostics_are_found_beside_a_single_reference_csv(tmp_path):
    ref = tmp_path / "ref"
    ref.mkdir()
    pd.DataFrame({"tag": ["misc/entropy_alpha", "loss/policy", "loss/q1", "loss/q2"],
                  "step": 95_000, "value": [0.25, -220.0, 4.0, 6.0]}).to_csv(
        ref / diag.PUBLISHED_FILE, index=False)  # fmt: skip
    table = rep.load_diagnostics(tmp_path / "no-runs", ref / "curves_hopper_x.csv")
    assert set(table.source) == {diag.PUBLISHED_SOURCE}
