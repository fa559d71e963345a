"""Normalised scores: hand-checkable numbers, and the reference table's checks."""

import numpy as np
import pandas as pd
import pytest

from analysis.scores import ORACLE, load_reference, run_scores
from methods.common.errors import UserError


def curve(variant, method, env, seed, values):
    return pd.DataFrame({"variant": variant, "method": method, "env": env, "seed": seed,
                         "env_step": [100, 200, 300], "eval_return_mean": values})  # fmt: skip


def test_scores_map_random_to_zero_and_reference_to_one():
    returns = pd.concat([
        curve("sac", "sac", "a", 0, [0.0, 10.0, 20.0]),
        curve("sac", "sac", "a", 1, [0.0, 10.0, 40.0]),
        curve("sac", "sac", "b", 0, [5.0, 5.0, 5.0]),
        curve("mbpo", "mbpo", "b", 0, [5.0, 15.0, 25.0]),
        curve("mpc-oracle", "mpc", "b", 0, [45.0, 45.0, 45.0]),
        curve("sac", "sac", "c", 0, [1.0, 2.0, 3.0]),
    ])  # fmt: skip
    randoms = pd.DataFrame({"env": ["a", "a", "b", "c"], "return": [-10.0, 10.0, 5.0, 0.0]})
    reference = pd.DataFrame({"env": ["a"], "reference_return": [100.0],
                              "reference_name": ["paper"], "citation": ["x"]})  # fmt: skip
    scores = run_scores(returns, randoms, reference).set_index(["variant", "env", "seed"])
    # env a: random mean 0, published reference 100
    assert scores.loc[("sac", "a", 0), "score"] == pytest.approx(0.2)
    assert scores.loc[("sac", "a", 1), "score"] == pytest.approx(0.4)
    # AUC of 0, 10, 20 over steps 100..300 is a mean return of 10
    assert scores.loc[("sac", "a", 0), "auc_score"] == pytest.approx(0.1)
    # env b: random 5, no published number: the true-simulator planner (45) is 1, never the
    # tier's best learner (issue 36: circular, and it moves when variants are added)
    assert scores.loc[("mbpo", "b", 0), "score"] == pytest.approx(0.5)
    assert scores.loc[("sac", "b", 0), "reference_name"] == ORACLE
    # env c: neither: no score (left out of the aggregates), never a tier-relative one
    assert np.isnan(scores.loc[("sac", "c", 0), "score"])


def test_an_oracle_below_random_gives_no_score():
    """An oracle that scores below the random policy would invert the scale."""
    returns = pd.concat([curve("sac", "sac", "b", 0, [5.0, 15.0, 25.0]),
                         curve("mpc-oracle", "mpc", "b", 0, [1.0, 1.0, 1.0])])  # fmt: skip
    randoms = pd.DataFrame({"env": ["b"], "return": [5.0]})
    reference = pd.DataFrame(columns=["env", "reference_return", "reference_name"])
    scores = run_scores(returns, randoms, reference)
    assert scores.score.isna().all()
    assert set(scores.reference_name) == {"none (the reference is not above random)"}


def test_scores_compare_every_variant_at_the_envs_common_budget():
    """A variant with a longer budget is scored at the last evaluation within the shortest
    budget on that env (issue 36), not at its own end."""
    long = pd.DataFrame({"variant": "sac", "method": "sac", "env": "a", "seed": 0,
                         "env_step": [100, 200, 300, 400, 500],
                         "eval_return_mean": [0.0, 10.0, 20.0, 90.0, 99.0]})  # fmt: skip
    short = curve("mbpo", "mbpo", "a", 0, [30.0, 40.0, 50.0])
    randoms = pd.DataFrame({"env": ["a"], "return": [0.0]})
    reference = pd.DataFrame({"env": ["a"], "reference_return": [100.0],
                              "reference_name": ["paper"], "citation": ["x"]})  # fmt: skip
    scores = run_scores(pd.concat([long, short]), randoms, reference).set_index("variant")
    assert scores.loc["sac", "common_step"] == 300
    assert scores.loc["sac", "score"] == pytest.approx(0.2)
    assert scores.loc["sac", "final_return"] == pytest.approx(99.0)  # its own end, reported


def test_a_run_first_evaluated_after_the_common_budget_is_kept_and_named():
    """The mid tier's mpc-cem ran 300 steps; runs first evaluated at 500 vanished from the
    scores (and the figures) without a word. They stay, unscored, and the footer names them."""
    from analysis.plots import score_footer

    late = pd.DataFrame({"variant": "sac", "method": "sac", "env": "a", "seed": 0,
                         "env_step": [500, 1000], "eval_return_mean": [10.0, 20.0]})  # fmt: skip
    short = curve("mbpo", "mbpo", "a", 0, [30.0, 40.0, 50.0])
    randoms = pd.DataFrame({"env": ["a"], "return": [0.0]})
    reference = pd.DataFrame({"env": ["a"], "reference_return": [100.0],
                              "reference_name": ["paper"], "citation": ["x"]})  # fmt: skip
    scores = run_scores(pd.concat([late, short]), randoms, reference).set_index("variant")
    assert np.isnan(scores.loc["sac", "score"])
    assert scores.loc["sac", "final_return"] == pytest.approx(20.0)
    assert scores.loc["mbpo", "score"] == pytest.approx(0.5)
    assert "left out, first evaluated after it: sac" in score_footer(scores.reset_index())


def test_missing_random_returns_is_an_error():
    with pytest.raises(UserError, match="no random-policy returns for a"):
        run_scores(curve("sac", "sac", "a", 0, [1.0, 2.0, 3.0]),
                   pd.DataFrame({"env": ["b"], "return": [0.0]}),
                   pd.DataFrame(columns=["env", "reference_return"]))  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [
    ("env,reference_return,reference_name,citation\nh,nan,r,c\n",
     "row 2 (h): 'reference_return' is nan"),
    ("env,random_return,reference_return,reference_name,citation\nh,1,,r,c\n",
     "'reference_return' is nan"),
    ("env,random_return,reference_return,reference_name,citation\nh,1,lots,r,c\n",
     "'reference_return' is 'lots'"),
    ("env,random_return\nh,1\n", "lacks columns"),
    ("env,random_return,reference_return,reference_name,citation\nh,0,1,r,c\nh,0,2,r,c\n",
     "appears twice"),
])  # fmt: skip
def test_bad_reference_table_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "normalization.csv"
    path.write_text(text)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_reference(path)


def test_reference_table_in_the_repository_is_valid():
    from pathlib import Path

    table = load_reference(Path(__file__).resolve().parents[2] / "reference/normalization.csv")
    assert np.isfinite(table.reference_return).all() and table.env.is_unique
