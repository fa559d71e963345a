import pytest
import torch

from methods.common.buffer import Batch
from methods.common.sac_agent import SACAgent, SACParams


def _batch(generator: torch.Generator) -> Batch:
    def randn(*shape):
        return torch.randn(*shape, generator=generator)

    return Batch(randn(256, 11), randn(256, 3).clamp(-1, 1), randn(256), randn(256, 11),
                 torch.zeros(256))  # fmt: skip


def _trained(params: SACParams, updates: int, device: str = "cpu") -> SACAgent:
    """An agent after ``updates`` updates on seeded batches (same start for any params)."""
    torch.manual_seed(0)
    agent = SACAgent(11, 3, params, device, torch.Generator(device).manual_seed(2))
    gen = torch.Generator().manual_seed(1)
    for _ in range(updates):
        agent.update(Batch(*(x.to(device) for x in _batch(gen))))
    return agent


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_update_moves_every_learner_and_keeps_fp32_state(precision):
    torch.manual_seed(0)
    agent = SACAgent(11, 3, SACParams(sac_precision=precision))
    before = {k: v.clone() for k, v in agent.state_dict().items()}
    agent.update(_batch(torch.Generator().manual_seed(1)))
    after = agent.state_dict()
    for name in ("actor.head.weight", "critic.layers.0.weight", "log_alpha",
                 "critic_target.layers.2.weight"):  # fmt: skip
        assert not torch.equal(before[name], after[name]), name
    assert all(v.dtype == torch.float32 for v in after.values())
    stats = agent.pop_stats()
    assert set(stats) == {"sac/critic_loss", "sac/actor_loss", "sac/alpha", "sac/entropy",
                          "sac/q_mean"}  # fmt: skip


def test_bf16_update_tracks_the_fp32_update():
    """sac_precision=bf16 runs the hidden layers' matmuls in bfloat16; Q and the policy's
    outputs stay fp32, so 20 updates from the same start stay close to fp32's."""
    fp32, bf16 = (_trained(SACParams(sac_precision=p), 20) for p in ("fp32", "bf16"))
    obs, act = torch.randn(64, 11), torch.rand(64, 3) * 2 - 1
    q32, q16 = fp32.critic(obs, act), bf16.critic(obs, act)
    assert q16.dtype == torch.float32
    assert not torch.equal(q32, q16)  # the bf16 path really ran in lower precision
    torch.testing.assert_close(q16, q32, rtol=0.05, atol=0.02)
    torch.testing.assert_close(bf16.actor.deterministic(obs), fp32.actor.deterministic(obs),
                               rtol=0.05, atol=0.02)  # fmt: skip


def test_stats_are_the_mean_since_the_last_pop():
    """pop_stats averages the updates since the previous pop (the sum is reset in place, as
    a captured update keeps adding into the same tensor): popping after each of two updates
    gives s1 and s2, one pop after both gives their mean."""

    def run(pops: list[int]) -> list[dict[str, float]]:
        torch.manual_seed(0)
        agent = SACAgent(11, 3, SACParams(), generator=torch.Generator().manual_seed(2))
        gen, out = torch.Generator().manual_seed(1), []
        for i in range(2):
            agent.update(_batch(gen))
            if i in pops:
                out.append(agent.pop_stats())
        assert agent.pop_stats() == {}
        return out

    s1, s2 = run([0, 1])
    (mean,) = run([1])
    assert s1 != s2
    for key in s1:
        assert mean[key] == pytest.approx((s1[key] + s2[key]) / 2, rel=1e-5), key


def test_cuda_graphs_option_changes_nothing_on_cpu_and_checkpoints_drop_the_graph(tmp_path):
    """On CPU ``cuda_graphs`` is ignored (the same bytes); a pickled agent leaves its captured
    graph behind (checkpoints; it is captured again after resuming)."""
    agents = [_trained(SACParams(cuda_graphs=graphs), 3) for graphs in (False, True)]
    assert not agents[1].use_graph
    for name, value in agents[0].state_dict().items():
        assert torch.equal(value, agents[1].state_dict()[name]), name
    agents[1]._captured = lambda *fields: fields  # stands in for a graph: not picklable
    torch.save(agents[1], tmp_path / "agent.pt")
    loaded = torch.load(tmp_path / "agent.pt", weights_only=False)
    assert loaded._captured is None and agents[1]._captured is not None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_captured_update_replays_the_eager_update(precision):
    """With ``cuda_graphs`` the updates (first eager, then captured and replayed) give the
    weights, Adam moments and stats of eager updates from the same seeds: the capture's
    warm-up update is undone and the registered generator draws the same noise."""
    eager, graphed = (_trained(SACParams(cuda_graphs=graphs, sac_precision=precision), 5, "cuda")
                      for graphs in (False, True))  # fmt: skip
    assert graphed.use_graph and graphed._captured is not None
    for name, value in eager.state_dict().items():
        torch.testing.assert_close(graphed.state_dict()[name], value, rtol=1e-5, atol=1e-6,
                                   msg=name)  # fmt: skip
    stats_eager, stats_graphed = eager.pop_stats(), graphed.pop_stats()
    for key, value in stats_eager.items():
        assert abs(stats_graphed[key] - value) <= 1e-4 * max(1.0, abs(value)), key
