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
    plan, carried, scored = icem(quadratic_objective(target), torch.zeros(3, 2), population=100,
                                 elites=10, iterations=5, smoothing=0.1, init_std=0.5,
                                 generator=gen, beta=0.0)  # fmt: skip
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
        plan, _, _ = icem(objective, torch.zeros(3, 2), population=100, elites=10, iterations=5,
                          smoothing=0.1, init_std=0.5, generator=gen, beta=0.0,
                          execute=execute)  # fmt: skip
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
