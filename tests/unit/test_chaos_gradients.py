"""The chaos diagnostic's gradient part vs H: normalised gradient norm, closed-loop FTLE and
gradient SNR, checked on systems whose answers are known exactly.

Linear model s' = A s + B a with linear policy a = -K s: d s_H / d s_0 = (A - B K)^H, so
log sigma_1(H) = log sigma_1((A - B K)^H), which for a symmetric A - B K is H log rho
(rho its spectral radius): the FTLE is log rho exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

import methods.chaos as chaos
from methods.chaos import (
    GRADIENT_DIAGNOSTICS_COLUMNS,
    batch_return_gradients,
    closed_loop_jacobian,
    closed_loop_log_sigma1,
    discount_sum,
    gradient_diagnostics,
    gradient_snr,
)

F64 = torch.float64


def linear_closed_loop(
    eigenvalues: list[float], act_dim: int = 2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(A (d, d), B (d, act_dim), K (act_dim, d), M = A - B K (d, d)) with M symmetric of
    the given eigenvalues and a random orthogonal eigenbasis; B, K random."""
    gen = torch.Generator().manual_seed(seed)
    dim = len(eigenvalues)
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen, dtype=F64))
    m = q @ torch.diag(torch.tensor(eigenvalues, dtype=F64)) @ q.T
    b = torch.randn(dim, act_dim, generator=gen, dtype=F64)
    k = torch.randn(act_dim, dim, generator=gen, dtype=F64)
    return m + b @ k, b, k, m


def linear_dynamics(a: torch.Tensor, b: torch.Tensor):
    """s' = A s + B a on row-vector batches: (B, d), (B, act_dim) -> (B, d)."""
    return lambda s, act: s @ a.T + act @ b.T


def linear_policy(k: torch.Tensor):
    """a = -K s: (B, d) -> (B, act_dim)."""
    return lambda s: -s @ k.T


def starts_of(n: int, dim: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, dim, generator=torch.Generator().manual_seed(seed), dtype=F64)


# ----- closed-loop Jacobian and log sigma_1 -----


def test_closed_loop_jacobian_is_each_states_own_jacobian():
    """Batched rows equal a per-state Jacobian of the nonlinear closed loop s' = f(s, pi(s))."""
    gen = torch.Generator().manual_seed(0)
    w, v, u = (torch.randn(*shape, generator=gen, dtype=F64) for shape in [(4, 4), (2, 4), (4, 2)])

    def dynamics(s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return torch.tanh(s @ w) + a @ v + 0.1 * s**2

    def policy(s: torch.Tensor) -> torch.Tensor:
        return torch.sin(s @ u)

    states = starts_of(5, 4)
    nxt, jac = closed_loop_jacobian(dynamics, policy, states)
    assert jac.shape == (5, 4, 4)
    for i, s in enumerate(states):
        expected = torch.autograd.functional.jacobian(
            lambda x: dynamics(x[None], policy(x[None]))[0], s
        )
        torch.testing.assert_close(jac[i], expected, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(nxt[i], dynamics(s[None], policy(s[None]))[0])


def test_log_sigma1_of_a_symmetric_linear_loop_is_h_log_rho_without_overflow():
    """rho = |-4| (a negative eigenvalue); 4^600 ~ 1e361 overflows float64, the renormalised
    propagation does not (the states start at ~1e-200 so that they stay finite)."""
    a, b, k, _ = linear_closed_loop([-4.0, 0.5, 0.1])
    horizons = [1, 2, 5, 10, 20, 50, 600]
    log_s, finite, alive = closed_loop_log_sigma1(
        linear_dynamics(a, b), linear_policy(k), 1e-200 * starts_of(6, 3), horizons
    )
    assert log_s.shape == (len(horizons), 6) and finite.all() and alive.all()
    expected = np.array(horizons, dtype=float)[:, None] * math.log(4.0)
    np.testing.assert_allclose(log_s, np.broadcast_to(expected, log_s.shape), rtol=1e-9)


def test_log_sigma1_of_a_nonsymmetric_linear_loop_is_that_of_the_matrix_power():
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(4, 4, generator=gen, dtype=F64)
    b = torch.randn(4, 1, generator=gen, dtype=F64)
    k = torch.randn(1, 4, generator=gen, dtype=F64)
    m = (a - b @ k).numpy()
    horizons = [1, 3, 7, 15]
    log_s, _, _ = closed_loop_log_sigma1(
        linear_dynamics(a, b), linear_policy(k), starts_of(2, 4), horizons
    )
    for row, h in zip(log_s, horizons, strict=True):
        sigma = np.linalg.svd(np.linalg.matrix_power(m, h), compute_uv=False)[0]
        np.testing.assert_allclose(row, [math.log(sigma)] * 2, rtol=1e-9)


# ----- gradients, SNR -----


def test_discount_sum():
    assert discount_sum(7, 1.0) == 7.0
    assert discount_sum(50, 0.99) == pytest.approx(sum(0.99**t for t in range(50)), rel=1e-12)


def test_batch_gradients_are_the_gradients_of_each_batch_mean():
    """R_i = theta . s_i: d R_i / d theta = s_i, so batch k's gradient is the mean of its
    starts and the full gradient the mean of all (batches of 3, 2, 2 for B = 7, K = 3)."""
    theta = torch.zeros(4, dtype=F64, requires_grad=True)
    starts = starts_of(7, 4)
    full, per_batch = batch_return_gradients(lambda s, h: s @ theta, [theta], starts, 1, 3)
    torch.testing.assert_close(full, starts.mean(0))
    expected = torch.stack([starts[:3].mean(0), starts[3:5].mean(0), starts[5:].mean(0)])
    torch.testing.assert_close(per_batch, expected)


def test_snr_of_identical_batches_is_infinite():
    assert gradient_snr(torch.ones(8, 5)) == math.inf


def test_snr_of_symmetric_batches_is_zero():
    v = torch.arange(1.0, 6.0)
    assert gradient_snr(torch.stack([v, -v] * 4)) == 0.0


def test_snr_is_signal_over_rms_deviation():
    """g_k = mu + sigma u_k, u_k = +-e (half each): mean mu, every deviation of norm sigma."""
    mu = torch.tensor([3.0, 4.0, 0.0])  # ||mu|| = 5
    e = torch.tensor([0.0, 0.0, 1.0])
    grads = torch.stack([mu + 2.0 * e, mu - 2.0 * e] * 4)
    assert gradient_snr(grads) == pytest.approx(2.5, rel=1e-12)


def test_snr_of_pure_noise_is_about_one_over_sqrt_k_minus_1():
    noise = torch.randn(8, 200_000, generator=torch.Generator().manual_seed(0), dtype=F64)
    assert gradient_snr(noise) == pytest.approx(1 / math.sqrt(7), rel=0.03)


def test_snr_guards():
    assert math.isnan(gradient_snr(torch.ones(1, 3)))  # one batch
    assert math.isnan(gradient_snr(torch.zeros(4, 3)))  # 0 / 0
    grads = torch.ones(4, 3)
    grads[2, 1] = float("nan")
    assert math.isnan(gradient_snr(grads))


# ----- the whole per-H table -----


def identity_return(theta: torch.Tensor, gamma: float):
    """s' = s, a = s . theta, r = a: R_H(s_0) = sum_{t<H} gamma^t theta . s_0, so
    d R_H / d theta = discount_sum(H) s_0: a constant-per-step reward gradient."""

    def h_step_return(starts: torch.Tensor, horizon: int) -> torch.Tensor:
        s, value = starts, torch.zeros(starts.shape[0], dtype=starts.dtype)
        for t in range(horizon):
            value = value + gamma**t * (s @ theta)
            s = s + 0.0 * (s @ theta)[:, None]  # identity dynamics, still in the graph
        return value

    return h_step_return


def test_gradient_per_discount_and_snr_are_flat_in_h_for_a_constant_per_step_reward():
    gamma, horizons = 0.99, [1, 2, 5, 10, 20, 50]
    theta = torch.zeros(3, dtype=F64, requires_grad=True)
    starts = starts_of(16, 3)
    a, b, k, _ = linear_closed_loop([0.9, 0.5, -0.3])
    rows, summary = gradient_diagnostics(
        identity_return(theta, gamma), [theta], linear_dynamics(a, b), linear_policy(k),
        starts, horizons, gamma, n_batches=8,
    )  # fmt: skip
    table = pd.DataFrame(rows, columns=GRADIENT_DIAGNOSTICS_COLUMNS)
    norm = float(starts.mean(0).norm())
    np.testing.assert_allclose(table.grad_norm_per_discount, norm, rtol=1e-12)
    np.testing.assert_allclose(
        table.grad_norm, [discount_sum(h, gamma) * norm for h in horizons], rtol=1e-12
    )
    batch_means = starts.reshape(8, 2, 3).mean(1)
    snr = norm / math.sqrt(float(((batch_means - starts.mean(0)) ** 2).sum(1).mean()))
    np.testing.assert_allclose(table.snr, snr, rtol=1e-10)
    assert summary["grad_norm_per_discount_loglog_slope_vs_H"] == pytest.approx(0.0, abs=1e-10)
    assert (table.n_batches == 8).all() and (table.n_nonfinite_batches == 0).all()
    # the FTLE of the (unrelated) linear closed loop: log 0.9, every start used
    np.testing.assert_allclose(table.log_sigma1_median, np.array(horizons) * math.log(0.9),
                               rtol=1e-9)  # fmt: skip
    np.testing.assert_allclose(table.log_sigma1_mean, table.log_sigma1_median, rtol=1e-9)
    assert summary["ftle"] == pytest.approx(math.log(0.9), rel=1e-9)
    assert (summary["ftle_h_min"], summary["ftle_h_max"], summary["ftle_n_horizons"]) == (1, 50, 6)
    assert (table.n_starts == 16).all()
    assert (table.n_nonfinite == 0).all() and (table.n_terminated == 0).all()


def test_nonfinite_and_terminated_starts_are_counted_and_left_out():
    """s' = 2 s; start 0 = (1, 1) terminates (max |s| > 10) at t = 4, start 1 = (1e-3, 1e-3)
    at t = 14, start 2 is infinite from the start. The FTLE fit keeps the horizons where
    at least half (1.5) of the 3 starts are used: H = 1, 2."""
    theta = torch.ones(2, dtype=F64, requires_grad=True)
    starts = torch.tensor([[1.0, 1.0], [1e-3, 1e-3], [math.inf, 0.0]], dtype=F64)
    rows, summary = gradient_diagnostics(
        lambda s, h: h * (s @ theta), [theta], lambda s, a: 2.0 * s + 0.0 * a,
        lambda s: s[:, :1], starts, [1, 2, 5, 20], 0.99, n_batches=3,
        termination_fn=lambda s: s.abs().amax(-1) > 10.0,
    )  # fmt: skip
    table = pd.DataFrame(rows, columns=GRADIENT_DIAGNOSTICS_COLUMNS)
    assert table.n_nonfinite.tolist() == [1, 1, 1, 1]
    assert table.n_terminated.tolist() == [0, 0, 1, 2]
    np.testing.assert_allclose(table.log_sigma1_median[:3], np.array([1, 2, 5]) * math.log(2.0))
    assert math.isnan(table.log_sigma1_median[3]) and math.isnan(table.log_sigma1_mean[3])
    assert summary["ftle"] == pytest.approx(math.log(2.0))
    assert (summary["ftle_h_min"], summary["ftle_h_max"], summary["ftle_n_horizons"]) == (1, 2, 2)
    assert (table.n_nonfinite_batches == 3).all()  # one joint rollout: inf * 0 reaches all
    assert table.snr.isna().all() and not np.isfinite(table.grad_norm).any()


def test_ftle_needs_two_horizons():
    theta = torch.zeros(2, dtype=F64, requires_grad=True)
    _, summary = gradient_diagnostics(
        lambda s, h: s @ theta, [theta], lambda s, a: 3.0 * s, lambda s: s, starts_of(4, 2), [5]
    )
    assert math.isnan(summary["ftle"]) and summary["ftle_n_horizons"] == 1


def test_no_horizon_gives_an_empty_table():
    theta = torch.zeros(2, dtype=F64, requires_grad=True)
    rows, summary = gradient_diagnostics(
        lambda s, h: s @ theta, [theta], lambda s, a: s, lambda s: s, starts_of(4, 2), []
    )
    assert rows == [] and math.isnan(summary["ftle"]) and summary["ftle_n_horizons"] == 0


# ----- the learned model's return: common random numbers across H -----


def small_model(obs_dim: int, act_dim: int):
    from methods.common.dynamics import ModelSettings, build_model

    settings = ModelSettings(ensemble_size=3, num_elites=2, model_hidden=16, model_layers=2)
    return build_model(settings, obs_dim, act_dim, torch.device("cpu"))


def test_h_step_returns_share_one_rollout_across_h():
    """gamma = 1: R_H is the sum of the first H rewards of ONE sampled rollout (same elites,
    same noise), for every H; a probabilistic untrained ensemble, 6 starts over 2 elites."""
    from methods.common.model_env import ModelEnv

    torch.manual_seed(0)
    model, policy = small_model(3, 1), chaos.DeterministicPolicy(3, 1, 8, 1)
    never = lambda s: torch.zeros(s.shape[0], dtype=torch.bool)  # noqa: E731
    h_step_return = chaos.common_random_return(model, never, policy, seed=5, gamma=1.0)
    starts = torch.randn(6, 3, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        env = ModelEnv(model, never, torch.Generator().manual_seed(5))
        rewards = env.rollout(starts, 10, policy=policy, mode="TSinf", sample=True).reward
        for horizon in (1, 2, 5, 10):
            torch.testing.assert_close(h_step_return(starts, horizon),
                                       rewards[:horizon].sum(0))  # fmt: skip


# ----- run_chaos writes the new table beside the old ones -----


def test_run_chaos_writes_gradient_diagnostics(monkeypatch, tmp_path):
    """An untrained small ensemble stands in for the fitted one (no training here)."""

    def untrained(env_id, seed, steps, device):
        env = chaos.make_env(env_id)
        return small_model(env.observation_space.shape[0], env.action_space.shape[0]), None

    monkeypatch.setattr(chaos, "_fit_on_random_data", untrained)
    torch.set_num_threads(1)
    summary = chaos.run_chaos(
        "gym-Pendulum-v1", 0, tmp_path, None, n_starts=8, steps=5, horizons=(1, 2, 5),
        random_steps=10, device=torch.device("cpu"),
    )  # fmt: skip
    table = pd.read_csv(tmp_path / "gradient_diagnostics.csv")
    assert tuple(table.columns) == GRADIENT_DIAGNOSTICS_COLUMNS
    assert table.horizon.tolist() == [1, 2, 5]
    assert (table.n_starts == 8).all() and (table.n_batches == 8).all()
    assert np.isfinite(table[["grad_norm", "log_sigma1_median"]].to_numpy()).all()
    assert (table.grad_norm > 0).all()
    old = pd.read_csv(tmp_path / "gradient_norm.csv")
    assert list(old.columns) == ["horizon", "mean_log10_grad_norm", "std_log10_grad_norm",
                                 "median_grad_norm", "n"]  # fmt: skip
    written = pd.read_csv(tmp_path / "summary.csv")
    for key in ("growth_rate_per_step", "grad_norm_loglog_slope_vs_H", "ftle", "ftle_h_min",
                "ftle_h_max", "ftle_n_horizons"):  # fmt: skip
        assert key in written.columns and key in summary
    assert np.isfinite(summary["ftle"]) and summary["ftle_n_horizons"] == 3
