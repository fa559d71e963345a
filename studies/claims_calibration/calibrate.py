"""Do the claims table's verdict rules (analysis/verdicts.py) keep their error rates?

Simulates synthetic datasets at 3, 5 and 10 seeds per group and counts how often each rule
says supported / refuted / inconclusive:

- two groups (compare_groups, exact permutation test): equal groups (normal, skewed,
  unequal spread), a true difference on the margin, and groups 1.5 sd apart (power);
  the old rule "bootstrap CI of P(X > Y) above 0.5" beside it;
- Holm over 4 envs: family-wise rate of any supported / refuted under the global null, and
  power when all 4 envs differ by 1.5 sd;
- per-seed fitted exponents of noisy power-law curves (exponent 1, 1.75, 2, 2.25, 3) and of
  exponential curves: equivalence_exponent at target 2 +- 0.25, the old rule "2 lies in the
  95% bootstrap CI", model_selection_aic's choice per curve, and the per-seed AIC difference
  (power - exponential) tested with one_sample_above;
- one-sample tests (t and sign) under a null (normal and skewed) and at 1 sd (power);
- seeds_needed: the power the rules actually reach at the n it asks for.

Writes results.csv (one row per case and seed count) and results.json (the same rows plus
the settings) beside itself.

    nice -n 10 python studies/claims_calibration/calibrate.py            # ~10 min, one core
    python studies/claims_calibration/calibrate.py --datasets 300 --families 300  # quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import zlib
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from analysis import stats, verdicts  # noqa: E402

ALPHA = 0.05
SEED_COUNTS = (3, 5, 10)
ENVS = 4  # Holm family size
SHIFT = 1.5  # separated groups: difference in means, in sd
MARGIN = 0.5  # the two-group margin case: true difference equal to it
TARGET, EQ_MARGIN = 2.0, 0.25  # "model error grows like t^2" as 2 +- 0.25
HORIZONS = np.arange(1, 21, dtype=float)  # model-error curve: t = 1..20
CURVE_NOISE = 0.3  # sd of log-error noise per point
SEED_SPREAD = 0.1  # sd of the true exponent across seeds (models differ)
RATE = 0.2  # exponential truth: err = c exp(0.2 t), rate varies 5% across seeds
OLD_REPS = 2000  # bootstrap replicates for the old rules (claims.py uses 50,000 / 2,000)

COLUMNS = [
    "section", "case", "rule", "n_per_group", "datasets", "truth", "supported", "refuted",
    "inconclusive", "per_env_supported", "best_power", "best_exponential", "best_linear",
    "bound", "mc_se", "check",
]  # fmt: skip


def rng_for(seed: int, name: str) -> np.random.Generator:
    """One generator per case, so a case's numbers do not depend on which ran before it."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def row(section: str, case: str, rule: str, n: int, verdict: np.ndarray, truth: str,
        bound: str = "alpha", **extra) -> dict:  # fmt: skip
    """Rates of each verdict over datasets; ``bound``: "alpha" when supported and refuted must
    both stay <= alpha, "alpha (supported)" / "alpha (refuted)" for one of them, "" for power."""
    verdict = np.asarray(verdict)
    datasets = verdict.shape[0]
    rates = {v: float((verdict == v).mean()) for v in verdicts.VERDICTS}
    se = math.sqrt(ALPHA * (1 - ALPHA) / datasets)
    limit = ALPHA + 3 * se
    checks = []
    if bound in ("alpha", "alpha (supported)"):
        checks.append(rates["supported"] <= limit)
    if bound in ("alpha", "alpha (refuted)"):
        checks.append(rates["refuted"] <= limit)
    check = ("pass" if all(checks) else "FAIL") if checks else "power"
    if rule.startswith("OLD") and checks:
        check += " (old rule)"
    out = dict.fromkeys(COLUMNS, math.nan)
    out.update(section=section, case=case, rule=rule, n_per_group=n, datasets=datasets,
               truth=truth, bound=bound, mc_se=se, check=check, **rates)  # fmt: skip
    out.update(extra)
    return out


def permutation_verdicts(x: np.ndarray, y: np.ndarray, margin: float = 0.0,
                         alpha: float = ALPHA) -> np.ndarray:  # fmt: skip
    res = verdicts.permutation_pvalues(x, y, margin, alpha, with_ci=False)
    return verdicts.decide(res["p_value"], res["p_refute"], alpha)


def two_groups(datasets: int, seed: int) -> list[dict]:
    """compare_groups under the null (three shapes), on the margin, and 1.5 sd apart."""
    rows = []
    rule = "compare_groups (permutation, margin 0)"
    for n in SEED_COUNTS:
        shape = (datasets, n)
        normal = rng_for(seed, f"normal-null-{n}")
        skewed = rng_for(seed, f"lognormal-null-{n}")
        unequal = rng_for(seed, f"unequal-null-{n}")
        cases = {
            "equal groups, normal": (normal.normal(size=shape), normal.normal(size=shape)),
            "equal groups, lognormal (skewed)": (
                skewed.lognormal(0, 1, shape),
                skewed.lognormal(0, 1, shape),
            ),
            "equal means, sd 1 vs 3": (unequal.normal(0, 1, shape), unequal.normal(0, 3, shape)),
        }
        for case, (x, y) in cases.items():
            rows.append(row("two groups", case, rule, n, permutation_verdicts(x, y), "null"))
        g = rng_for(seed, f"margin-{n}")
        x, y = g.normal(MARGIN, 1, shape), g.normal(0, 1, shape)
        rows.append(row("two groups", f"difference {MARGIN} = margin", "compare_groups "
                        f"(permutation, margin {MARGIN})", n,
                        permutation_verdicts(x, y, MARGIN), "boundary"))  # fmt: skip
        g = rng_for(seed, f"separated-{n}")
        x, y = g.normal(SHIFT, 1, shape), g.normal(0, 1, shape)
        rows.append(row("two groups", f"x {SHIFT} sd above y", rule, n,
                        permutation_verdicts(x, y), f"+{SHIFT} sd", bound=""))  # fmt: skip
    return rows


def old_poi_rule(datasets: int, seed: int) -> list[dict]:
    """claims.py's old rule: supported if the 95% bootstrap CI of P(X > Y) is above 0.5,
    "not supported" (here: refuted) if below; stats.probability_of_improvement_ci."""
    rows = []
    for n in SEED_COUNTS:
        g = rng_for(seed, f"old-poi-{n}")
        out = []
        for i in range(datasets):
            x, y = g.normal(size=(n, 1)), g.normal(size=(n, 1))
            _, low, high = stats.probability_of_improvement_ci(x, y, reps=OLD_REPS, seed=i)
            out.append(verdicts.decide(0.0 if low > 0.5 else 1.0, 0.0 if high < 0.5 else 1.0))
        rows.append(row("two groups", "equal groups, normal", "OLD: 95% bootstrap CI of "
                        "P(X>Y) above 0.5", n, np.array(out), "null"))  # fmt: skip
    return rows


def holm_family(families: int, seed: int) -> list[dict]:
    """compare_groups in 4 envs, Holm within the claim: null in all, or 1.5 sd in all."""
    rows = []
    for n in SEED_COUNTS:
        for truth, shift in (("null in all 4", 0.0), (f"+{SHIFT} sd in all 4", SHIFT)):
            g = rng_for(seed, f"holm-{truth}-{n}")
            x = g.normal(shift, 1, (families * ENVS, n))
            y = g.normal(0, 1, (families * ENVS, n))
            res = verdicts.permutation_pvalues(x, y, with_ci=False)
            p = verdicts.holm(res["p_value"].reshape(families, ENVS))
            q = verdicts.holm(res["p_refute"].reshape(families, ENVS))
            env = verdicts.decide(p, q, ALPHA)
            family = np.where((env == "supported").any(axis=1), "supported",
                              np.where((env == "refuted").any(axis=1), "refuted",
                                       "inconclusive"))  # fmt: skip
            rows.append(row(
                "Holm, 4 envs", f"{truth} (rates: any env)", "compare_groups + apply_holm", n,
                family, truth, bound="alpha" if shift == 0 else "",
                per_env_supported=float((env == "supported").mean()),
            ))  # fmt: skip
    return rows


def curves(g: np.random.Generator, truth: str, count: int) -> np.ndarray:
    """``count`` noisy model-error curves (count, len(HORIZONS)); truth "p=2" or "exp"."""
    t = HORIZONS
    log_c = g.normal(0, 0.5, (count, 1))
    noise = g.normal(0, CURVE_NOISE, (count, len(t)))
    if truth == "exp":
        rate = RATE * (1 + g.normal(0, 0.05, (count, 1)))
        return np.exp(log_c + rate * t + noise)
    exponent = float(truth.removeprefix("p=")) + g.normal(0, SEED_SPREAD, (count, 1))
    return np.exp(log_c + exponent * np.log(t) + noise)


def exponents(datasets: int, old_datasets: int, seed: int) -> tuple[list[dict], float]:
    """TOST on per-seed exponents, the old "2 in the CI" rule, AIC model choice."""
    rows, spread = [], math.nan
    truths = ["p=1", "p=1.75", "p=2", "p=2.25", "p=3", "exp"]
    bounds = {"p=1": "alpha (supported)", "p=1.75": "alpha", "p=2": "alpha (refuted)",
              "p=2.25": "alpha", "p=3": "alpha (supported)", "exp": ""}  # fmt: skip
    for truth in truths:
        for n in SEED_COUNTS:
            g = rng_for(seed, f"curves-{truth}-{n}")
            fits = verdicts.aic_table(HORIZONS, curves(g, truth, datasets * n))
            exps = fits["exponent"].reshape(datasets, n)
            if truth == "p=2" and n == 10:
                spread = float(np.sqrt(exps.var(axis=1, ddof=1).mean()))
            res = verdicts.tost_pvalues(exps, TARGET, EQ_MARGIN, ALPHA)
            best = {f"best_{m}": float((fits["best"] == m).mean()) for m in verdicts.MODELS}
            rows.append(row("exponent", f"truth {truth}", f"equivalence_exponent (TOST, "
                            f"{TARGET:g} +- {EQ_MARGIN:g})", n,
                            verdicts.decide(res["p_value"], res["p_refute"], ALPHA), truth,
                            bound=bounds[truth], **best))  # fmt: skip
            delta = (fits["aic_power"] - fits["aic_exponential"]).reshape(datasets, n)
            res = verdicts.one_sample_pvalues(delta, 0.0, ALPHA, "t")
            rows.append(row("exponent", f"truth {truth}", "exponential beats power: "
                            "one_sample_above(AIC_pow - AIC_exp, t)", n,
                            verdicts.decide(res["p_value"], res["p_refute"], ALPHA), truth,
                            bound=""))  # fmt: skip
            if truth in ("p=1", "p=1.75", "p=2") and old_datasets:
                old = []
                for i, e in enumerate(exps[:old_datasets]):
                    _, low, high = stats.stratified_bootstrap_ci(e, stats.mean, reps=OLD_REPS,
                                                                 seed=i)  # fmt: skip
                    old.append("supported" if low <= TARGET <= high else "refuted")
                rows.append(row("exponent", f"truth {truth}", "OLD: supported if 2 lies in "
                                "the 95% bootstrap CI", n, np.array(old), truth,
                                bound="" if truth == "p=2" else "alpha (supported)"))  # fmt: skip
    return rows, spread


def one_sample(datasets: int, seed: int) -> list[dict]:
    """one_sample_above, t and sign, under nulls and at 1 sd."""
    rows = []
    for n in SEED_COUNTS:
        shape = (datasets, n)
        for method in ("t", "sign"):
            g = rng_for(seed, f"one-{method}-{n}")
            skew = g.lognormal(0, 1, shape) - (math.exp(0.5) if method == "t" else 1.0)
            cases = {
                "centre 0, normal": (g.normal(size=shape), "null", "alpha"),
                f"centre 0, lognormal (skewed, {'mean' if method == 't' else 'median'} 0)": (
                    skew, "null", "alpha"),
                "centre 1 sd above 0": (g.normal(1, 1, shape), "+1 sd", ""),
            }  # fmt: skip
            for case, (e, truth, bound) in cases.items():
                res = verdicts.one_sample_pvalues(e, 0.0, ALPHA, method)
                rows.append(row("one sample", case, f"one_sample_above ({method}, margin 0)", n,
                                verdicts.decide(res["p_value"], res["p_refute"], ALPHA), truth,
                                bound=bound))  # fmt: skip
    return rows


def power_check(datasets: int, seed: int, spread: float) -> list[dict]:
    """Simulated power at the seeds per group seeds_needed asks for (target 0.8)."""
    rows = []
    cases = [
        ("two-sample", SHIFT, 1.0, ALPHA), ("two-sample", SHIFT, 1.0, ALPHA / ENVS),
        ("two-sample", 1.0, 1.0, ALPHA), ("one-sample-t", 1.0, 1.0, ALPHA),
        ("sign", 1.0, 1.0, ALPHA), ("equivalence", TARGET, spread, ALPHA),
    ]  # fmt: skip
    for test, effect, sd, alpha in cases:
        margin = EQ_MARGIN if test == "equivalence" else 0.0
        n = verdicts.seeds_needed(effect, sd, test, margin=margin, alpha=alpha, target=TARGET)
        if not math.isfinite(n):
            continue
        n = int(n)
        g = rng_for(seed, f"power-{test}-{effect}-{alpha}")
        if test == "two-sample":
            x, y = g.normal(effect, sd, (datasets, n)), g.normal(0, sd, (datasets, n))
            res = verdicts.permutation_pvalues(x, y, 0.0, alpha, seed=1, with_ci=False)
            rule = "compare_groups"
        elif test == "equivalence":
            e = verdicts.aic_table(HORIZONS, curves(g, "p=2", datasets * n))["exponent"]
            res = verdicts.tost_pvalues(e.reshape(datasets, n), TARGET, EQ_MARGIN, alpha)
            rule = "equivalence_exponent"
        else:
            method = "t" if test == "one-sample-t" else "sign"
            res = verdicts.one_sample_pvalues(g.normal(effect, sd, (datasets, n)), 0.0, alpha,
                                              method)  # fmt: skip
            rule = f"one_sample_above ({method})"
        label = (f"seeds_needed({effect:g}, sd {sd:.3g}, {test}, alpha {alpha:g}) = {n}: "
                 "power there (target 0.8)")  # fmt: skip
        rows.append(row("seeds_needed", label, rule, n,
                        verdicts.decide(res["p_value"], res["p_refute"], alpha),
                        f"effect {effect:g}", bound=""))  # fmt: skip
    return rows


def markdown(table: pd.DataFrame) -> str:
    """README tables: verdict rates per case as "supported / refuted" at 3, 5 and 10 seeds;
    the power reached at the n seeds_needed asks for; the AIC model choice per curve."""
    key = ["section", "case", "rule"]
    rates = table.supported.map("{:.3f}".format) + " / " + table.refuted.map("{:.3f}".format)
    holm = table.per_env_supported.notna() & (table.bound.fillna("") == "")
    per_env = " (per env " + table.per_env_supported.map("{:.2f}".format) + ")"
    table = table.assign(cell=rates.where(~holm, rates + per_env))
    main_rows = table[table.section != "seeds_needed"]
    lines = ["| section | case | rule | " + " | ".join(f"n = {n}" for n in SEED_COUNTS)
             + " | check |", "|---" * (len(SEED_COUNTS) + 4) + "|"]  # fmt: skip
    for values, group in main_rows.groupby(key, sort=False):
        cells = [group.cell[group.n_per_group == n] for n in SEED_COUNTS]
        checks = group.check.tolist()
        failed = [c for c in checks if c.startswith("FAIL")]
        lines.append("| " + " | ".join(values) + " | "
                     + " | ".join(c.iloc[0] if len(c) else "" for c in cells) + " | "
                     + (failed[0] if failed else checks[0]) + " |")  # fmt: skip
    lines += ["", "| seeds_needed asked | rule | datasets | reached a verdict |",
              "|---|---|---|---|"]  # fmt: skip
    for r in table[table.section == "seeds_needed"].itertuples():
        lines.append(f"| {r.case.split(': power')[0]} | {r.rule} | {r.datasets} | "
                     f"{r.supported:.3f} |")  # fmt: skip
    tost = table[table.rule.str.startswith("equivalence") & table.best_power.notna()]
    per_curve = tost.sort_values("n_per_group").groupby("truth", sort=False).last()
    lines += ["", "| truth | curves | best: power | best: exponential | best: linear |",
              "|---|---|---|---|---|"]  # fmt: skip
    for truth, r in per_curve.iterrows():
        lines.append(f"| {truth} | {int(r.datasets * r.n_per_group)} | {r.best_power:.4f} | "
                     f"{r.best_exponential:.4f} | {r.best_linear:.4f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=4000, help="datasets per case")
    parser.add_argument("--families", type=int, default=2000, help="4-env families for Holm")
    parser.add_argument(
        "--old-datasets",
        type=int,
        default=2000,
        help="datasets for the old bootstrap rules (slow, one call each)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="print the README tables from an existing results.csv",
    )
    args = parser.parse_args(argv)
    if args.table_only:
        print(markdown(pd.read_csv(args.out / "results.csv", keep_default_na=False,
                                   na_values=[""])))  # fmt: skip
        return 0
    start = time.time()
    rows = []
    for name, make in (
        ("two groups", lambda: two_groups(args.datasets, args.seed)),
        ("old P(X>Y) rule", lambda: old_poi_rule(args.old_datasets, args.seed)),
        ("Holm", lambda: holm_family(args.families, args.seed)),
        ("one sample", lambda: one_sample(args.datasets, args.seed)),
    ):
        rows += make()
        print(f"{name}: done at {time.time() - start:.0f} s", file=sys.stderr)
    exponent_rows, spread = exponents(args.datasets, args.old_datasets, args.seed)
    rows += exponent_rows
    print(f"exponents: done at {time.time() - start:.0f} s", file=sys.stderr)
    rows += power_check(args.datasets, args.seed, spread)
    table = pd.DataFrame(rows, columns=COLUMNS)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "results.csv", index=False, float_format="%.4g")
    meta = {
        "command": " ".join(["python studies/claims_calibration/calibrate.py",
                             *(sys.argv[1:] if argv is None else argv)]),
        "datasets": args.datasets, "families": args.families,
        "old_datasets": args.old_datasets, "seed": args.seed, "alpha": ALPHA,
        "exponent_spread_at_truth_2": spread, "wall_seconds": round(time.time() - start, 1),
        "numpy": np.__version__, "scipy": scipy.__version__,
        "failed_checks": int((table.check == "FAIL").sum()),  # old rules not counted
        "rows": json.loads(table.to_json(orient="records")),
    }  # fmt: skip
    (args.out / "results.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
