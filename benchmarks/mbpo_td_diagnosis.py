"""Where does an MBPO run's critic error come from: the model's transitions or the critic's
fit? Prints one JSON line per slice of the run's real data.

    python benchmarks/mbpo_td_diagnosis.py --checkpoint RUN/checkpoint.pt [--rows 5000]

For slices of the real replay buffer (the random-exploration phase, the first policy data,
the newest data) and for a sample of the model buffer, with the checkpoint's critic, policy
and ensemble: the per-critic TD MSE against the real transition's target, against the target
built from the model's mean prediction for the same (s, a), and against a target from a
sampled prediction (a random elite plus Gaussian noise, as the rollouts draw them), and the
gap between the real and the model-mean targets (bias, RMS) and the reward's RMS error. If
the model-built targets sit close to the real ones while the TD error is large either way,
the critic's fit, not the model, is what is off.
"""

from __future__ import annotations

import argparse
import json

import torch

from methods.common.buffer import Batch


def soft_value(sac, next_obs: torch.Tensor, alpha: float, gen) -> torch.Tensor:
    """min-Q of the target critics minus the entropy term, at the policy's sampled action."""
    action, logp = sac.actor.sample(next_obs, gen)
    return sac.critic_target(next_obs, action).min(0).values - alpha * logp


@torch.no_grad()
def diagnose(checkpoint: str, rows: int, seed: int) -> list[dict]:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    agent = state["agent"]
    sac, model = agent["sac"], agent["model"]
    gamma, alpha = sac.params.gamma, float(sac.log_alpha.exp())
    gen = torch.Generator().manual_seed(seed)
    real = state["buffer"].all()
    n = real.obs.shape[0]
    random_steps = int(state["config"]["params"].get("random_steps", 0))
    slices = {"random exploration": (0, min(random_steps, rows)),
              "first policy data": (random_steps, min(random_steps + rows, n)),
              "newest data": (max(n - rows, random_steps), n)}  # fmt: skip
    out = []
    for name, (lo, hi) in slices.items():
        if hi <= lo:
            continue
        obs, act, reward, next_obs, done = (x[lo:hi] for x in real)
        q = sac.critic(obs, act)
        target = reward + gamma * (1 - done) * soft_value(sac, next_obs, alpha, gen)
        mean, var = model.predict(obs, act, members=model.elites)  # (E, B, obs_dim + 1)
        mu = mean.mean(0)
        model_target = mu[:, -1] + gamma * (1 - done) * soft_value(sac, obs + mu[:, :-1],
                                                                    alpha, gen)  # fmt: skip
        rows_idx = torch.arange(obs.shape[0])
        member = torch.randint(0, mean.shape[0], (obs.shape[0],), generator=gen)
        noise = torch.randn(mu.shape, generator=gen)
        draw = mean[member, rows_idx] + var[member, rows_idx].sqrt() * noise
        drawn_target = draw[:, -1] + gamma * (1 - done) * soft_value(sac, obs + draw[:, :-1],
                                                                      alpha, gen)  # fmt: skip
        gap = target - model_target
        out.append({"slice": name, "rows": [lo, hi],
                    "td_mse_real_target": round(float(((q - target) ** 2).mean()), 2),
                    "td_mse_model_mean_target": round(float(((q - model_target) ** 2).mean()), 2),
                    "td_mse_model_sample_target": round(float(((q - drawn_target) ** 2).mean()),
                                                        2),
                    "target_gap_bias": round(float(gap.mean()), 3),
                    "target_gap_rms": round(float(gap.pow(2).mean().sqrt()), 3),
                    "reward_rms_error": round(float((reward - mu[:, -1]).pow(2).mean().sqrt()), 4),
                    "q_mean": round(float(q.mean()), 1)})  # fmt: skip
    synthetic = agent["model_buffer"]
    if synthetic is not None and len(synthetic):
        batch = Batch(*(x[0] for x in synthetic.sample(1, rows)))
        q = sac.critic(batch.obs, batch.act)
        target = batch.reward + gamma * (1 - batch.terminated) * soft_value(
            sac, batch.next_obs, alpha, gen)  # fmt: skip
        out.append({"slice": "model buffer sample", "rows": [0, rows],
                    "td_mse_real_target": round(float(((q - target) ** 2).mean()), 2),
                    "q_mean": round(float(q.mean()), 1)})  # fmt: skip
    for row in out:
        row.update(checkpoint=checkpoint, env_steps=n, alpha=round(alpha, 3))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True, help="an mbpo / dyna run's checkpoint.pt")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for row in diagnose(args.checkpoint, args.rows, args.seed):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
