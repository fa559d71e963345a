"""Figures: published references on the learning curves, what the labels say, chaos seeds."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import plots  # noqa: E402


def test_published_steps_reads_the_leading_integer():
    assert plots.published_steps(20000) == 20000.0
    assert plots.published_steps("1000000 (script default total_timesteps)") == 1e6
    assert np.isnan(plots.published_steps(float("nan")))


def test_learning_curves_mark_published_returns_as_points_or_lines():
    returns = pd.DataFrame({"variant": "sac", "method": "sac", "env": "gym-Pendulum-v1",
                            "seed": [0, 0, 1, 1], "env_step": [1000, 2000, 1000, 2000],
                            "eval_return_mean": [-1200.0, -300.0, -1100.0, -250.0]})  # fmt: skip
    published = pd.DataFrame({"source": ["near", "far", "elsewhere"],
                              "method": ["SAC (tuned)", "SAC", "SAC"],
                              "env": ["gym-Pendulum-v1", "gym-Pendulum-v1", "gym-Hopper-v5"],
                              "env_steps": [2000, "20000 (default)", 1000],
                              "value": [-200.0, -150.0, 3000.0]})  # fmt: skip
    fig = plots.learning_curves(returns, published)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "near SAC (2000 steps)" in labels  # within the plotted budget: a point
    assert "far SAC at 20k steps" in labels  # beyond it: a horizontal line
    assert not any("elsewhere" in label for label in labels)  # another env's reference


def scores_table(sac: list[float], other: list[float], common_step: int = 300) -> pd.DataFrame:
    """A scores table (analysis/scores.py's columns) of sac and mbpo-k5 on one env."""
    rows = [
        {
            "variant": v,
            "method": v.split("-")[0],
            "env": "gym-Pendulum-v1",
            "seed": s,
            "score": x,
            "common_step": common_step,
            "random_return": -1200.0,
            "reference_return": -150.0,
            "reference_name": "mpc-oracle of this tier (planning on the true simulator)",
        }
        for v, values in (("sac", sac), ("mbpo-k5", other))
        for s, x in enumerate(values)
    ]
    return pd.DataFrame(rows)  # fmt: skip


def all_text(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_probability_of_improvement_shows_a_degenerate_interval_as_a_marker():
    """Equal scores give P = 0.5 with the CI [0.5, 0.5]: a marker in the variant's colour,
    not a lone tick on the 0.5 line that reads as missing data."""
    fig = plots.probability_of_improvement(scores_table([0.2, 0.2, 0.2], [0.2, 0.2, 0.2]))
    ax = fig.axes[0]
    marks = [ln for ln in ax.get_lines() if ln.get_gid() == "variant:mbpo-k5"
             and ln.get_marker() not in (None, "None", "", "|")]  # fmt: skip
    assert marks and marks[0].get_markersize() >= 6
    assert np.allclose(marks[0].get_xdata(), 0.5)
    assert marks[0].get_color() == plots.variant_colour("mbpo-k5")
    assert any(np.allclose(ln.get_xdata(), 0.5) and ln.get_linestyle() == "--"
               for ln in ax.get_lines())  # the no-difference line  # fmt: skip
    assert "common budget" in all_text(fig)


def test_final_performance_says_which_budget_and_reference():
    fig = plots.final_performance(scores_table([0.1, 0.3, 0.2], [0.6, 0.8, 0.7]))
    text = all_text(fig)
    assert "normalised score at the common budget" in text
    assert "gym-Pendulum-v1: score at 300 env steps" in text
    assert "1 = mpc-oracle" in text


def test_final_performance_compares_variants_only_on_the_same_envs():
    """A variant that ran on one env must not be set beside one aggregated over others: one
    panel per env, and the across-env panel only holds variants that ran on every env."""
    pendulum = scores_table([0.1, 0.3, 0.2], [0.6, 0.8, 0.7])
    hopper = pendulum[pendulum.variant == "sac"].assign(env="gym-Hopper-v5", score=0.9)
    fig = plots.final_performance(pd.concat([pendulum, hopper], ignore_index=True))
    titles = {ax.get_title(): ax for ax in fig.axes}
    per_env = [t for t in titles if t.startswith("gym-")]
    assert sorted(t.split(" ")[0] for t in per_env) == ["gym-Hopper-v5", "gym-Pendulum-v1"]

    def variants(ax):
        return {line.get_gid() for line in ax.get_lines() if line.get_gid()}

    hopper_ax = next(titles[t] for t in per_env if t.startswith("gym-Hopper-v5"))
    assert variants(hopper_ax) == {"variant:sac"}
    across = [ax for t, ax in titles.items() if t.startswith("all ")]
    assert len(across) == 1 and variants(across[0]) == {"variant:sac"}


def test_final_performance_flags_a_reference_below_random():
    table = scores_table([0.1, 0.3], [0.6, 0.8]).assign(reference_return=-1300.0)
    assert "NOT above random" in all_text(plots.final_performance(table))


def test_model_error_axis_is_the_training_std_scaled_mse_and_explains_tsinf():
    rows = [
        {
            "data": "random",
            "model": "probabilistic ensemble",
            "mode": mode,
            "t": t,
            "mse": 0.01 * t**2,
            "n": 4,
            "variant": "mbpo-k5",
            "env": "gym-Pendulum-v1",
            "seed": 0,
        }
        for mode in ("mean", "random-member", "TSinf")
        for t in (1, 2, 3)
    ]
    fig = plots.model_error_vs_horizon(pd.DataFrame(rows))
    assert fig.axes[0].get_ylabel() == "MSE of state / training-state std"
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "TSinf: each particle keeps one ensemble member (PETS)" in labels


def chaos_tables(seeds=(0, 1, 2)):
    gradient = pd.DataFrame([{"horizon": h, "mean_log10_grad_norm": 0.0,
                              "std_log10_grad_norm": 0.0, "median_grad_norm": h * (1 + s),
                              "n": 4, "env": "gym-Pendulum-v1", "seed": s}
                             for s in seeds for h in (1, 5, 10)])  # fmt: skip
    divergence = pd.DataFrame([{"t": t, "mean_log_distance": -13.0 + t + s,
                                "std_log_distance": 0.1, "median_log_distance": -13.0 + t + s,
                                "n": 4, "env": "gym-Pendulum-v1", "seed": s}
                               for s in seeds for t in (1, 2, 3)])  # fmt: skip
    diagnostics = gradient[["horizon", "env", "seed"]].assign(
        grad_norm=gradient.median_grad_norm / 2, log_sigma1_median=0.1, log_sigma1_mean=0.1
    )
    metrics = pd.DataFrame({"variant": "bptt-h5", "method": "bptt", "env": "gym-Pendulum-v1",
                            "seed": [0, 1], "env_step": 100, "name": "bptt/grad_norm",
                            "value": [2.0, 4.0]})  # fmt: skip
    runs = pd.DataFrame({"variant": "bptt-h5", "method": "bptt", "env": "gym-Pendulum-v1",
                         "seed": [0, 1], "horizon": 5})  # fmt: skip
    return metrics, runs, gradient, divergence, diagnostics


def test_bptt_gradient_figure_takes_the_median_over_chaos_seeds():
    metrics, runs, gradient, divergence, diagnostics = chaos_tables()
    fig = plots.bptt_gradient_vs_horizon(metrics, runs, gradient, divergence)
    assert len(fig.axes) == 2  # without the diagnostics table: gradient and twins
    chaos = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "o"][0]
    assert np.allclose(chaos.get_xdata(), [1, 5, 10])
    assert np.allclose(chaos.get_ydata(), [2, 10, 20])  # median of h * (1, 2, 3)
    twins = [ln for ln in fig.axes[1].get_lines() if ln.get_linestyle() == "-"][0]
    assert np.allclose(twins.get_ydata(), [-11, -10, -9])  # median over seeds 0..2
    bptt = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "variant:bptt-h5"]
    assert any(np.allclose(ln.get_ydata(), 3.0) for ln in bptt)  # mean over its seeds
    with_diagnostics = plots.bptt_gradient_vs_horizon(metrics, runs, gradient, divergence,
                                                      diagnostics)  # fmt: skip
    assert len(with_diagnostics.axes) == 3


def test_bptt_gradient_figure_reads_chaos_tables_without_a_seed_column():
    metrics, runs, gradient, divergence, _ = chaos_tables(seeds=(0,))
    fig = plots.bptt_gradient_vs_horizon(metrics, runs, gradient.drop(columns="seed"),
                                         divergence.drop(columns="seed"))  # fmt: skip
    assert len(fig.axes) == 2


def test_cli_takes_the_chaos_diagnostics_as_an_optional_fifth_table(tmp_path):
    paths = []
    for name, table in zip(["metrics", "runs", "gradient", "divergence", "diagnostics"],
                           chaos_tables(), strict=True):  # fmt: skip
        paths.append(str(tmp_path / f"{name}.parquet"))
        table.to_parquet(paths[-1])
    four = tmp_path / "four.png"
    assert plots.main(["bptt_gradient_vs_horizon", *paths[:4], str(four)]) == 0
    five = tmp_path / "five.png"
    assert plots.main(["bptt_gradient_vs_horizon", *paths, str(five)]) == 0
    assert four.stat().st_size > 0 and five.stat().st_size > four.stat().st_size
