import numpy as np
import torch

from methods.common.buffer import ReplayBuffer
from methods.common.seeding import derive_seeds


def test_buffer_wraps_around_and_keeps_newest():
    buf = ReplayBuffer(2, 1, capacity=5)
    for i in range(8):
        buf.add(np.full(2, i), [i], float(i), np.full(2, i + 1), i % 2 == 0)
    assert len(buf) == 5 and buf.ptr == 3
    assert sorted(buf.reward.tolist()) == [3.0, 4.0, 5.0, 6.0, 7.0]
    assert buf.all().reward.tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]  # oldest first
    assert buf.all().terminated.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]


def test_add_batch_larger_than_capacity_keeps_last():
    buf = ReplayBuffer(1, 1, capacity=3)
    n = torch.arange(7, dtype=torch.float32)
    buf.add_batch(n[:, None], n[:, None], n, n[:, None], torch.zeros(7))
    assert sorted(buf.reward.tolist()) == [4.0, 5.0, 6.0]


def test_sampling_is_seeded_and_shaped():
    def sample(seed):
        buf = ReplayBuffer(3, 2, 100, generator=torch.Generator().manual_seed(seed))
        x = torch.arange(50, dtype=torch.float32)
        buf.add_batch(x[:, None].repeat(1, 3), x[:, None].repeat(1, 2), x, x[:, None].repeat(1, 3),
                      torch.zeros(50))  # fmt: skip
        return buf.sample(4, 8)

    a, b, c = sample(0), sample(0), sample(1)
    assert a.obs.shape == (4, 8, 3) and a.reward.shape == (4, 8)
    assert torch.equal(a.reward, b.reward)
    assert not torch.equal(a.reward, c.reward)
    assert (a.reward < 50).all()


def test_same_seed_same_streams_different_seed_differs():
    s1, s2, s3 = derive_seeds(7), derive_seeds(7), derive_seeds(8)
    assert s1.ints == s2.ints and s1.ints != s3.ints
    assert len(set(s1.ints.values())) == len(s1.ints)  # independent streams
    r1 = torch.randn(5, generator=s1.torch_gen["policy"])
    r2 = torch.randn(5, generator=s2.torch_gen["policy"])
    r3 = torch.randn(5, generator=s3.torch_gen["policy"])
    assert torch.equal(r1, r2) and not torch.equal(r1, r3)
    assert s1.numpy_gen.random() == s2.numpy_gen.random()
    derive_seeds(3)
    w1 = torch.nn.Linear(4, 4).weight.detach().clone()
    derive_seeds(3)
    assert torch.equal(w1, torch.nn.Linear(4, 4).weight)  # network init is seeded too
