"""The README's claims table is the committed claims table, compacted."""

import subprocess
from pathlib import Path

import pandas as pd

from analysis.readme_claims import END, START, compact_table, main, read_claims, short_env

ROOT = Path(__file__).resolve().parents[2]


def claims_csv(path: Path) -> Path:
    pd.DataFrame([
        {"claim": "4. short branched rollouts beat long rollouts and model-free",
         "env": "gym-Hopper-v5", "variants": "mbpo-k5 vs sac-matched", "verdict": "supported",
         "effect": 412.345, "ci_low": 120.0, "ci_high": 700.5, "n_x": 5, "n_y": 5,
         "seeds_needed": 4.0},
        {"claim": "1. model error compounds: the H-step return gap grows ~ H^2",
         "env": "dmc-cartpole-swingup", "variants": "mbpo-k5", "verdict": "inconclusive",
         "effect": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n_x": 0,
         "n_y": float("nan"), "seeds_needed": float("inf")},
    ]).to_csv(path, index=False)  # fmt: skip
    return path


def test_compact_rows_keep_verdict_effect_ci_and_n(tmp_path):
    table = compact_table(read_claims(claims_csv(tmp_path / "c.csv")))
    rows = table.splitlines()[2:]
    assert rows[0] == (
        "| 4 branched beat long / model-free | Hopper "
        "| mbpo-k5 vs sac-matched | **supported** | 412 [120, 700] | 5 vs 5 | 4 |"
    )
    assert rows[1].startswith("| 1 error compounds ~H^2 | cartpole-swingup | mbpo-k5 |")
    assert rows[1].endswith("| > 50 |")  # an undecided row says how many seeds would decide
    assert short_env("gym-InvertedPendulum-v5") == "InvertedPendulum"


def test_write_then_check_and_a_stale_table_is_caught(tmp_path, capsys):
    csv = claims_csv(tmp_path / "claims.csv")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nold\n{END}\nrest\n")
    assert main([str(csv), "--check", str(readme)]) == 1
    assert main([str(csv), "--write", str(readme)]) == 0
    assert main([str(csv), "--check", str(readme)]) == 0
    assert readme.read_text().startswith("intro\n") and readme.read_text().endswith("rest\n")
    readme.write_text("no markers\n")
    assert main([str(csv), "--check", str(readme)]) == 2
    assert capsys.readouterr().err.strip().endswith("block")


def test_the_readme_shows_the_committed_default_tier_claims_or_none():
    """Issue 37: the README's table is results/claims.csv; before the default tier is
    published the README has no table to go stale."""
    readme = (ROOT / "README.md").read_text()
    published = ROOT / "results" / "claims.csv"
    committed = ["git", "ls-files", "--error-unmatch", str(published)]  # not a partial tier's
    if subprocess.run(committed, cwd=ROOT, capture_output=True).returncode == 0:
        assert main([str(published), "--check", str(ROOT / "README.md")]) == 0
    else:
        assert START not in readme


def test_every_claim_has_a_short_name_in_the_readme_table():
    from analysis.claims import CLAIMS
    from analysis.readme_claims import SHORT

    assert set(SHORT) == set(CLAIMS)
    for key, text in CLAIMS.items():
        assert SHORT[key].split(" ")[0] == text.split(".")[0]  # the same number
