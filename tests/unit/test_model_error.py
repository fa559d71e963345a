"""Open-loop model error (analysis.model_error) on synthetic data with a known answer.

The fake model has zero weights, so every member predicts the same constant delta-state
``drift`` (in original units) whatever the input; its rollout after t steps is
``start + t * drift``. The held-out "real" episodes move with their own constant delta, so
the error of every segment at every t is known in closed form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from analysis import model_error
from methods.common.ensemble import GaussianEnsemble

OBS_DIM, ACT_DIM = 3, 1


def fake_model(
    drift: float, state_std: list[float], probabilistic: bool = True
) -> GaussianEnsemble:
    """Ensemble whose every member predicts delta-state ``drift`` (all dims), reward 0.

    ``state_std`` (OBS_DIM,) becomes the obs part of ``input_norm.std`` (the training
    states' scale); the action part is set to a different value it must not influence.
    """
    members, elites = (3, 2) if probabilistic else (1, 1)
    model = GaussianEnsemble(OBS_DIM, ACT_DIM, members, elites, hidden=8, layers=1,
                             probabilistic=probabilistic)  # fmt: skip
    with torch.no_grad():
        for p in model.parameters():
            if p is not model.max_logvar and p is not model.min_logvar:
                p.zero_()
        model.input_norm.std.copy_(torch.tensor([*state_std, 7.0]))
        model.input_norm.mean.copy_(torch.tensor([0.3, -0.2, 0.1, 0.0]))
        model.target_norm.mean.copy_(torch.tensor([drift] * OBS_DIM + [0.0]))
        # tiny target std: the Gaussian's sampling noise is negligible (~1e-9)
        model.target_norm.std.fill_(1e-9)
    return model.eval()


def heldout_set(
    lengths: list[int], deltas: list[float], steps: int, base: list[float] | None = None
) -> dict:
    """Episodes of the given lengths; episode k starts at ``base[k]`` (all dims) and moves
    by ``deltas[k]`` per step: ``obs`` (N, steps+1, OBS_DIM), ``act`` (N, steps, ACT_DIM),
    ``valid`` (N, steps)."""
    n = len(lengths)
    base = [0.0] * n if base is None else base
    t = np.arange(steps + 1, dtype=np.float64)
    obs = np.zeros((n, steps + 1, OBS_DIM), np.float32)
    valid = np.zeros((n, steps), bool)
    for k, (length, delta) in enumerate(zip(lengths, deltas, strict=True)):
        obs[k, : length + 1] = (base[k] + delta * t[: length + 1])[:, None]
        valid[k, :length] = True
    act = np.random.default_rng(0).uniform(-1, 1, (n, steps, ACT_DIM)).astype(np.float32)
    return {"obs": obs, "act": act, "valid": valid}


@pytest.mark.parametrize("spread", [1e-3, 1.0])
def test_error_is_scaled_by_the_training_state_std_not_the_heldout_spread(spread):
    """A policy whose states barely vary (InvertedPendulum, pole std 0.024 rad) must not
    make a tiny model error look saturated: the scale is the model's training-state std."""
    state_std = [0.5, 1.0, 2.0]
    drift, horizon = 0.01, 10
    model = fake_model(drift, state_std)
    held = heldout_set([30] * 20, [0.0] * 20, 30, base=[spread * k for k in range(20)])
    curves = model_error.error_curves(model, held, horizon, particles=2, stride=10)
    t = np.arange(1, horizon + 1)
    expected = np.mean([(t * drift / s) ** 2 for s in state_std], axis=0)  # (H,)
    assert set(curves["mode"]) == set(model_error.MODES)
    for mode, curve in curves.groupby("mode"):
        curve = curve.sort_values("t")
        np.testing.assert_array_equal(curve.t, t)
        np.testing.assert_allclose(curve.mse, expected, rtol=1e-4, err_msg=mode)
    assert curves.mse.max() < model_error.SATURATION_MSE  # tiny error, not "saturated"


def test_deterministic_single_network_uses_the_same_scale():
    model = fake_model(0.02, [0.1, 0.1, 0.1], probabilistic=False)
    held = heldout_set([20] * 4, [0.0] * 4, 20, base=[1e-4 * k for k in range(4)])
    curves = model_error.error_curves(model, held, 5, particles=2, stride=5)
    assert list(curves["mode"].unique()) == ["mean"]
    np.testing.assert_allclose(curves.mse, (np.arange(1, 6) * 0.2) ** 2, rtol=1e-4)


def test_each_horizon_averages_one_fixed_set_of_full_window_segments():
    """Segments ending before t = horizon (termination, end of the recorded data) are left
    out of every t, so the curve does not jump when one ends and n is constant."""
    horizon, stride, steps = 10, 5, 30
    deltas = [0.1, 0.2, 0.3, 5.0]  # the early-ending episodes' error is much larger
    held = heldout_set([30, 30, 12, 7], deltas, steps)
    model = fake_model(0.0, [1.0, 1.0, 1.0])
    curves = model_error.error_curves(model, held, horizon, particles=2, stride=stride)
    # full segments: t0 = 0, 5, 10, 15, 20 of episodes 0 and 1 (t0 = 25 runs past the
    # recorded steps), t0 = 0 of episode 2 (length 12); none of episode 3 (length 7)
    per_segment = np.array([deltas[0]] * 5 + [deltas[1]] * 5 + [deltas[2]]) ** 2
    t = np.arange(1, horizon + 1)
    expected = t**2 * per_segment.mean()
    for mode, curve in curves.groupby("mode"):
        curve = curve.sort_values("t")
        np.testing.assert_array_equal(curve.t, t)
        assert (curve.n == len(per_segment)).all(), mode
        np.testing.assert_allclose(curve.mse, expected, rtol=1e-4, err_msg=mode)
    # a pure t^2 curve: the fitted exponent is exactly 2 (no jump)
    mean = curves[curves["mode"] == "mean"].sort_values("t")
    np.testing.assert_allclose(np.diff(np.log(mean.mse)) / np.diff(np.log(mean.t)), 2.0,
                               rtol=1e-4)  # fmt: skip


def test_window_shortens_to_the_longest_horizon_a_segment_covers():
    """No segment covers the requested horizon (short episodes, e.g. a random policy on
    InvertedPendulum): the curve stops at the longest covered horizon, over the segments
    that cover it."""
    held = heldout_set([8, 5, 8, 3], [0.1, 3.0, 0.2, 4.0], 20)
    model = fake_model(0.0, [1.0, 1.0, 1.0])
    curves = model_error.error_curves(model, held, 20, particles=2, stride=5)
    t = np.arange(1, 9)
    expected = t**2 * np.mean([0.1**2, 0.2**2])  # episodes 0 and 2 from t0 = 0
    for mode, curve in curves.groupby("mode"):
        curve = curve.sort_values("t")
        np.testing.assert_array_equal(curve.t, t)
        assert (curve.n == 2).all(), mode
        np.testing.assert_allclose(curve.mse, expected, rtol=1e-4, err_msg=mode)


def test_no_valid_start_is_a_user_error():
    held = heldout_set([0, 0], [0.0, 0.0], 10)
    with pytest.raises(model_error.UserError, match="no valid start"):
        model_error.error_curves(fake_model(0.0, [1.0] * 3), held, 5, particles=1, stride=5)


def test_cli_columns_and_a_note_when_the_window_is_shortened(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    params = {"ensemble_size": 3, "num_elites": 2, "model_hidden": 8, "model_layers": 1,
              "probabilistic": True}  # fmt: skip
    (run / "config.yaml").write_text(yaml.safe_dump({"method": "mbpo", "params": params}))
    torch.save(fake_model(0.01, [0.5, 1.0, 2.0]).state_dict(), run / "model.pt")
    np.savez(tmp_path / "policy.npz", **heldout_set([30] * 4, [0.0] * 4, 30))
    np.savez(tmp_path / "random.npz", **heldout_set([6, 4], [0.1, 0.1], 30))
    out = tmp_path / "err.csv"
    argv = ["--run", str(run), "--heldout", str(tmp_path / "policy.npz"), "--heldout",
            str(tmp_path / "random.npz"), "--out", str(out), "--horizon", "10",
            "--stride", "10"]  # fmt: skip
    assert model_error.main(argv) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["data", "model", "mode", "t", "mse", "n"]
    assert table.groupby("data").t.max().to_dict() == {"policy": 10, "random": 6}
    assert table.groupby("data").n.unique().map(list).to_dict() == {"policy": [12],
                                                                     "random": [1]}  # fmt: skip
    err = capsys.readouterr().err
    assert "random.npz" in err and "horizon 6" in err
