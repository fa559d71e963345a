import math

import torch

from methods.bptt import (
    DeterministicPolicy,
    log_max_singular_value_of_jacobian_product,
    model_return,
)
from methods.common.ensemble import GaussianEnsemble
from methods.common.envs import never_terminates
from methods.common.model_env import ModelEnv


def tiny_setup():
    torch.manual_seed(0)
    model = GaussianEnsemble(3, 1, members=1, elites=1, hidden=8, layers=2,
                             probabilistic=False).double()  # fmt: skip
    policy = DeterministicPolicy(3, 1, hidden=8, layers=1).double()
    return ModelEnv(model, never_terminates), policy, torch.randn(4, 3, dtype=torch.float64)


def test_model_return_gradient_matches_finite_differences():
    model_env, policy, starts = tiny_setup()

    def objective() -> torch.Tensor:
        return model_return(model_env, policy, starts, horizon=3, gamma=0.9).mean()

    policy.zero_grad()
    objective().backward()
    for param in policy.parameters():
        flat, grad = param.data.view(-1), param.grad.view(-1)
        for i in range(min(4, flat.numel())):
            old = float(flat[i])
            flat[i] = old + 1e-6
            plus = float(objective())
            flat[i] = old - 1e-6
            minus = float(objective())
            flat[i] = old
            fd = (plus - minus) / 2e-6
            assert math.isclose(float(grad[i]), fd, rel_tol=1e-5, abs_tol=1e-8), (param.shape, i)


def test_jacobian_product_of_a_linear_contraction():
    """Model delta = -0.5 s (next = 0.5 s) and a zero policy: sigma_max = 0.5^H."""
    model_env, _, _ = tiny_setup()
    model = model_env.model
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    # A linear ensemble head on raw inputs: replace the network by next = 0.5 s exactly.
    model.forward_normalized = lambda x, members=None: (
        torch.cat([-0.5 * x[..., :3], torch.zeros_like(x[..., :1])], dim=-1),
        torch.zeros(*x.shape[:-1], 4, dtype=x.dtype),
    )

    def zero_policy(obs):
        return torch.zeros(obs.shape[0], 1, dtype=obs.dtype)

    value = log_max_singular_value_of_jacobian_product(
        model_env, zero_policy, torch.ones(3, dtype=torch.float64), horizon=5
    )
    assert math.isclose(value, 5 * math.log(0.5), rel_tol=1e-9)
