"""Where does an MBPO run's critic error come from: the model's transitions or the critic's
fit? Prints one JSON line per slice of the run's real data.

    python studies/mbpo_hopper_30k/mbpo_td_diagnosis.py --checkpoint RUN/checkpoint.pt [--rows 5000]

For slices of the real replay buffer (the random-exploration phase, the first policy data,
the newest data) and for a sample of the model buffer, with the checkpoint's critic, policy
and ensemble: the per-critic TD MSE against the real transition's target, against the target
built from the model's mean prediction for the same (s, a), and against a target from a
sampled prediction (a random elite plus Gaussian noise, as the rollouts draw them), and the
gap between the real and the model-mean targets (bias, RMS) and the reward's RMS error. If
the model-built targets sit close to the real ones while the TD error is large either way,
the critic's fit, not the model, is what is off. One more line checks the model's
terminations against the real ones on the same (s, a).

``--bias-episodes N`` adds the critic's value bias on the real env: N episodes of the
training (stochastic) policy from reset; at every visited (s, a) with at least
``--bias-tail`` steps left before the time limit (or whose episode terminated), the twin
critics' min-Q and mean-Q against the discounted soft Monte-Carlo return r_0 + sum_t>=1
gamma^t (r_t - alpha log pi(a_t | s_t)) that Q estimates (as in the TD3 / REDQ bias checks).
"""

from __future__ import annotations

import argparse
import json

import torch

from methods.common.buffer import Batch
from methods.common.envs import get_spec


def soft_value(sac, next_obs: torch.Tensor, alpha: float, gen) -> torch.Tensor:
    """min-Q of the target critics minus the entropy term, at the policy's sampled action."""
    action, logp = sac.actor.sample(next_obs, gen)
    return sac.critic_target(next_obs, action).min(0).values - alpha * logp


@torch.no_grad()
def diagnose(state: dict, checkpoint: str, rows: int, seed: int) -> list[dict]:
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
    out.append(termination_check(state, model))
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


@torch.no_grad()
def termination_check(state: dict, model) -> dict:
    """Does the model's mean prediction end the episode where the real env did? Over the real
    buffer: the share of real terminal transitions whose predicted next state the env's
    termination function also ends, and the share of non-terminal ones it ends wrongly."""
    real = state["buffer"].all()
    terminates = get_spec(state["config"]["env"]).termination_fn
    predicted = torch.zeros(real.obs.shape[0], dtype=torch.bool)
    for rows in torch.arange(real.obs.shape[0]).split(4096):
        mean, _ = model.predict(real.obs[rows], real.act[rows], members=model.elites)
        predicted[rows] = terminates(real.obs[rows] + mean.mean(0)[:, :-1])
    ended = real.terminated.bool()
    hit = float(predicted[ended].float().mean()) if ended.any() else float("nan")
    false_alarm = float(predicted[~ended].float().mean())
    return {"slice": "terminations (model mean vs real)", "real_terminal": int(ended.sum()),
            "predicted_of_real_terminal": round(hit, 3),
            "predicted_of_non_terminal": round(false_alarm, 4)}  # fmt: skip


@torch.no_grad()
def value_bias(state: dict, checkpoint: str, episodes: int, tail: int, seed: int) -> dict:
    """Critic min-Q / mean-Q vs the soft Monte-Carlo return on real episodes (see above)."""
    sac = state["agent"]["sac"]
    gamma, alpha = sac.params.gamma, float(sac.log_alpha.exp())
    env = get_spec(state["config"]["env"]).make()
    gen = torch.Generator().manual_seed(seed)
    q_min, q_mean, mc, lengths, to_end = [], [], [], [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        rows: list[tuple[torch.Tensor, torch.Tensor, float, float]] = []
        terminated = truncated = False
        while not (terminated or truncated):
            o = torch.as_tensor(obs, dtype=torch.float32).unsqueeze(0)
            action, logp = sac.actor.sample(o, gen)
            obs, reward, terminated, truncated, _ = env.step(action[0].numpy())
            rows.append((o[0], action[0], float(reward), float(logp[0])))
        lengths.append(len(rows))
        # G_t = r_t + gamma S_{t+1}, S_t = r_t - alpha log pi_t + gamma S_{t+1} (S = 0 past
        # the end: exact after a termination, cut short by the time limit otherwise)
        soft_next, returns = 0.0, [0.0] * len(rows)
        for t in range(len(rows) - 1, -1, -1):
            _, _, reward, logp = rows[t]
            returns[t] = reward + gamma * soft_next
            soft_next = reward - alpha * logp + gamma * soft_next
        usable = len(rows) if terminated else max(len(rows) - tail, 0)
        if usable:
            o = torch.stack([r[0] for r in rows[:usable]])
            a = torch.stack([r[1] for r in rows[:usable]])
            q = sac.critic(o, a)
            q_min.append(q.min(0).values)
            q_mean.append(q.mean(0))
            mc.append(torch.tensor(returns[:usable]))
            # steps left to the termination (inf if the time limit ended the episode)
            left = torch.arange(len(rows), 0, -1, dtype=torch.float32)[:usable]
            to_end.append(left if terminated else torch.full((usable,), float("inf")))
    if not mc:
        return {"checkpoint": checkpoint, "error": "no usable steps (episodes too short)"}
    q_min_all, q_mean_all, mc_all = torch.cat(q_min), torch.cat(q_mean), torch.cat(mc)
    scale = mc_all.abs().mean().clamp_min(1e-6)
    left_all, bias = torch.cat(to_end), q_min_all - mc_all
    by_distance = {}  # the bias by steps left before a termination
    for name, lo, hi in (("1-10", 1, 10), ("11-50", 11, 50), ("51-more", 51, float("inf"))):
        pick = (left_all >= lo) & (left_all <= hi)
        if pick.any():
            by_distance[name] = {
                "steps": int(pick.sum()), "q_min": round(float(q_min_all[pick].mean()), 1),
                "mc": round(float(mc_all[pick].mean()), 1),
                "bias": round(float(bias[pick].mean()), 1)}  # fmt: skip
    return {"checkpoint": checkpoint, "env_steps": len(state["buffer"]), "alpha": round(alpha, 3),
            "episodes": episodes, "episode_lengths": lengths, "steps_used": int(mc_all.numel()),
            "mc_soft_return_mean": round(float(mc_all.mean()), 2),
            "q_min_mean": round(float(q_min_all.mean()), 2),
            "q_mean_mean": round(float(q_mean_all.mean()), 2),
            "bias_q_min": round(float(bias.mean()), 2),
            "bias_q_min_normalised": round(float(bias.mean() / scale), 3),
            "bias_q_min_std": round(float(bias.std()), 2),
            "bias_by_steps_to_termination": by_distance}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True, help="an mbpo / dyna run's checkpoint.pt")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bias-episodes", type=int, default=0, help="value-bias episodes")
    parser.add_argument("--bias-tail", type=int, default=300, help="steps kept from the limit")
    args = parser.parse_args()
    torch.set_num_threads(1)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    for row in diagnose(state, args.checkpoint, args.rows, args.seed):
        print(json.dumps(row), flush=True)
    if args.bias_episodes:
        bias = value_bias(state, args.checkpoint, args.bias_episodes, args.bias_tail, args.seed)
        print(json.dumps({"slice": "value bias (real episodes)", **bias}), flush=True)


if __name__ == "__main__":
    main()
