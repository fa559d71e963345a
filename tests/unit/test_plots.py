"""Figure helpers: published reference returns on the learning curves."""

import matplotlib

matplotlib.use("Agg")

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
