import pytest
import torch

from methods.common.buffer import Batch
from methods.common.sac_agent import SACAgent, SACParams


def _batch(generator: torch.Generator) -> Batch:
    def randn(*shape):
        return torch.randn(*shape, generator=generator)

    return Batch(randn(256, 11), randn(256, 3).clamp(-1, 1), randn(256), randn(256, 11),
                 torch.zeros(256))  # fmt: skip


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
    agents = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        agent = SACAgent(11, 3, SACParams(sac_precision=precision),
                         generator=torch.Generator().manual_seed(2))  # fmt: skip
        gen = torch.Generator().manual_seed(1)
        for _ in range(20):
            agent.update(_batch(gen))
        agents[precision] = agent
    fp32, bf16 = agents["fp32"], agents["bf16"]
    obs, act = torch.randn(64, 11), torch.rand(64, 3) * 2 - 1
    q32, q16 = fp32.critic(obs, act), bf16.critic(obs, act)
    assert q16.dtype == torch.float32
    assert not torch.equal(q32, q16)  # the bf16 path really ran in lower precision
    torch.testing.assert_close(q16, q32, rtol=0.05, atol=0.02)
    torch.testing.assert_close(bf16.actor.deterministic(obs), fp32.actor.deterministic(obs),
                               rtol=0.05, atol=0.02)  # fmt: skip
