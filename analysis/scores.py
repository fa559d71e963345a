"""Normalised scores per run: the random policy's return -> 0, a reference return -> 1.

    python -m analysis.scores random --env E --out results/random/E.csv [--episodes 20]
    python -m analysis.scores table --returns results/tables/returns.parquet \
        --random results/random/*.csv --reference reference/normalization.csv \
        --out results/tables/scores.parquet

The random policy's return is measured here (uniform actions, full episodes, seeds disjoint
from training), the same way for every env. The reference return comes from
``reference/normalization.csv`` (a published number, with its citation) where that file has
the env, else from the tier's true-simulator planner (mpc-oracle), else the env has no score
(``reference_name`` says which). Each run's score is its eval return at the env's common
budget (so every variant is compared at the same number of env steps), and its area under
the curve (mean return over the curve), both normalised.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.stats import area_under_curve
from methods.common.errors import UserError
from methods.common.run_io import atomic_write_bytes, atomic_write_text

REFERENCE_COLUMNS = ("env", "reference_return", "reference_name", "citation")
ORACLE_VARIANT = "mpc-oracle"
ORACLE = "mpc-oracle of this tier (planning on the true simulator; final return, mean)"


def load_reference(path: Path) -> pd.DataFrame:
    """The published normalisation table; a missing column or a non-finite or degenerate
    number is a UserError naming the file, row and column."""
    try:
        table = pd.read_csv(path)
    except FileNotFoundError:
        return pd.DataFrame(columns=list(REFERENCE_COLUMNS))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} does not parse ({str(exc).splitlines()[0]})") from None
    missing = [c for c in REFERENCE_COLUMNS if c not in table.columns]
    if missing:
        raise UserError(f"{path} lacks columns {missing}")
    for column in ("reference_return",):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = table.index[~np.isfinite(values)]
        if len(bad):
            row = int(bad[0])
            raw = table[column].iloc[row]
            shown = repr(raw) if isinstance(raw, str) else str(float(raw))
            raise UserError(
                f"{path} row {row + 2} ({table.env.iloc[row]}): '{column}' is {shown}, "
                "not a finite number"
            )
        table[column] = values
    if table.env.duplicated().any():
        raise UserError(f"{path}: env {table.env[table.env.duplicated()].iloc[0]} appears twice")
    return table


def random_policy_return(env_id: str, episodes: int, seed: int = 0) -> pd.DataFrame:
    """Returns of full episodes of a uniformly random policy: (episodes,) rows."""
    from methods.common.envs import get_spec
    from methods.heldout import collect

    spec = get_spec(env_id)
    data = collect(env_id, 10_000 + seed, episodes, spec.episode_length)
    returns = (data["reward"] * data["valid"]).sum(axis=1)
    return pd.DataFrame({"env": env_id, "episode": np.arange(episodes), "return": returns})


def run_summary(returns: pd.DataFrame) -> pd.DataFrame:
    """One row per run (variant, method, env, seed): its final eval return, the area under
    its learning curve (mean return over the steps) and its last env step."""
    ids = ["variant", "method", "env", "seed"]
    ordered = returns.sort_values("env_step").groupby(ids, sort=True)
    return ordered.apply(lambda g: pd.Series({
        "final_return": float(g.eval_return_mean.iloc[-1]),
        "auc": area_under_curve(g.env_step.to_numpy(), g.eval_return_mean.to_numpy()),
        "env_steps": int(g.env_step.iloc[-1])}), include_groups=False).reset_index()  # fmt: skip


def common_budget_returns(returns: pd.DataFrame) -> pd.DataFrame:
    """Per run: the eval return at the env's common budget (the last evaluation at or
    before the shortest run's last step on that env) and that step."""
    last = returns.groupby(["variant", "env", "seed"]).env_step.max()
    common = last.groupby("env").min()
    within = returns[returns.env_step <= returns.env.map(common)]
    at = within.sort_values("env_step").groupby(["variant", "env", "seed"]).tail(1)
    return at.rename(columns={"eval_return_mean": "common_return",
                              "env_step": "common_step"})[
        ["variant", "env", "seed", "common_step", "common_return"]]  # fmt: skip


def run_scores(
    returns: pd.DataFrame, random_returns: pd.DataFrame, reference: pd.DataFrame
) -> pd.DataFrame:
    """One row per run: final return (its own budget), AUC, the return at the env's common
    budget, the env's random and reference returns, and the normalised ``score`` (at the
    common budget) and ``auc_score``.

    The reference ("1") is a published return (``reference``) or, where none exists, the
    tier's true-simulator planner (``mpc-oracle``); never a learner of the tier (that would
    be circular and move when variants are added). An env with neither gets no score.
    """
    # a run first evaluated after the common budget stays, unscored (named in the figures)
    per_run = run_summary(returns).merge(common_budget_returns(returns), how="left",
                                         on=["variant", "env", "seed"])  # fmt: skip
    random_mean = random_returns.groupby("env")["return"].mean()
    missing = sorted(set(per_run.env) - set(random_mean.index))
    if missing:
        raise UserError(f"no random-policy returns for {', '.join(missing)}")
    per_run["random_return"] = per_run.env.map(random_mean)
    published = reference.set_index("env")
    oracle = per_run[per_run.variant == ORACLE_VARIANT].groupby("env").final_return.mean()
    per_run["reference_return"] = [
        published.reference_return.get(env, oracle.get(env, np.nan)) for env in per_run.env
    ]
    per_run["reference_name"] = [
        published.reference_name.get(env, ORACLE if env in oracle.index else "none")
        for env in per_run.env
    ]
    scale = per_run.reference_return - per_run.random_return
    # a reference at or below the random level (an oracle that failed) cannot be the 1
    below = scale <= 1e-9
    scale = scale.where(~below, np.nan)
    per_run.loc[below, "reference_name"] = "none (the reference is not above random)"
    per_run["score"] = (per_run.common_return - per_run.random_return) / scale
    per_run["auc_score"] = (per_run.auc - per_run.random_return) / scale
    return per_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rand = sub.add_parser("random", help="returns of a uniformly random policy")
    rand.add_argument("--env", required=True)
    rand.add_argument("--episodes", type=int, default=20)
    rand.add_argument("--out", required=True)
    table = sub.add_parser("table", help="normalised scores of every run")
    table.add_argument("--returns", required=True)
    table.add_argument("--random", nargs="+", required=True)
    table.add_argument("--reference", required=True)
    table.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "random":
            if args.episodes <= 0:
                raise UserError("--episodes must be positive")
            frame = random_policy_return(args.env, args.episodes)
            atomic_write_text(Path(args.out), frame.to_csv(index=False, float_format="%.10g"))
            return 0
        reference = load_reference(Path(args.reference))
        randoms = pd.concat([pd.read_csv(p) for p in args.random], ignore_index=True)
        scores = run_scores(pd.read_parquet(args.returns), randoms, reference)
        atomic_write_bytes(Path(args.out), scores.to_parquet(index=False))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
