import numpy as np
import pytest
import torch

from methods.mpc import cem, random_shooting


def quadratic_objective(target: torch.Tensor):
    """Higher is better: -||a - target||^2 summed over the horizon, (P, H, A) -> (P,)."""
    return lambda c: -((c - target) ** 2).sum(dim=(1, 2))


def test_cem_converges_on_a_quadratic_in_a_few_iterations():
    gen = torch.Generator().manual_seed(0)
    target = torch.tensor([[0.3, -0.5], [0.8, 0.1], [-0.2, 0.6]])
    errors = []
    for iterations in (1, 3, 6):
        plan = cem(quadratic_objective(target), torch.zeros(3, 2), population=400, elites=40,
                   iterations=iterations, smoothing=0.1, init_std=0.5, generator=gen)  # fmt: skip
        errors.append(float((plan - target).abs().max()))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05


def test_cem_respects_action_bounds():
    gen = torch.Generator().manual_seed(1)
    target = torch.full((4, 1), 3.0)  # optimum outside [-1, 1]
    plan = cem(quadratic_objective(target), torch.zeros(4, 1), 200, 20, 8, 0.1, 0.5, gen)
    assert (plan <= 1.0).all() and (plan > 0.95).all()


def test_random_shooting_picks_the_best_candidate():
    gen = torch.Generator().manual_seed(0)
    target = torch.zeros(2, 1)
    plan = random_shooting(quadratic_objective(target), 2, 1, 5000, gen, "cpu")
    assert plan.shape == (2, 1) and float(plan.abs().max()) < 0.1


def test_colored_noise_has_unit_variance_and_red_spectrum():
    from methods.mpc import colored_noise

    gen = torch.Generator().manual_seed(0)
    white, red = (colored_noise(b, (2000, 32, 1), gen, "cpu") for b in (0.0, 2.0))
    assert abs(float(white.std()) - 1.0) < 0.05 and abs(float(red.std()) - 1.0) < 0.05

    def lag1(x):
        return float((x[:, 1:] * x[:, :-1]).mean() / (x * x).mean())

    assert abs(lag1(white)) < 0.05 and lag1(red) > 0.5  # red noise is smooth in time


def test_icem_converges_with_fewer_evaluations_than_cem():
    from methods.mpc import icem

    gen = torch.Generator().manual_seed(0)
    target = torch.tensor([[0.3, -0.5], [0.8, 0.1], [-0.2, 0.6]])
    plan, _, carried, scored = icem(quadratic_objective(target), torch.zeros(3, 2),
                                    population=100, elites=10, iterations=5, smoothing=0.1,
                                    init_std=0.5, generator=gen, beta=0.0)  # fmt: skip
    assert float((plan - target).abs().max()) < 0.15
    assert scored < 400 * 6 / 3  # CEM above used 400 per iteration
    assert carried.shape[1:] == (3, 2)


def test_icem_can_execute_its_final_mean():
    """execute="mean" returns the sampling mean after the last iteration (as CEM), which a
    quadratic pulls to the target; "best" returns a sequence that was scored."""
    from methods.mpc import icem

    target = torch.tensor([[0.3, -0.5], [0.8, 0.1], [-0.2, 0.6]])
    scored_sequences = []

    def objective(candidates):
        scored_sequences.append(candidates)
        return quadratic_objective(target)(candidates)

    for execute in ("best", "mean"):
        scored_sequences.clear()
        gen = torch.Generator().manual_seed(0)
        plan = icem(objective, torch.zeros(3, 2), population=100, elites=10, iterations=5,
                    smoothing=0.1, init_std=0.5, generator=gen, beta=0.0,
                    execute=execute).plan  # fmt: skip
        assert float((plan - target).abs().max()) < 0.15
        was_scored = any(bool((c == plan).all(-1).all(-1).any()) for c in scored_sequences)
        assert was_scored == (execute == "best")


def test_bf16_planning_scores_rank_candidates_as_fp32_does():
    """planning_precision=bf16 runs the model's matmuls in bfloat16; the candidates' scores
    must stay close to fp32's, in float32, and rank the candidates alike."""
    from methods.common.training import offline_context
    from methods.mpc import Config, MPCAgent

    torch.manual_seed(0)
    ctx = offline_context("gym-Pendulum-v1", "t", 3, 1)
    fp32, bf16 = (
        MPCAgent(ctx, Config(horizon=10, population=64, particles=1, propagation="mean",
                             planning_precision=precision))
        for precision in ("fp32", "bf16")
    )  # fmt: skip
    bf16.model.load_state_dict(fp32.model.state_dict())
    inputs = torch.randn(500, 4)
    targets = torch.cat([0.1 * torch.randn(500, 3), -torch.rand(500, 1)], -1)
    for agent in (fp32, bf16):
        agent.model.input_norm.fit(inputs)
        agent.model.target_norm.fit(targets)
    obs = torch.tensor([[1.0, 0.0, 0.0]])
    candidates = torch.rand(64, 10, 1, generator=torch.Generator().manual_seed(1)) * 2 - 1
    a, b = fp32.model_returns(obs, candidates), bf16.model_returns(obs, candidates)
    assert b.dtype == torch.float32
    assert not torch.equal(a, b)  # the bf16 path really ran in lower precision
    assert torch.allclose(a, b, rtol=0.02, atol=0.02 * a.abs().mean().item())
    ranks_a, ranks_b = a.argsort().argsort().float(), b.argsort().argsort().float()
    assert torch.corrcoef(torch.stack([ranks_a, ranks_b]))[0, 1] > 0.95


@pytest.mark.parametrize("optimiser", ["cem", "icem"])
def test_evaluation_keeps_its_warm_start_apart_from_the_training_episode(optimiser):
    """An evaluation between two actions of a training episode must neither start from the
    training plan nor leave its own plan (or iCEM's kept elites) to the training episode:
    each evaluation episode starts from a zero plan, and the training memory is untouched."""
    import gymnasium as gym

    from methods.common.envs import make_env
    from methods.common.training import evaluate, offline_context
    from methods.mpc import Config, MPCAgent

    torch.manual_seed(0)
    ctx = offline_context("gym-Pendulum-v1", "t", 3, 1)
    agent = MPCAgent(ctx, Config(optimiser=optimiser, horizon=4, population=16, cem_elites=4,
                                 iterations=2, particles=1, propagation="mean"))  # fmt: skip
    agent.model.input_norm.fit(torch.randn(200, 4))
    agent.model.target_norm.fit(torch.randn(200, 4) * 0.1)
    obs = torch.tensor([1.0, 0.0, 0.5]).numpy()
    agent.on_reset(obs)
    agent.plan_action(obs)
    train = agent.warm["train"]
    plan, carried = train.plan.clone(), None if train.carried is None else train.carried.clone()
    assert plan.abs().sum() > 0

    starts = []
    original = agent.on_eval_reset

    def spy(first_obs):
        original(first_obs)
        starts.append(agent.warm["eval"].plan.abs().sum().item())

    agent.on_eval_reset = spy
    agent.warm["eval"].plan.fill_(0.7)  # a leftover from an earlier evaluation
    env = gym.wrappers.TimeLimit(make_env("gym-Pendulum-v1"), max_episode_steps=5)
    returns, _, _ = evaluate(agent, env, episodes=2, seed=0)
    assert len(returns) == 2 and starts == [0.0, 0.0]  # reset before each episode
    assert agent.warm["eval"].plan.abs().sum() > 0  # the evaluation planned in its own memory
    assert torch.equal(train.plan, plan)
    if carried is not None:
        assert torch.equal(train.carried, carried)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device")
def test_cuda_graph_search_replays_the_eager_search():
    """The captured planner (one CUDA graph per action) computes what the eager search
    computes from the same generator states, and draws fresh samples on every replay."""
    from methods.common.training import offline_context
    from methods.mpc import Config, MPCAgent

    ctx = offline_context("gym-Pendulum-v1", "t", 3, 1, device=torch.device("cuda"))
    agent = MPCAgent(ctx, Config(horizon=8, population=40, cem_elites=5, particles=5,
                                 ensemble_size=5, num_elites=5))  # fmt: skip
    assert agent.use_graph
    agent.model.input_norm.fit(torch.randn(500, 4, device="cuda"))
    agent.model.target_norm.fit(torch.randn(500, 4, device="cuda") * 0.1)
    obs, warm = torch.tensor([[1.0, 0.0, 0.0]], device="cuda"), agent.warm["train"].plan.clone()
    captured = agent.captured_search()

    def reseed():
        agent.gen.manual_seed(7)
        agent.model_env.generator.manual_seed(8)

    reseed()
    eager_plan, eager_score = (x.clone() for x in agent.search(obs, warm))
    reseed()
    plan, score = (x.clone() for x in captured(obs, warm))
    torch.testing.assert_close(plan, eager_plan, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(score, eager_score, rtol=1e-4, atol=1e-4)
    again, _ = captured(obs, warm)
    assert not torch.equal(again, plan)  # the registered generators advanced


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"icem_execute": "median"}, "'icem_execute' must be 'best' or 'mean'"),
        ({"optimiser": "mppi"}, "'optimiser' must be one of"),
    ],
)
def test_bad_planner_settings_are_refused(overrides, message):
    from methods.common.envs import get_spec
    from methods.common.errors import UserError
    from methods.mpc import Config

    with pytest.raises(UserError, match=message):
        Config(**overrides).validate(get_spec("gym-Pendulum-v1"))


# ----- issue 35: PETS trajectory sampling, iCEM as the paper, CEM's truncated sampling -----


def elite_coded_model(members: int, elites: list[int], base: int):
    """An ensemble whose elite slot k predicts reward ``base ** k`` (member indices
    ``elites``; the other members -1e6), no change of state and a negligible variance: a
    candidate's summed particle rewards spell out, in base ``base``, how many of its
    particles each elite carried."""
    from methods.common.ensemble import GaussianEnsemble

    model = GaussianEnsemble(3, 1, members=members, elites=len(elites), hidden=8, layers=1)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.max_logvar.fill_(-20.0)
        model.min_logvar.fill_(-30.0)
        model.head.bias[:, 0, 3] = -1e6
        for k, member in enumerate(elites):
            model.head.bias[member, 0, 3] = float(base**k)
        model.head.bias[:, 0, 4:] = -30.0
        model.elites.copy_(torch.tensor(elites))
    return model


@pytest.mark.parametrize(("propagation", "particles"),
                         [("TSinf", 10), ("TSinf", 7), ("TSinf", 3), ("TSinf", 5), ("TS1", 10),
                          ("TS1", 7)])  # fmt: skip
def test_every_candidate_gets_an_equal_share_of_particles_per_elite(propagation, particles):
    """PETS's trajectory sampling: each candidate's particles cover min(P, E) distinct elites,
    the counts differing by at most 1 (before, a random permutation of the whole batch left
    ~90 of 200 candidates without one of 5 elites at 10 particles)."""
    from methods.common.training import offline_context
    from methods.mpc import Config, MPCAgent

    ctx = offline_context("gym-Pendulum-v1", "t", 3, 1)
    horizon, elites, base = (2 if propagation == "TSinf" else 1), [6, 1, 4, 0, 3], particles + 1
    agent = MPCAgent(ctx, Config(horizon=horizon, population=200, particles=particles,
                                 propagation=propagation, ensemble_size=7,
                                 num_elites=5))  # fmt: skip
    agent.model_env.model = elite_coded_model(7, elites, base)
    candidates = torch.rand(200, horizon, 1, generator=torch.Generator().manual_seed(0)) * 2 - 1
    scores = agent.model_returns(torch.zeros(1, 3), candidates)
    totals = (scores * particles / horizon).round().long()  # (200,) summed particle rewards
    counts = torch.stack([(totals // base**k) % base for k in range(len(elites))], 1)  # (200, E)
    assert (counts.sum(1) == particles).all()  # every particle went through an elite
    assert ((counts > 0).sum(1) == min(particles, len(elites))).all()
    assert (counts.max(1).values - counts.min(1).values <= 1).all()


@pytest.mark.parametrize("particles", [10, 7])
def test_tsinf_particles_keep_their_elite_round_robin(particles):
    """With ``particles`` the batch is candidate-major; particle j of every candidate keeps
    one elite for the whole rollout, elite (j + r) mod E for one random rotation r."""
    from methods.common.envs import never_terminates
    from methods.common.model_env import ModelEnv

    elites = [6, 1, 4, 0, 3]
    model = elite_coded_model(7, elites, base=2)
    env = ModelEnv(model, never_terminates, torch.Generator().manual_seed(0))
    pop, horizon = 6, 4
    ro = env.rollout(torch.zeros(pop * particles, 3), horizon,
                     actions=torch.zeros(horizon, pop * particles, 1), mode="TSinf",
                     particles=particles)  # fmt: skip
    slot = ro.reward.log2().round().long().view(horizon, pop, particles)  # elite slot k
    assert (slot == slot[0]).all()  # fixed over the horizon
    assert (slot[0] == slot[0, :1]).all()  # the same round robin in every candidate
    j = torch.arange(particles)
    assert torch.equal(slot[0, 0], (j + slot[0, 0, 0]) % len(elites))


def test_ts1_particles_redraw_a_balanced_share_every_step():
    """TS1 with ``particles``: every step each candidate's particles cover all elites equally
    (PETS shuffles within each candidate), and the particle -> elite map changes over time."""
    from methods.common.envs import never_terminates
    from methods.common.model_env import ModelEnv

    model = elite_coded_model(7, [6, 1, 4, 0, 3], base=2)
    env = ModelEnv(model, never_terminates, torch.Generator().manual_seed(0))
    pop, particles, horizon = 8, 10, 6
    ro = env.rollout(torch.zeros(pop * particles, 3), horizon,
                     actions=torch.zeros(horizon, pop * particles, 1), mode="TS1",
                     particles=particles)  # fmt: skip
    slot = ro.reward.log2().round().long().view(horizon, pop, particles)
    counts = torch.nn.functional.one_hot(slot, 5).sum(2)  # (H, pop, E)
    assert (counts == 2).all()
    assert not (slot == slot[0]).all()


def recording(objective):
    """``objective`` that also records every call's candidates and scores."""
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def spy(candidates):
        scores = objective(candidates)
        calls.append((candidates.clone(), scores.clone()))
        return scores

    return spy, calls


def test_icem_executes_the_best_of_its_final_iteration():
    """A lucky score in an early iteration (a stochastic model's winner's curse) must not be
    executed: "best" is the best candidate of the last iteration's scoring (the paper)."""
    from methods.mpc import icem

    target = torch.tensor([[0.3, -0.5], [0.8, 0.1], [-0.2, 0.6]])
    first = []

    def noisy(candidates):
        scores = quadratic_objective(target)(candidates)
        if not first:  # the first iteration's first candidate gets a lucky draw
            first.append(candidates[0].clone())
            scores = scores.clone()
            scores[0] = 1e3
        return scores

    objective, calls = recording(noisy)
    gen = torch.Generator().manual_seed(0)
    result = icem(objective, torch.zeros(3, 2), population=100, elites=10, iterations=4,
                  smoothing=0.1, init_std=0.5, generator=gen, beta=0.0)  # fmt: skip
    plan = result[0]
    assert not torch.equal(plan, first[0])
    last_candidates, last_scores = calls[-1]
    assert torch.equal(plan, last_candidates[last_scores.argmax()])


def test_icem_keeps_a_fraction_of_its_elites_across_iterations():
    """Iterations after the first re-score the previous iteration's best
    ``int(keep_fraction * elites)`` candidates (the paper's keep_previous_elites)."""
    from methods.mpc import icem

    target = torch.tensor([[0.3, -0.5], [0.8, 0.1]])
    objective, calls = recording(quadratic_objective(target))
    gen = torch.Generator().manual_seed(0)
    icem(objective, torch.zeros(2, 2), population=60, elites=10, iterations=3, smoothing=0.1,
         init_std=0.5, generator=gen, beta=0.0, keep_fraction=0.3)  # fmt: skip
    for (previous, scores), (current, _) in zip(calls, calls[1:], strict=False):
        best = previous[torch.topk(scores, 3).indices]
        for sequence in best:
            assert (current == sequence).all(-1).all(-1).any()


def icem_agent(execute: str = "best"):
    from methods.common.training import offline_context
    from methods.mpc import Config, MPCAgent

    torch.manual_seed(0)
    ctx = offline_context("gym-Pendulum-v1", "t", 3, 1)
    agent = MPCAgent(ctx, Config(optimiser="icem", horizon=6, population=40, cem_elites=10,
                                 iterations=3, particles=1, propagation="mean",
                                 icem_execute=execute))  # fmt: skip
    agent.model.input_norm.fit(torch.randn(200, 4))
    agent.model.target_norm.fit(torch.randn(200, 4) * 0.1)
    return agent


def spy_on_icem(monkeypatch) -> list[dict]:
    """Record each call of ``methods.mpc.icem``: its warm-start inputs and its result."""
    import methods.mpc as mpc

    calls: list[dict] = []
    original = mpc.icem

    def spy(objective, init_mean, *args, **kwargs):
        carried = kwargs.get("carried", args[9] if len(args) > 9 else None)
        result = original(objective, init_mean, *args, **kwargs)
        calls.append({"init_mean": init_mean.clone(), "result": result,
                      "carried": None if carried is None else carried.clone()})  # fmt: skip
        return result

    monkeypatch.setattr(mpc, "icem", spy)
    return calls


def test_icem_warm_start_shifts_the_mean_padded_with_its_last_action(monkeypatch):
    """The next search starts from the last search's final sampling mean shifted by one
    step, its last action repeated at the end (the paper's shift of the mean), not from the
    executed sequence padded with zeros."""
    agent, calls = icem_agent("best"), spy_on_icem(monkeypatch)
    obs = np.array([1.0, 0.0, 0.5], dtype=np.float32)
    agent.on_reset(obs)
    first_action = agent.plan_action(obs)
    agent.plan_action(obs)
    executed = calls[0]["result"][0]
    np.testing.assert_array_equal(first_action, executed[0].numpy())
    warm = calls[1]["init_mean"]
    assert torch.equal(warm[-1], warm[-2]) and warm[-1].abs().sum() > 0  # padded by repetition
    assert not torch.equal(warm[:-1], executed[1:])  # the mean, not the executed sequence
    mean = calls[0]["result"].mean
    assert torch.equal(warm, torch.cat([mean[1:], mean[-1:]]))


def test_icem_carried_elites_are_shifted_and_padded_with_a_fresh_sample(monkeypatch):
    """Elites carried to the next step lose their first action and end with an action
    drawn around the shifted mean's last one (the paper), not with a zero action."""
    agent, calls = icem_agent("best"), spy_on_icem(monkeypatch)
    obs = np.array([1.0, 0.0, 0.5], dtype=np.float32)
    agent.on_reset(obs)
    agent.plan_action(obs)
    agent.plan_action(obs)
    kept, carried = calls[0]["result"][-2], calls[1]["carried"]
    assert carried is not None and carried.shape == kept.shape
    assert torch.equal(carried[:, :-1], kept[:, 1:])
    last = carried[:, -1]
    assert (last != 0).all() and (last.abs() <= 1).all()


def test_shift_icem_repeats_the_last_mean_action_and_draws_the_elites_last_action():
    """``shift_icem``: the mean (H, A) shifted with its last action repeated; each carried
    elite (K, H, A) shifted and ended by its own draw from N(last mean action, init_std),
    clipped to [-1, 1], from the run's generator."""
    from methods.mpc import shift_icem

    mean = torch.tensor([[0.1, -0.2], [0.3, 0.4], [0.2, -0.4]])
    carried = torch.rand(4000, 3, 2, generator=torch.Generator().manual_seed(1)) * 2 - 1
    shifted, elites = shift_icem(mean, carried, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(shifted, torch.tensor([[0.3, 0.4], [0.2, -0.4], [0.2, -0.4]]))
    assert torch.equal(elites[:, :-1], carried[:, 1:])
    last = elites[:, -1]  # (K, A)
    assert (last.abs() <= 1).all()
    torch.testing.assert_close(last.mean(0), torch.tensor([0.2, -0.4]), atol=0.02, rtol=0)
    assert abs(float(last[:, 0].std()) - 0.3) < 0.02  # unclipped side: the sampling std
    _, again = shift_icem(mean, carried, 0.3, torch.Generator().manual_seed(0))
    assert torch.equal(again, elites)


def test_icem_mean_execution_also_warm_starts_from_the_mean(monkeypatch):
    """``icem_execute: mean`` executes the final mean; the warm start is the same shift."""
    agent, calls = icem_agent("mean"), spy_on_icem(monkeypatch)
    obs = np.array([1.0, 0.0, 0.5], dtype=np.float32)
    agent.on_reset(obs)
    action = agent.plan_action(obs)
    agent.plan_action(obs)
    mean = calls[0]["result"][0]
    np.testing.assert_array_equal(action, mean[0].numpy())
    torch.testing.assert_close(calls[1]["init_mean"], torch.cat([mean[1:], mean[-1:]]))


TRUNCATED_STD = 0.87962  # std of a standard normal truncated to [-2, 2]


def pets_update(calls, init_mean, init_var, smoothing, elites):
    """Replay PETS's CEM update over recorded iterations: the mean and the running
    variance after each one [(H, A), (H, A)]."""
    mean, var, states = init_mean, init_var, []
    for candidates, scores in calls:
        best = candidates[torch.topk(scores, elites).indices]
        mean = smoothing * mean + (1 - smoothing) * best.mean(0)
        var = smoothing * var + (1 - smoothing) * best.var(0, unbiased=False)
        states.append((mean, var))
    return states


def test_cem_bounds_only_the_sampling_std_and_keeps_the_running_std_of_the_elites():
    """PETS: the std is bounded by half the distance to the nearer action bound only to
    sample; the running variance is smoothed from the elites' (before, the bound overwrote
    the running std, so a mean near a bound shrank the search for good)."""
    from methods.mpc import cem

    smoothing, init_mean, init_var = 0.5, torch.full((2, 1), 0.9), torch.full((2, 1), 0.25)
    objective, calls = recording(lambda c: -c.sum(dim=(1, 2)))  # prefers lower actions
    gen = torch.Generator().manual_seed(0)
    cem(objective, init_mean, 4000, 400, 2, smoothing, 0.5, gen)
    (mean, var), _ = pets_update(calls, init_mean, init_var, smoothing, 400)
    bound = torch.minimum(mean + 1, 1 - mean) / 2
    assert (var.sqrt() > bound).all()  # the bound is active in the second iteration
    sampled_std = calls[1][0].std(0, unbiased=False) / TRUNCATED_STD
    torch.testing.assert_close(sampled_std, bound, rtol=0.03, atol=0.0)

    from methods.mpc import cem_search

    gen.manual_seed(0)
    calls.clear()
    final_mean, final_std = cem_search(objective, init_mean, 4000, 400, 2, smoothing, 0.5, gen)
    _, (mean, var) = pets_update(calls, init_mean, init_var, smoothing, 400)
    torch.testing.assert_close(final_mean, mean)
    torch.testing.assert_close(final_std, var.sqrt())  # the elites', not the bound


@pytest.mark.parametrize("start", [0.0, 0.8, -0.95])
def test_cem_samples_a_truncated_normal_without_point_masses(start):
    """Samples follow a normal truncated at +-2 sampling stds (scipy's truncnorm(-2, 2) in
    PETS): none piled up at +-2 std (clamping put ~4.6 % there), all within the action
    bounds, reproducible from the run's generator."""
    from methods.mpc import cem

    objective, calls = recording(lambda c: -c.sum(dim=(1, 2)))
    init_mean = torch.full((3, 2), start)
    cem(objective, init_mean, 20000, 100, 1, 0.1, 0.5, torch.Generator().manual_seed(0))
    candidates = calls[0][0]
    std = torch.minimum(torch.tensor(0.5), torch.minimum(init_mean + 1, 1 - init_mean) / 2)
    z = (candidates - init_mean) / std
    assert (candidates.abs() <= 1).all() and (z.abs() <= 2 + 1e-4).all()
    assert float((z.abs() > 2 - 1e-3).float().mean()) < 2e-3  # no point mass at +-2 std
    assert abs(float(z.std()) - TRUNCATED_STD) < 0.01
    again, calls2 = recording(lambda c: -c.sum(dim=(1, 2)))
    cem(again, init_mean, 20000, 100, 1, 0.1, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(calls2[0][0], candidates)
