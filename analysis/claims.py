"""The claims table: one pre-registered experiment per claim of the method spectrum.

    python -m analysis.claims --tables results/tables --out results/claims [--config FILE]

Each claim names its primary quantity (one number per seed), the variants it compares (named
in the tier config's ``claims:`` section, never pooled), what is held equal, the test, its
margin and the verdict rule (``RULES``, printed by ``--help``). Verdicts are three-way:
supported, refuted or inconclusive (``analysis/verdicts.py``: two one-sided tests at level
0.05, never "supported" by failing to reject); rows of one claim are Holm-corrected across
envs. Every row carries the effect, its CI, the p-value and its Holm adjustment, n per group
and the seeds per group that would decide it at the observed effect. Rows marked "secondary"
are reported beside a primary and corrected in their own family.

Writes ``claims.csv`` and ``claims.md``.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import verdicts as vd
from analysis.verdicts import SEEDS_CAP, Verdict
from methods.common.run_io import atomic_write_text

ALPHA = 0.05
COLUMNS = ["claim", "env", "variants", "measure", "effect", "ci_low", "ci_high", "p_value",
           "p_holm", "n_x", "n_y", "seeds_needed", "verdict", "rule", "note"]  # fmt: skip

# Which variants each claim compares, and its margins: overridden per tier by the config's
# ``claims:`` section (a key at a time). Fixed before the data are seen.
DESIGN: dict[str, dict] = {
    "compounding_error": {
        "variant": "mbpo-k5",
        "max_horizon": 50,
        "target": 2.0,
        "margin": 0.5,
        "rmse_window": 0.1,
    },  # fmt: skip
    "bptt_gradients": {},
    "dyna_exploitation": {"dyna": "dyna-h50", "mbpo": "mbpo-k5", "horizon": 50},
    "branched_rollouts": {"mbpo": "mbpo-k5", "against": ["sac-matched", "dyna-h50"]},
    "decision_cost": {
        "mpc": "mpc-cem",
        "policy": "mbpo-k5",
        "ratio": 10.0,
        "return_tolerance": 0.05,
    },  # fmt: skip
    "distribution_mismatch": {"dyna": "dyna-h50", "mbpo": "mbpo-k5"},
}

CLAIMS = {
    "1": "1. model error compounds: the H-step return gap grows ~ H^2",
    "1b": "1b. (secondary) per-step state RMSE grows ~ t (linear accumulation)",
    "2": "2. BPTT gradients explode with H",
    "3": "3. long Dyna rollouts are exploited",
    "4": "4. short branched rollouts beat long rollouts and model-free",
    "5": "5. MPC is costly at decision time",
    "6": "6. branched rollouts reduce distribution mismatch",
}
RULES = {
    "1": "Primary: per seed, the exponent p of mean |J_model(H) - J_real(H)| ~ c H^p (same "
    "deterministic policy, same real start states, mean model propagation, H in {1, 5, 15, "
    "50}: H <= max_horizon) of the claim's variant; TOST against 2 with margin 0.5: supported "
    "if the 90% CI of mean p lies in [1.5, 2.5], refuted if wholly outside, else inconclusive.",
    "1b": "Secondary: per seed, the exponent of the open-loop state RMSE (errors / the model's "
    "training-state std, mean propagation, recorded actions, trained-policy held-out data, "
    "else random) vs t over t <= 10% of the episode; TOST against 1 with margin 0.5.",
    "2": "Fixed model and policy across H (the chaos diagnostic of the tier's chaos variant, one "
    "per seed): supported if the finite-time Lyapunov exponent of the closed-loop model "
    "(slope of median log sigma_1(d s_H / d s_0) vs H) is > 0 (one-sample t, one-sided) AND "
    "exponential growth beats a power law for the gradient norm per discount sum vs H (per "
    "seed AIC_power - AIC_exp > 0, one-sample t); p = the larger of the two. Refuted if the "
    "exponent is < 0 (gradients vanish). Else inconclusive.",
    "3": "Per seed, the mean signed gap J_model(H) - J_real(H) at H = 50 of the policy (same "
    "real start states, mean propagation, no state guard). Supported if Dyna's gap is > 0 "
    "(one-sample t) AND > MBPO's (exact permutation test on the means); p = the larger. "
    "Refuted if Dyna's gap is below MBPO's.",
    "4": "Per run, the mean evaluation return over (warm-up, common budget]: from the larger "
    "of the pair's random_steps to the smaller env_steps; MBPO vs each named rival (a SAC with "
    "MBPO's random steps, updates per step and target entropy; Dyna with MBPO's synthetic "
    "budget); exact one-sided permutation test on the difference of means, margin 0.",
    "5": "Per run, log of the median ms per action; MPC vs the amortised policy, exact "
    "permutation test with margin log(10) (supported if MPC costs > 10x). Only at matched "
    "return: if the policy's final return (mean over the last 20% of its budget) is below "
    "MPC's by more than 5% of |MPC's|, the row is inconclusive whatever the test says.",
    "6": "Per run, the mean distance from model-rollout states to their nearest real replay "
    "state (z-scored by the replay data), over rollout steps 1..k (k = MBPO's rollout "
    "length: matched steps) and the second half of training; Dyna vs MBPO, exact one-sided "
    "permutation test (Dyna farther), margin 0.",
}


def design_from(config: dict | None) -> dict[str, dict]:
    """The claims' design: DESIGN with the tier config's ``claims:`` keys laid over it."""
    design = copy.deepcopy(DESIGN)
    for name, settings in ((config or {}).get("claims") or {}).items():
        if name not in design:
            raise ValueError(f"unknown claim '{name}' in the config's claims section; known: "
                             f"{', '.join(design)}")  # fmt: skip
        design[name].update(settings or {})
    return design


# ----- rows -----
def _row(claim: str, env: str, variants: str, measure: str, verdict: Verdict | None,
         note: str = "") -> dict:  # fmt: skip
    if verdict is None:
        values = dict.fromkeys(["effect", "ci_low", "ci_high", "p_value", "p_holm",
                                "seeds_needed"], math.nan)  # fmt: skip
        values.update(n_x=0, n_y=0, verdict="inconclusive")
    else:
        values = {k: getattr(verdict, k) for k in ("effect", "ci_low", "ci_high", "p_value",
                  "p_holm", "n_x", "n_y", "seeds_needed", "verdict")}  # fmt: skip
    return {"claim": CLAIMS[claim], "env": env, "variants": variants, "measure": measure,
            **values, "rule": RULES[claim], "note": note}  # fmt: skip


def _holm_rows(claim: str, entries: list[tuple]) -> list[dict]:
    """``entries``: (env, variants, measure, Verdict | None, note). Holm over the measured rows
    of the claim, then rows."""
    measured = [e[3] for e in entries if e[3] is not None]
    adjusted = iter(vd.apply_holm(measured))
    rows = []
    for env, variants, measure, verdict, note in entries:
        rows.append(_row(claim, env, variants, measure,
                         next(adjusted) if verdict is not None else None, note))  # fmt: skip
    return rows


def _common_envs(frame: pd.DataFrame, x: str, y: str) -> list[str]:
    """The envs where both compared variants have data: a comparison's rows exist there
    only (a tier may run one variant on more envs than the other)."""
    return sorted(set(frame[frame.variant == x].env) & set(frame[frame.variant == y].env))


def _combine(primary: Verdict, other: Verdict, rule: str) -> Verdict:
    """An intersection-union test: the claim needs both; p = the larger p, refuted as the
    primary says (Berger 1982: level alpha without correction)."""
    p = max(primary.p_value, other.p_value)
    verdict = str(vd.decide(p, primary.p_refute, primary.alpha))
    return dataclasses.replace(primary, p_value=p, rule=rule, verdict=verdict)


def _per_seed(values: pd.Series) -> np.ndarray:
    arr = values.to_numpy(dtype=float)
    return arr[np.isfinite(arr)]


def _test_or_none(fn, *args, **kwargs) -> tuple[Verdict | None, str]:
    try:
        return fn(*args, **kwargs), ""
    except ValueError as exc:  # too few seeds or values for the test
        return None, f"not decidable: {exc}"


# ----- claim 1 -----
def _exponent(x: np.ndarray, y: np.ndarray) -> float:
    ok = (x > 0) & (y > 0) & np.isfinite(y)
    if ok.sum() < 3:
        return math.nan
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def compounding_error(tables: dict, design: dict) -> list[dict]:
    d = design["compounding_error"]
    variant, gaps = d["variant"], tables.get("return_gap")
    entries = []
    if gaps is None or gaps[gaps.variant == variant].empty:
        entries.append(("all", variant, "exponent of mean |J_model(H) - J_real(H)| vs H", None,
                        f"no return-gap measurements of {variant} in this tier"))  # fmt: skip
    else:
        data = gaps[(gaps.variant == variant) & (gaps.H <= d["max_horizon"])]
        for env, per_env in data.groupby("env"):
            curves = per_env.groupby(["seed", "H"]).abs_gap.mean().reset_index()
            exps = curves.groupby("seed").apply(
                lambda c: _exponent(c.H.to_numpy(float), c.abs_gap.to_numpy(float)),
                include_groups=False,
            )  # fmt: skip
            verdict, note = _test_or_none(vd.equivalence_exponent, _per_seed(exps),
                                          d["target"], d["margin"], ALPHA)  # fmt: skip
            entries.append((env, variant, f"exponent p of the mean absolute return gap ~ H^p, "
                            f"H <= {d['max_horizon']}", verdict, note))  # fmt: skip
    return _holm_rows("1", entries) + _state_rmse(tables, d)


def _state_rmse(tables: dict, d: dict) -> list[dict]:
    from methods.common.envs import get_spec

    errors, variant = tables.get("model_error"), d["variant"]
    if errors is None or errors[(errors.variant == variant) & (errors["mode"] == "mean")].empty:
        return _holm_rows("1b", [("all", variant, "exponent of state RMSE vs t", None,
                                  f"no model-error curves of {variant} in this tier")])  # fmt: skip
    data = errors[(errors.variant == variant) & (errors["mode"] == "mean")]
    entries = []
    for env, per_env in data.groupby("env"):
        source = "policy" if (per_env["data"] == "policy").any() else "random"
        window = max(4, int(d["rmse_window"] * get_spec(env).episode_length))
        curves = per_env[(per_env["data"] == source) & (per_env.t <= window)]
        exps = curves.groupby("seed").apply(
            lambda c: _exponent(c.t.to_numpy(float), np.sqrt(c.mse.to_numpy(float))),
            include_groups=False,
        )  # fmt: skip
        verdict, note = _test_or_none(vd.equivalence_exponent, _per_seed(exps), 1.0, 0.5, ALPHA)
        label = {"policy": "trained-policy", "random": "random-policy"}[source]
        entries.append((env, variant, f"exponent of state RMSE ~ t^p, t <= {window}, {label} "
                        "held-out data", verdict, note))  # fmt: skip
    return _holm_rows("1b", entries)


# ----- claim 2 -----
def bptt_gradients(tables: dict, design: dict) -> list[dict]:
    summary, diag = tables.get("chaos_summary"), tables.get("chaos_gradient_diagnostics")
    measure = "finite-time Lyapunov exponent of the closed-loop model (per step)"
    if summary is None or diag is None or "ftle" not in summary:
        return _holm_rows("2", [("all", "chaos variant", measure, None,
                                 "no per-seed chaos diagnostic in this tier")])  # fmt: skip
    entries = []
    for env, per_env in summary.groupby("env"):
        ftle = _per_seed(per_env.ftle)
        growth = []
        for _seed, curve in diag[diag.env == env].groupby("seed"):
            try:
                h, g = curve.horizon.to_numpy(float), curve.grad_norm_per_discount.to_numpy(float)
                sel = vd.model_selection_aic(h, g)
                growth.append(sel.aic_power - sel.aic_exponential)
            except ValueError:
                continue
        v_ftle, note = _test_or_none(vd.one_sample_above, ftle, 0.0, ALPHA)
        v_aic, note_aic = _test_or_none(vd.one_sample_above, np.array(growth), 0.0, ALPHA)
        verdict = None
        if v_ftle is not None and v_aic is not None:
            verdict = _combine(v_ftle, v_aic, RULES["2"])
            note = (f"AIC_power - AIC_exp: mean {v_aic.effect:.3g} over {len(growth)} seeds "
                    f"(p {v_aic.p_value:.3g})")  # fmt: skip
        entries.append((env, "chaos variant (fixed model and policy)", measure, verdict,
                        note or note_aic))  # fmt: skip
    return _holm_rows("2", entries)


# ----- claim 3 -----
def dyna_exploitation(tables: dict, design: dict) -> list[dict]:
    d = design["dyna_exploitation"]
    gaps, names = tables.get("return_gap"), f"{d['dyna']} vs {d['mbpo']}"
    measure = f"mean signed gap J_model(H) - J_real(H) at H = {d['horizon']}, Dyna - MBPO"
    if gaps is None or gaps[gaps.variant.isin([d["dyna"], d["mbpo"]])].empty:
        return _holm_rows("3", [("all", names, measure, None,
                                 "no return-gap measurements of these variants")])  # fmt: skip
    at_h = gaps[gaps.H == d["horizon"]]
    per_seed = at_h.groupby(["variant", "env", "seed"]).gap.mean().reset_index()
    entries = []
    for env in _common_envs(per_seed, d["dyna"], d["mbpo"]):
        here = per_seed[per_seed.env == env]
        dyna = _per_seed(here[here.variant == d["dyna"]].gap)
        mbpo = _per_seed(here[here.variant == d["mbpo"]].gap)
        v_pos, note = _test_or_none(vd.one_sample_above, dyna, 0.0, ALPHA)
        v_cmp, note_cmp = _test_or_none(vd.compare_groups, dyna, mbpo, 0.0, ALPHA)
        verdict = None
        if v_pos is not None and v_cmp is not None:
            verdict = _combine(v_cmp, v_pos, RULES["3"])
            note = (f"Dyna's gap {v_pos.effect:.3g} [{v_pos.ci_low:.3g}, {v_pos.ci_high:.3g}], "
                    f"MBPO's {np.mean(mbpo):.3g}")  # fmt: skip
        entries.append((env, names, measure, verdict, note or note_cmp))
    if not entries:
        entries.append(("all", names, measure, None, "the variants do not both run on an env"))
    return _holm_rows("3", entries)


# ----- claim 4 -----
def _run_setting(runs: pd.DataFrame, variant: str, env: str, key: str) -> float:
    rows = runs[(runs.variant == variant) & (runs.env == env)]
    return float(rows[key].max()) if key in rows and not rows.empty else math.nan


def branched_rollouts(tables: dict, design: dict) -> list[dict]:
    d = design["branched_rollouts"]
    returns, runs = tables["returns"], tables["runs"]
    entries = []
    for rival in d["against"]:
        names = f"{d['mbpo']} vs {rival}"
        pair = returns[returns.variant.isin([d["mbpo"], rival])]
        envs = _common_envs(pair, d["mbpo"], rival)
        if not envs:
            entries.append(("all", names, "mean eval return after warm-up", None,
                            f"{d['mbpo']} and {rival} do not both run in this tier"))  # fmt: skip
        for env in envs:
            start = max(_run_setting(runs, v, env, "random_steps") for v in (d["mbpo"], rival))
            end = min(_run_setting(runs, v, env, "env_steps") for v in (d["mbpo"], rival))
            here = pair[(pair.env == env) & (pair.env_step > start) & (pair.env_step <= end)]
            means = here.groupby(["variant", "seed"]).eval_return_mean.mean().reset_index()
            x = _per_seed(means[means.variant == d["mbpo"]].eval_return_mean)
            y = _per_seed(means[means.variant == rival].eval_return_mean)
            verdict, note = _test_or_none(vd.compare_groups, x, y, 0.0, ALPHA)
            entries.append((env, names, f"mean eval return over ({start:.0f}, {end:.0f}] "
                            "steps, difference", verdict, note))  # fmt: skip
    return _holm_rows("4", entries)


# ----- claim 5 -----
def _final_return(returns: pd.DataFrame) -> pd.Series:
    """Per (variant, seed): mean eval return over the last 20% of the run's steps."""
    last = returns.groupby(["variant", "seed"]).env_step.transform("max")
    late = returns[returns.env_step >= 0.8 * last]
    return late.groupby(["variant", "seed"]).eval_return_mean.mean()


def decision_cost(tables: dict, design: dict) -> list[dict]:
    d = design["decision_cost"]
    timings, returns, runs = tables["timings"], tables["returns"], tables["runs"]
    names = f"{d['mpc']} vs {d['policy']}"
    ms = timings[(timings.name == "time/policy_ms_per_action")
                 & timings.variant.isin([d["mpc"], d["policy"]])]  # fmt: skip
    per_run = ms.groupby(["variant", "env", "seed"]).value.median().reset_index()
    envs = _common_envs(per_run, d["mpc"], d["policy"])
    measure = "ms per action, MPC / policy (ratio of geometric means)"
    if not envs:
        why = f"{d['mpc']} and {d['policy']} do not both run here"
        return _holm_rows("5", [("all", names, measure, None, why)])
    entries, matched = [], {}
    for env in envs:
        here = per_run[per_run.env == env]
        x = np.log(_per_seed(here[here.variant == d["mpc"]].value))
        y = np.log(_per_seed(here[here.variant == d["policy"]].value))
        verdict, note = _test_or_none(vd.compare_groups, x, y, math.log(d["ratio"]), ALPHA)
        final = _final_return(returns[returns.env == env])
        mpc_ret = float(final.get(d["mpc"], pd.Series(dtype=float)).mean())
        pol_ret = float(final.get(d["policy"], pd.Series(dtype=float)).mean())
        matched[env] = pol_ret >= mpc_ret - d["return_tolerance"] * abs(mpc_ret)
        evals = _model_evaluations(runs, d["mpc"], env)
        note = (f"{note + '; ' if note else ''}final return: MPC {mpc_ret:.4g}, policy "
                f"{pol_ret:.4g} ({'matched' if matched[env] else 'NOT matched'}); "
                f"{evals} model evaluations per action")  # fmt: skip
        entries.append((env, names, measure, verdict, note))
    rows = _holm_rows("5", entries)
    for row in rows:
        if row["env"] in matched:
            for key in ("effect", "ci_low", "ci_high"):
                row[key] = math.exp(row[key]) if np.isfinite(row[key]) else row[key]
            if not matched[row["env"]]:
                row["verdict"] = "inconclusive"
    return rows


def _model_evaluations(runs: pd.DataFrame, variant: str, env: str) -> str:
    """Model steps per action of an MPC variant: candidates x iterations x particles x H."""
    keys = ("population", "iterations", "particles", "horizon")
    values = [_run_setting(runs, variant, env, k) for k in keys]
    if not all(np.isfinite(values)):
        return "?"
    return f"{int(np.prod(values)):,}"


# ----- claim 6 -----
def distribution_mismatch(tables: dict, design: dict) -> list[dict]:
    d = design["distribution_mismatch"]
    metrics, runs = tables["metrics"], tables["runs"]
    names = f"{d['dyna']} vs {d['mbpo']}"
    steps = metrics[metrics.name.str.startswith("rollout/nn_distance_step")
                    & metrics.variant.isin([d["dyna"], d["mbpo"]])].copy()  # fmt: skip
    if steps.empty:
        return _holm_rows("6", [("all", names, "nearest-real-state distance", None,
                                 "no rollout distance metrics of these variants")])  # fmt: skip
    steps["t"] = steps.name.str.rsplit("step", n=1).str[1].astype(int)
    entries = []
    for env in _common_envs(steps, d["dyna"], d["mbpo"]):
        here = steps[steps.env == env]
        k = _run_setting(runs, d["mbpo"], env, "rollout_length")
        cut = here.groupby(["variant", "seed"]).env_step.transform("max") / 2
        late = here[(here.t <= k) & (here.env_step >= cut)]
        per_run = late.groupby(["variant", "seed"]).value.mean().reset_index()
        x = _per_seed(per_run[per_run.variant == d["dyna"]].value)
        y = _per_seed(per_run[per_run.variant == d["mbpo"]].value)
        verdict, note = _test_or_none(vd.compare_groups, x, y, 0.0, ALPHA)
        entries.append((env, names, f"mean distance to the nearest real state, rollout steps "
                        f"1..{k:.0f}, Dyna - MBPO", verdict, note))  # fmt: skip
    if not entries:
        entries.append(("all", names, "nearest-real-state distance", None,
                        "the variants do not both run on an env"))  # fmt: skip
    return _holm_rows("6", entries)


def claims_table(tables: dict[str, pd.DataFrame], design: dict | None = None) -> pd.DataFrame:
    design = design or design_from(None)
    rows = []
    for claim in (compounding_error, bptt_gradients, dyna_exploitation, branched_rollouts,
                  decision_cost, distribution_mismatch):  # fmt: skip
        rows += claim(tables, design)
    return pd.DataFrame(rows, columns=COLUMNS)


def num(v: float) -> str:
    """A table cell's number: 3 significant digits, a dash where there is none."""
    return "–" if not np.isfinite(v) else f"{v:.3g}"


def seeds_cell(v: float) -> str:
    """The seeds-to-decide cell: a whole number, ``> SEEDS_CAP`` where no affordable number
    decides (the effect sits on the margin or is tiny against its sd), a dash where there is
    no estimate."""
    if np.isnan(v):
        return "–"
    return f"> {SEEDS_CAP}" if np.isinf(v) else f"{v:.0f}"


def effect_cell(row) -> str:
    """``effect [ci_low, ci_high]`` of a claims row."""
    return f"{num(row.effect)} [{num(row.ci_low)}, {num(row.ci_high)}]"


def n_cell(row) -> str:
    """Seeds per group of a claims row: ``n_x vs n_y``, or ``n_x`` for a one-sample test."""
    return f"{row.n_x} vs {row.n_y}" if row.n_y else str(row.n_x)


def to_markdown(table: pd.DataFrame) -> str:
    """A readable table (verdict, effect [CI], p (Holm), n) and the rules below it."""
    head = ["claim", "env", "variants", "verdict", "effect [95% CI]", "p (Holm)", "n",
            "seeds to decide", "measure"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.itertuples(index=False):
        measure = r.measure + (f"; {r.note}" if r.note else "")
        p = f"{num(r.p_value)} ({num(r.p_holm)})"
        cells = [r.claim, r.env, r.variants, f"**{r.verdict}**", effect_cell(r), p,
                 n_cell(r), seeds_cell(r.seeds_needed), measure]  # fmt: skip
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    lines += ["", "Rules (pre-registered; `python -m analysis.claims --help`):", ""]
    lines += [f"- **{CLAIMS[k]}**: {RULES[k]}" for k in CLAIMS]
    return "\n".join(lines) + "\n"


VERDICT_COLOURS = {"supported": "#d9f2d9", "refuted": "#f8d7d7", "inconclusive": "#eeeeee"}


def to_html(table: pd.DataFrame) -> str:
    """The table as one self-contained HTML page (the Snakemake report embeds it)."""
    import html

    head = ["claim", "env", "variants", "verdict", "effect [95% CI]", "p (Holm)", "n",
            "seeds to decide", "measure"]  # fmt: skip
    body = []
    for r in table.itertuples(index=False):
        cells = [r.claim, r.env, r.variants, r.verdict, effect_cell(r),
                 f"{num(r.p_value)} ({num(r.p_holm)})", n_cell(r), seeds_cell(r.seeds_needed),
                 r.measure + (f"; {r.note}" if r.note else "")]  # fmt: skip
        colour = VERDICT_COLOURS.get(r.verdict, "#ffffff")
        tds = "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        body.append(f'<tr style="background:{colour}">{tds}</tr>')
    rules = "".join(f"<li><b>{html.escape(CLAIMS[k])}</b>: {html.escape(RULES[k])}</li>"
                    for k in CLAIMS)  # fmt: skip
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Claims</title><style>"
        "body{font-family:sans-serif;font-size:14px}table{border-collapse:collapse}"
        "td,th{border:1px solid #bbb;padding:4px 6px;vertical-align:top}</style></head><body>"
        "<h2>Claims</h2><table><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr>"
        + "".join(body)
        + "</table><h3>Rules (pre-registered)</h3><ul>"
        + rules
        + "</ul></body></html>\n"
    )


TABLES = ("returns", "metrics", "timings", "runs")
OPTIONAL = ("model_error", "return_gap", "chaos_summary", "chaos_gradient_diagnostics")


def main(argv: list[str] | None = None) -> int:
    rules = "\n\n".join(f"{CLAIMS[k]}\n  {RULES[k]}" for k in CLAIMS)
    parser = argparse.ArgumentParser(
        prog="python -m analysis.claims", description=__doc__,
        epilog="The rules:\n\n" + rules, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--tables", required=True, help="folder of the aggregated tables")
    parser.add_argument("--out", required=True, help="output prefix (writes .csv and .md)")
    parser.add_argument("--config", help="tier config whose `claims:` section names variants")
    args = parser.parse_args(argv)
    folder = Path(args.tables)
    tables = {}
    try:
        design = design_from(yaml.safe_load(Path(args.config).read_text()) if args.config
                             else None)  # fmt: skip
        for name in TABLES + OPTIONAL:
            path = folder / f"{name}.parquet"
            if path.exists():
                tables[name] = pd.read_parquet(path)
                if name in OPTIONAL and tables[name].empty:  # a tier without that diagnostic
                    del tables[name]
            elif name in TABLES:
                print(f"error: {path} is missing; run the aggregate rule first", file=sys.stderr)
                return 2
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = claims_table(tables, design)
    atomic_write_text(Path(f"{args.out}.csv"), table.to_csv(index=False, float_format="%.6g"))
    atomic_write_text(Path(f"{args.out}.md"), to_markdown(table))
    atomic_write_text(Path(f"{args.out}.html"), to_html(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
