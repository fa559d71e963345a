"""The claims table in the README: a compact copy of ``results/claims.csv`` (claim, env,
variants, verdict, effect with its CI, n), kept between two marker lines so that a test can
check that the README shows exactly the committed table.

    python -m analysis.readme_claims results/claims.csv --write README.md
    python -m analysis.readme_claims results/claims.csv --check README.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from analysis.claims import effect_cell, n_cell, seeds_cell
from methods.common.errors import UserError

START, END = "<!-- claims table: start -->", "<!-- claims table: end -->"
# the README's short name of each claim (results/claims.md states it in full)
SHORT = {"1": "1 error compounds ~H^2", "1b": "1b state RMSE ~t", "2": "2 BPTT gradients explode",
         "3": "3 Dyna exploited", "4": "4 branched beat long / model-free",
         "5": "5 MPC costly per action", "6": "6 branched reduce mismatch"}  # fmt: skip


def short_env(env: str) -> str:
    """``gym-InvertedPendulum-v5`` -> ``InvertedPendulum``; ``dmc-cartpole-swingup`` ->
    ``cartpole-swingup``."""
    name = env.split("-", 1)[1] if env.startswith(("gym-", "dmc-")) else env
    return name.rsplit("-v", 1)[0] if name.rsplit("-v", 1)[-1].isdigit() else name


def compact_table(claims: pd.DataFrame) -> str:
    """One markdown row per claim row: the claim's short name, env, variants, verdict in bold,
    effect [95% CI] to 3 significant digits, n per group, and the seeds per group at which
    the test would decide (the power estimate at the observed effect)."""
    lines = ["| claim | env | variants | verdict | effect [95% CI] | n | seeds to decide |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in claims.itertuples(index=False):
        number = str(r.claim).split(".")[0]
        cells = [SHORT.get(number, str(r.claim).split(":")[0]), short_env(r.env), r.variants,
                 f"**{r.verdict}**", effect_cell(r), n_cell(r),
                 seeds_cell(r.seeds_needed)]  # fmt: skip
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def read_claims(path: Path) -> pd.DataFrame:
    try:
        claims = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UserError(f"{path} is missing or corrupted ({exc})") from None
    needed = {"claim", "env", "variants", "verdict", "effect", "ci_low", "ci_high", "n_x",
              "n_y", "seeds_needed"}  # fmt: skip
    if needed - set(claims.columns):
        raise UserError(f"{path} lacks columns {sorted(needed - set(claims.columns))}")
    claims["n_y"] = claims.n_y.fillna(0).astype(int)
    return claims


def block(readme: str) -> tuple[int, int] | None:
    """(start, end) character offsets of the table between the markers, or None."""
    if START not in readme:
        return None
    start = readme.index(START) + len(START)
    if END not in readme[start:]:
        raise UserError(f"README has '{START}' without '{END}'")
    return start, readme.index(END, start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("claims", help="claims.csv")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", metavar="README", help="replace the table in README")
    action.add_argument("--check", metavar="README", help="exit 1 if README's table differs")
    args = parser.parse_args(argv)
    try:
        table = compact_table(read_claims(Path(args.claims)))
        path = Path(args.write or args.check)
        readme = path.read_text()
        where = block(readme)
        if where is None:
            raise UserError(f"{path} has no '{START}' ... '{END}' block")
    except (UserError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start, end = where
    current = readme[start:end].strip()
    if args.check:
        if current != table:
            print(f"{path}: the claims table differs from {args.claims}", file=sys.stderr)
            return 1
        return 0
    path.write_text(readme[:start] + "\n" + table + "\n" + readme[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
