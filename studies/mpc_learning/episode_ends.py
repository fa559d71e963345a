"""Train one run and log where every episode ends: a diagnosis of *how* episodes fail.

    python studies/mpc_learning/episode_ends.py ENDS.jsonl train --variant mpc-icem \
        --env gym-InvertedPendulum-v5 --seed 2 --out runs/diag/s2 --set horizon=45

Everything after the log path is ``python -m methods``'s command line. The run is the same
as without this script (same seeds, same outputs); in addition each episode's end goes to
the JSON-lines log: role (``train`` for the loop's env, ``eval`` for the evaluation env),
length, return, whether it terminated (or was truncated), and its final observation. A
resumed run first cuts the log back to its checkpoint, so each episode is logged once.
On InvertedPendulum the final observation says whether the pole fell mid-rail or the
cart ran into the end of its rail (x = +-1).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import gymnasium as gym

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root

import methods.common.training as training  # noqa: E402
from methods.__main__ import main  # noqa: E402


class EpisodeEndLog(gym.Wrapper):
    """Appends one JSON line per finished episode to ``path``."""

    def __init__(self, env: gym.Env, role: str, path: Path):
        super().__init__(env)
        self.role, self.path = role, path
        self.length, self.total = 0, 0.0

    def reset(self, **kwargs):
        self.length, self.total = 0, 0.0
        return self.env.reset(**kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.length += 1
        self.total += float(reward)
        if terminated or truncated:
            row = {"role": self.role, "length": self.length, "return": round(self.total, 2),
                   "terminated": bool(terminated),
                   "final_obs": [round(float(v), 4) for v in obs]}  # fmt: skip
            with self.path.open("a") as f:
                f.write(json.dumps(row) + "\n")
        return obs, reward, terminated, truncated, info


def truncate_to_checkpoint(path: Path, argv: list[str]) -> int:
    """Drop the lines a killed attempt logged after the checkpoint the run resumes from (the
    resumed run logs those episodes again), or every line when there is no checkpoint (the
    run starts over). Checkpoints sit at training-episode ends, so the log is cut after the
    training episode whose end is the checkpoint's env step. A finished run's log is left
    alone. Returns the number of lines dropped."""
    from methods.common.resume import CHECKPOINT_NAME

    out = next((a.split("=", 1)[1] for a in argv if a.startswith("--out=")), None)
    if "--out" in argv:
        out = argv[argv.index("--out") + 1]
    if out is None or not path.exists() or (Path(out) / "meta.json").exists():
        return 0
    if not (Path(out) / CHECKPOINT_NAME).exists():  # the run starts over from step 0
        dropped = len(path.read_text().splitlines())
        path.write_text("")
        return dropped
    import torch

    step = torch.load(Path(out) / CHECKPOINT_NAME, weights_only=False)["loop"].step
    lines, done, keep = path.read_text().splitlines(), 0, 0 if step == 0 else None
    for i, line in enumerate(lines):
        row = json.loads(line)
        done += row["length"] if row["role"] == "train" else 0
        if step > 0 and done == step and row["role"] == "train":
            keep = i + 1
            break
    if keep is None:
        sys.exit(f"error: {path} has no training episode ending at the checkpoint's env step "
                 f"{step}: is it this run's log?")  # fmt: skip
    path.write_text("".join(f"{line}\n" for line in lines[:keep]))
    return len(lines) - keep


def logging_make_env(path: Path):
    """``make_env`` for the run loop, which builds its env first and its eval env second."""
    original, built = training.make_env, []

    def make(env_id: str) -> gym.Env:
        built.append(env_id)
        return EpisodeEndLog(original(env_id), "train" if len(built) % 2 else "eval", path)

    return make


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    dropped = truncate_to_checkpoint(Path(sys.argv[1]), sys.argv[2:])
    if dropped:
        print(f"{sys.argv[1]}: dropped {dropped} lines logged after the checkpoint",
              file=sys.stderr)  # fmt: skip
    training.make_env = logging_make_env(Path(sys.argv[1]))
    sys.exit(main(sys.argv[2:]))
