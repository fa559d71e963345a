import pytest
import torch

from methods.common.ensemble import GaussianEnsemble
from methods.common.envs import never_terminates
from methods.common.model_env import ModelEnv


def constant_member_model(members: int = 5, obs_dim: int = 2) -> GaussianEnsemble:
    """Member e predicts delta-state = e + 1 in every dim and reward = e + 1, tiny variance."""
    model = GaussianEnsemble(obs_dim, 1, members=members, elites=members, hidden=8, layers=1)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.max_logvar.fill_(-20.0)
        model.min_logvar.fill_(-30.0)
        values = torch.arange(1, members + 1, dtype=torch.float32)
        model.head.bias[:, 0, : obs_dim + 1] = values[:, None]
        model.head.bias[:, 0, obs_dim + 1 :] = -30.0
    return model


def zero_policy(obs):
    return torch.zeros(obs.shape[0], 1)


def test_rollout_shapes():
    gen = torch.Generator().manual_seed(0)
    env = ModelEnv(constant_member_model(), never_terminates, gen)
    ro = env.rollout(torch.zeros(10, 2), horizon=4, policy=zero_policy, with_disagreement=True)
    assert ro.obs.shape == ro.next_obs.shape == (4, 10, 2)
    assert ro.act.shape == (4, 10, 1)
    assert ro.reward.shape == ro.done.shape == ro.valid.shape == ro.disagreement.shape == (4, 10)
    torch.testing.assert_close(ro.obs[1:], ro.next_obs[:-1])


def test_tsinf_keeps_the_member_of_each_particle():
    gen = torch.Generator().manual_seed(0)
    env = ModelEnv(constant_member_model(), never_terminates, gen)
    ro = env.rollout(torch.zeros(20, 2), horizon=6, policy=zero_policy, mode="TSinf", sample=False)
    step_sizes = ro.next_obs[..., 0] - ro.obs[..., 0]  # (H, B) = member value
    assert (step_sizes == step_sizes[0]).all()  # same member at every step
    counts = torch.bincount(step_sizes[0].round().long(), minlength=6)[1:]
    assert (counts == 4).all()  # balanced over 5 members


def test_ts1_and_random_member_redraw_members():
    gen = torch.Generator().manual_seed(0)
    env = ModelEnv(constant_member_model(), never_terminates, gen)
    for mode in ("TS1", "random-member"):
        ro = env.rollout(torch.zeros(50, 2), horizon=5, policy=zero_policy, mode=mode, sample=False)
        step_sizes = ro.next_obs[..., 0] - ro.obs[..., 0]
        assert not (step_sizes == step_sizes[0]).all()
        assert set(step_sizes.round().long().unique().tolist()) <= {1, 2, 3, 4, 5}


def test_mean_mode_averages_elites_and_reward_is_predicted():
    env = ModelEnv(constant_member_model(), never_terminates)
    res = env.step(torch.zeros(3, 2), torch.zeros(3, 1), mode="mean", with_disagreement=True)
    torch.testing.assert_close(res.next_obs, torch.full((3, 2), 3.0))
    torch.testing.assert_close(res.reward, torch.full((3,), 3.0))
    assert (res.disagreement > 1.0).all()


def test_grouped_and_full_paths_agree():
    torch.manual_seed(0)
    model = GaussianEnsemble(3, 2, members=4, elites=3, hidden=16)
    env = ModelEnv(model, never_terminates)
    obs, act = torch.randn(12, 3), torch.randn(12, 2)
    slot = torch.arange(12) % 3
    grouped = env._predict_assigned(obs, act, slot)
    all_mean, all_var = env._predict_all(obs, act)
    rows = torch.arange(12)
    torch.testing.assert_close(grouped[0], all_mean[slot, rows])
    torch.testing.assert_close(grouped[1], all_var[slot, rows])


def test_termination_masks_later_steps_and_freezes_state():
    def terminate_past_two(next_obs):
        return next_obs[..., 0] > 2.5

    gen = torch.Generator().manual_seed(0)
    env = ModelEnv(constant_member_model(members=1), terminate_past_two, gen)
    ro = env.rollout(torch.zeros(4, 2), horizon=5, policy=zero_policy, mode="TSinf", sample=False)
    # delta 1 per step: next_obs = 1, 2, 3 (done) ...
    assert ro.done[:, 0].tolist() == [False, False, True, True, True]
    assert torch.equal(ro.terminal, ro.done)  # the env's own termination
    assert ro.valid[:, 0].tolist() == [True, True, True, False, False]
    assert (ro.obs[3:, :, 0] == 2.0).all()  # frozen at the last live state


def test_open_loop_actions_are_used():
    model = constant_member_model(members=1)
    env = ModelEnv(model, never_terminates)
    actions = torch.randn(3, 4, 1)
    ro = env.rollout(torch.zeros(4, 2), horizon=3, actions=actions, mode="mean")
    torch.testing.assert_close(ro.act, actions)


def test_numeric_guards_end_and_count_bad_rollouts():
    model = constant_member_model(members=1)
    env = ModelEnv(model, never_terminates)
    env.set_state_bounds(torch.tensor([[0.0, 0.0], [2.0, 2.0]]), margin=0.5)  # allowed [-1, 3]
    with torch.no_grad():
        ro = env.rollout(torch.zeros(4, 2), horizon=5, policy=zero_policy, mode="mean")
    # delta 1 per step: 1, 2, 3 inside, 4 outside -> done at step 4
    assert ro.done[:, 0].tolist() == [False, False, False, True, True]
    assert ro.valid[:, 0].tolist() == [True, True, True, True, False]
    assert not ro.terminal.any()  # a cut by the range guard, not an env termination
    keep = ro.valid & (ro.terminal | ~ro.done)  # what MBPO stores: steps 1-3 only
    assert keep[:, 0].tolist() == [True, True, True, False, False]
    counts = env.pop_guard_counts()
    assert counts["rollout/out_of_bounds_fraction"] == 8 / 20  # steps 4 and 5 of 4 samples
    assert counts["rollout/non_finite_fraction"] == 0.0
    with torch.no_grad():
        model.head.bias[0, 0, 0] = float("nan")
        ro = env.rollout(torch.zeros(3, 2), horizon=2, policy=zero_policy, mode="mean")
    assert ro.done.all() and torch.isfinite(ro.next_obs).all() and (ro.reward == 0).all()
    assert not ro.terminal.any()
    assert env.pop_guard_counts()["rollout/non_finite_fraction"] == 1.0


def test_rollout_keeps_only_the_requested_fields():
    torch.manual_seed(0)
    model = GaussianEnsemble(3, 1, members=4, elites=2, hidden=16)
    start, actions = torch.randn(6, 3), torch.randn(5, 6, 1)

    def run(fields):
        env = ModelEnv(model, never_terminates, torch.Generator().manual_seed(1))
        return env.rollout(start, 5, actions=actions, mode="TSinf", fields=fields)

    full, lean = run(None), run(("reward", "valid"))
    torch.testing.assert_close(lean.reward, full.reward)
    assert torch.equal(lean.valid, full.valid)
    assert lean.obs is None and lean.next_obs is None and lean.act is None
    with pytest.raises(ValueError, match="rewards"):
        run(("rewards",))
