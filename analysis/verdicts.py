"""Three-way verdicts for the claims table: supported / refuted / inconclusive.

Each claim is one pre-registered experiment (DESIGN.md, "Claims"): a primary quantity per
seed, named variants (never pooled), a test with a stated margin, Holm across envs within the
claim. Every rule here is two one-sided tests at level ``alpha``:

- ``supported``    if ``p_value  <= alpha``: the test of "the claim is false at its margin"
  rejects (e.g. H0: mean(x) - mean(y) <= margin);
- ``refuted``      if ``p_refute <= alpha``: the reverse one-sided test rejects (H0: the claim
  holds at its margin, e.g. mean(x) - mean(y) >= margin);
- ``inconclusive`` otherwise. Failing to reject never supports anything.

So under any truth on the boundary, P(supported) <= alpha and P(refuted) <= alpha. For every
test here ``p_value <= alpha`` exactly when the row's (1 - 2 alpha) CI lies wholly on the
claim's side of the margin, and ``p_refute <= alpha`` when it lies wholly on the other side:
the CI in the row shows the verdict. (The CI is per row; after :func:`apply_holm` the verdict
uses the Holm-adjusted p-values, which are stricter than the CI.)

"p <= alpha", not "p < alpha": a valid p-value satisfies P(p <= u) <= u, so rejecting at
``p <= alpha`` has level alpha, and it lets the exact permutation test decide with 3 seeds per
group (smallest one-sided p 1/C(6, 3) = 1/20 = 0.05). It cannot after Holm: see
:func:`min_permutation_p`.

Layers: ``*_pvalues`` functions take stacked datasets, shape (B, n), and return arrays (for
calibration, studies/claims_calibration/); the verdict functions take one row's 1-D arrays and
return a flat :class:`Verdict` (``dataclasses.asdict`` gives a CSV row).

References: Fisher (1935) and Pitman (1937) permutation tests; Ernst (2004), Statistical
Science 19(4), inverting a permutation test into a CI for a shift; Phipson & Smyth (2010) for
Monte-Carlo p-values (1 + b) / (1 + B); Schuirmann (1987) two one-sided tests (TOST); Dixon &
Mood (1946) sign test; Holm (1979); Akaike (1974) AIC; Cohen (1988) power via the noncentral t;
Hoenig & Heisey (2001) on why a power figure at the observed effect is a planning aid, not
evidence.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"
VERDICTS = (SUPPORTED, REFUTED, INCONCLUSIVE)

MAX_EXACT = 200_000  # enumerate every split up to this many (10 vs 10 seeds: 184,756)
N_RESAMPLES = 9_999  # random splits beyond it (smallest p 1e-4)
SEEDS_CAP = 50  # seeds_needed returns inf above this many seeds per group
_REL_TOL = 1e-9  # float slack when comparing p with alpha and sums of the same values
_CHUNK_VALUES = 4_000_000  # split-by-dataset sums held in memory at once


@dataclass(frozen=True)
class Verdict:
    """One claims-table row. Flat on purpose: ``dataclasses.asdict(v)`` is a CSV row.

    ``effect`` is the rule's estimate (difference in means, mean or median of the per-seed
    estimates); ``ci_low``/``ci_high`` its (1 - 2 alpha) CI; ``p_value`` the one-sided p of
    the test for the claim, ``p_refute`` of the test against it; ``p_holm``/``p_refute_holm``
    those adjusted over the claim's ``family_size`` rows (NaN until :func:`apply_holm`);
    ``n_x``/``n_y`` seeds per group (``n_y`` = 0 for one-sample rules); ``sd`` the pooled
    (two-sample) or sample sd of the per-seed values; ``seeds_needed`` the seeds per group at
    which the test would reach a verdict with probability 0.8 if the observed effect and sd
    were the truth (:func:`seeds_needed`; inf above its cap).
    """

    test: str
    effect: float
    ci_low: float
    ci_high: float
    p_value: float
    p_refute: float
    n_x: int
    n_y: int
    sd: float
    margin: float
    target: float
    alpha: float
    seeds_needed: float
    verdict: str
    rule: str
    p_holm: float = math.nan
    p_refute_holm: float = math.nan
    family_size: int = 1

    def as_row(self) -> dict:
        """The row as a dict of plain values, in field order."""
        return dataclasses.asdict(self)


# --------------------------------------------------------------------------- decisions


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")


def decide(p_value, p_refute, alpha: float = 0.05):
    """The three-way verdict from the two one-sided p-values (scalars or arrays).

    supported if ``p_value <= alpha``, refuted if ``p_refute <= alpha``, else inconclusive
    (also when both are <= alpha, which no test here allows for alpha < 0.5, and when a
    p-value is NaN). Returns a str for scalar inputs, else an array of str.
    """
    _check_alpha(alpha)
    p, q = np.asarray(p_value, dtype=float), np.asarray(p_refute, dtype=float)
    bound = alpha * (1 + _REL_TOL)
    sup, ref = p <= bound, q <= bound
    out = np.where(sup & ~ref, SUPPORTED, np.where(ref & ~sup, REFUTED, INCONCLUSIVE))
    return str(out) if out.ndim == 0 else out


def _rows(values, name: str, min_n: int) -> np.ndarray:
    """``values`` as a float (B, n) array of finite numbers with n >= ``min_n``."""
    array = np.asarray(values, dtype=float)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] < min_n:
        raise ValueError(f"{name} needs at least {min_n} values per dataset, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or inf; drop the seeds that failed first")
    return array


# --------------------------------------------------------------- two groups: permutation


def min_permutation_p(n_x: int, n_y: int) -> float:
    """Smallest one-sided p of the exact permutation test: 1 / C(n_x + n_y, n_x).

    3 vs 3: 1/20 = 0.05 (decides at alpha 0.05, never after Holm over 2+ envs); 4 vs 4: 1/70
    (Holm over up to 3 envs); 5 vs 5: 1/252 (up to 12 envs); 10 vs 10: 1/184,756.
    """
    return 1.0 / math.comb(n_x + n_y, n_x)


@functools.lru_cache(maxsize=8)
def _all_splits(n_x: int, n_y: int) -> tuple[np.ndarray, np.ndarray]:
    """Every way to choose the x group from the pooled n_x + n_y values: a 0/1 matrix
    (C(n, n_x), n) and, per split, how many of its members come from y."""
    n = n_x + n_y
    count = math.comb(n, n_x)
    chosen = np.fromiter(
        itertools.chain.from_iterable(itertools.combinations(range(n), n_x)),
        dtype=np.int64,
        count=count * n_x,
    ).reshape(count, n_x)
    selection = np.zeros((count, n))
    np.put_along_axis(selection, chosen, 1.0, axis=1)
    from_y = selection[:, n_x:].sum(axis=1)
    selection.setflags(write=False)
    from_y.setflags(write=False)
    return selection, from_y


def _random_splits(n_x: int, n_y: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = n_x + n_y
    chosen = np.argsort(rng.random((count, n)), axis=1)[:, :n_x]
    selection = np.zeros((count, n))
    np.put_along_axis(selection, chosen, 1.0, axis=1)
    return selection, selection[:, n_x:].sum(axis=1)


def permutation_pvalues(
    x,
    y,
    margin: float = 0.0,
    alpha: float = 0.05,
    max_exact: int = MAX_EXACT,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    with_ci: bool = True,
) -> dict[str, np.ndarray]:
    """Fisher-Pitman permutation test of mean(x) - mean(y) against ``margin``, per dataset.

    ``x`` (B, n_x) and ``y`` (B, n_y), one dataset a row (1-D: one dataset). Under the shift
    model (x - margin and y exchangeable at the boundary) the test is exact: x - margin and y
    are pooled and every split into groups of n_x and n_y is scored by the x group's sum.
    ``p_value`` = share of splits scoring >= the observed one (H1: difference > margin);
    ``p_refute`` = share scoring <= it (H1: difference < margin). All C(n_x + n_y, n_x) splits
    are enumerated when there are at most ``max_exact``, else ``n_resamples`` seeded random
    splits, p = (1 + b) / (1 + B) (Phipson & Smyth 2010); the same splits serve every row.

    With ``with_ci`` also the (1 - 2 alpha) CI of the shift by inverting the test (Ernst 2004):
    a split that moves j of x's values to y crosses at d = (mean of the x values moved - mean
    of the y values moved in), so the one-sided test at shift delta rejects iff at most
    floor(alpha * N) splits count against it: those with d <= delta and the c0 that move
    nothing (the observed split among them). ``ci_low`` is the
    (floor(alpha N) - c0 + 1)-th smallest d, ``ci_high`` likewise from the top; -inf/+inf
    when the seed counts cannot reach alpha. Hence
    ``p_value <= alpha`` iff ``margin < ci_low`` and ``p_refute <= alpha`` iff
    ``margin > ci_high`` (up to exact float ties).
    """
    x, y = _rows(x, "x", 1), _rows(y, "y", 1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must stack the same datasets, got {x.shape} and {y.shape}")
    _check_alpha(alpha)
    n_x, n_y = x.shape[1], y.shape[1]
    exact = math.comb(n_x + n_y, n_x) <= max_exact
    if exact:
        selection, from_y = _all_splits(n_x, n_y)
        total = len(selection)
    else:
        selection, from_y = _random_splits(n_x, n_y, n_resamples, seed)
        total = n_resamples + 1  # the observed split counts once more
    observed = 0 if exact else 1
    pooled = np.concatenate([x, y], axis=1)  # unshifted; the shift enters through from_y
    sum_x = x.sum(axis=1)
    tol = _REL_TOL * (np.abs(pooled).sum(axis=1) + abs(margin) * (n_x + n_y) + 1.0)
    moved = from_y > 0
    # splits (observed or moving nothing) that count in both directions at every shift
    still = observed + int((~moved).sum())
    allowed = math.floor(alpha * total * (1 + _REL_TOL)) - still  # crossings a CI bound skips
    ge = np.zeros(len(x), dtype=np.int64)
    le = np.zeros(len(x), dtype=np.int64)
    ci_low = np.full(len(x), -np.inf)
    ci_high = np.full(len(x), np.inf)
    step = max(1, _CHUNK_VALUES // len(selection))
    for start in range(0, len(x), step):
        part = slice(start, start + step)
        sums = selection @ pooled[part].T  # (splits, chunk): the x group's sum per split
        if with_ci and allowed >= 0:
            cross = (sum_x[part] - sums[moved]) / from_y[moved, None]
            ci_low[part] = np.partition(cross, allowed, axis=0)[allowed]
            ci_high[part] = -np.partition(-cross, allowed, axis=0)[allowed]
            del cross
        # in place: the x group's sum minus the observed one, after shifting x by the margin
        sums -= sum_x[part]
        if margin:
            sums += from_y[:, None] * margin
        ge[part] = (sums >= -tol[part]).sum(axis=0)
        le[part] = (sums <= tol[part]).sum(axis=0)
    out = {
        "p_value": (ge + observed) / total,
        "p_refute": (le + observed) / total,
        "effect": x.mean(axis=1) - y.mean(axis=1),
        "exact": np.full(len(x), exact),
    }
    if with_ci:
        out.update(ci_low=ci_low, ci_high=ci_high)
    return out


def _pooled_sd(x: np.ndarray, y: np.ndarray) -> float:
    df = len(x) + len(y) - 2
    if df < 1:
        return math.nan
    ss = ((x - x.mean()) ** 2).sum() + ((y - y.mean()) ** 2).sum()
    return float(math.sqrt(ss / df))


def compare_groups(
    x,
    y,
    margin: float = 0.0,
    alpha: float = 0.05,
    max_exact: int = MAX_EXACT,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Verdict:
    """Claim "x beats y by more than ``margin``" over two independent groups of seeds.

    Test: exact one-sided permutation test on the difference in means (Fisher 1935; Pitman
    1937), see :func:`permutation_pvalues`. supported if p(H0: mean x - mean y <= margin) <=
    alpha; refuted if p(H0: mean x - mean y >= margin) <= alpha; else inconclusive. Effect:
    mean(x) - mean(y) with the (1 - 2 alpha) permutation-inversion CI of the shift (Ernst
    2004), so supported iff the CI lies above ``margin`` and refuted iff below it.

    Why the permutation test on means and not Mann-Whitney: the claims' quantities (AUC of a
    return curve, a return gap, a distance) are compared by their means, and this test is exact
    for exactly that statistic under exchangeability with no normality assumption; it has the
    same smallest p as Mann-Whitney (1/C(n_x + n_y, n_x), identical rejection region at 3 vs 3),
    uses the magnitudes (Pitman efficiency 1 against normal shifts, Mann-Whitney 0.955), and
    inverts into a CI on the effect's own scale. Its weaknesses: an outlying seed moves the mean;
    with unequal spreads and unequal n it is not exact (Behrens-Fisher); studies/
    claims_calibration/ measures both.

    Seed counts: the smallest p is 1/C(n_x + n_y, n_x) (:func:`min_permutation_p`): 3 vs 3
    gives 1/20 = 0.05, reached only when all three x beat all three y by more than the margin;
    5 vs 5 gives 1/252. Exact enumeration up to ``max_exact`` splits (10 vs 10 is 184,756),
    seeded Monte Carlo beyond. For a ratio claim ("MPC costs > 10x per action") pass logs and
    ``margin=log(10)``.
    """
    x1, y1 = _rows(x, "x", 1)[0], _rows(y, "y", 1)[0]
    res = permutation_pvalues(x1, y1, margin, alpha, max_exact, n_resamples, seed)
    p, q = float(res["p_value"][0]), float(res["p_refute"][0])
    effect = float(res["effect"][0])
    sd = _pooled_sd(x1, y1)
    kind = "exact" if res["exact"][0] else f"{n_resamples} random splits"
    rule = (
        f"permutation test on mean x - mean y ({kind}), margin {margin:g}: supported "
        f"if p(diff <= margin) <= {alpha:g}, refuted if p(diff >= margin) <= {alpha:g}"
    )
    return Verdict(
        test="permutation",
        effect=effect,
        ci_low=float(res["ci_low"][0]),
        ci_high=float(res["ci_high"][0]),
        p_value=p,
        p_refute=q,
        n_x=len(x1),
        n_y=len(y1),
        sd=sd,
        margin=float(margin),
        target=math.nan,
        alpha=alpha,
        seeds_needed=seeds_needed(effect, sd, "two-sample", margin=margin, alpha=alpha),
        verdict=decide(p, q, alpha),
        rule=rule,
    )


# ------------------------------------------------------------- one sample: t and sign


def _t_parts(e: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    n = e.shape[1]
    return e.mean(axis=1), e.std(axis=1, ddof=1) / math.sqrt(n), n - 1


def _t_stat(mean: np.ndarray, se: np.ndarray, bound: float) -> np.ndarray:
    """(mean - bound) / se; a zero se gives +-inf, or 0 when the mean sits on the bound."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (mean - bound) / se
    return np.where(np.isnan(t), 0.0, t)


def tost_pvalues(estimates, target: float, margin: float, alpha: float = 0.05) -> dict:
    """Schuirmann's (1987) two one-sided t tests for each row of ``estimates`` (B, n).

    ``p_value`` = max of the p's of H0: mu <= target - margin and H0: mu >= target + margin
    (both rejected: the mean lies inside the interval); ``p_refute`` = min of the p's of
    H0: mu <= target + margin and H0: mu >= target - margin (one rejected: it lies outside).
    Also the mean and its (1 - 2 alpha) t CI. Assumes the per-seed estimates are independent
    and roughly normal (true of least-squares slopes fitted to many points).
    """
    e = _rows(estimates, "estimates", 2)
    if margin <= 0:
        raise ValueError(f"an equivalence margin must be positive, got {margin}")
    _check_alpha(alpha)
    mean, se, df = _t_parts(e)
    t_low, t_high = _t_stat(mean, se, target - margin), _t_stat(mean, se, target + margin)
    inside = np.maximum(stats.t.sf(t_low, df), stats.t.cdf(t_high, df))
    outside = np.minimum(stats.t.sf(t_high, df), stats.t.cdf(t_low, df))
    half = stats.t.ppf(1 - alpha, df) * se
    return {
        "p_value": inside,
        "p_refute": outside,
        "effect": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


def equivalence_exponent(
    estimates, target: float = 2.0, margin: float = 0.25, alpha: float = 0.05
) -> Verdict:
    """Claim "the per-seed quantity equals ``target`` within ``margin``" (e.g. err ~ t^2).

    TOST (Schuirmann 1987) with a t-based CI over seeds: supported if the (1 - 2 alpha) CI of
    the mean lies inside [target - margin, target + margin]; refuted if it lies wholly outside;
    else inconclusive. The margin is part of the claim: "grows like t^2" is tested as "the
    exponent lies within 2 +- margin", never as "2 lies in the CI" (which noise satisfies).

    Assumption: one estimate per seed (a fitted exponent), independent across seeds and
    roughly normal; then P(supported) <= alpha at a true value on or beyond either bound.
    P(refuted) at a true value on a bound is alpha plus the chance of the CI falling beyond
    the far bound, negligible unless the margin is below about one standard error.
    """
    e = _rows(estimates, "estimates", 2)[0]
    res = tost_pvalues(e, target, margin, alpha)
    p, q = float(res["p_value"][0]), float(res["p_refute"][0])
    effect, sd = float(res["effect"][0]), float(e.std(ddof=1))
    rule = (
        f"TOST (t, {len(e)} seeds): supported if the {1 - 2 * alpha:.0%} CI lies in "
        f"[{target - margin:g}, {target + margin:g}], refuted if wholly outside"
    )
    return Verdict(
        test="tost",
        effect=effect,
        ci_low=float(res["ci_low"][0]),
        ci_high=float(res["ci_high"][0]),
        p_value=p,
        p_refute=q,
        n_x=len(e),
        n_y=0,
        sd=sd,
        margin=float(margin),
        target=float(target),
        alpha=alpha,
        seeds_needed=seeds_needed(
            effect, sd, "equivalence", margin=margin, alpha=alpha, target=target
        ),
        verdict=decide(p, q, alpha),
        rule=rule,
    )


def one_sample_pvalues(
    estimates, margin: float = 0.0, alpha: float = 0.05, method: str = "t"
) -> dict:
    """One-sided tests of "the per-seed quantity exceeds ``margin``" for each row (B, n).

    ``method="t"``: one-sample t test on the mean, (1 - 2 alpha) t CI. ``method="sign"``:
    the exact sign test on the median (Dixon & Mood 1946), values equal to the margin dropped,
    with the order-statistic CI of the median [x_(r), x_(n+1-r)], r the largest with
    P(Bin(n, 1/2) <= r - 1) <= alpha (infinite when 2^-n > alpha).
    """
    e = _rows(estimates, "estimates", 2 if method == "t" else 1)
    _check_alpha(alpha)
    if method == "t":
        mean, se, df = _t_parts(e)
        t = _t_stat(mean, se, margin)
        half = stats.t.ppf(1 - alpha, df) * se
        return {
            "p_value": stats.t.sf(t, df),
            "p_refute": stats.t.cdf(t, df),
            "effect": mean,
            "ci_low": mean - half,
            "ci_high": mean + half,
        }
    if method != "sign":
        raise ValueError(f"method must be 't' or 'sign', got {method!r}")
    n = e.shape[1]
    tol = _REL_TOL * (np.abs(e).max(axis=1) + abs(margin) + 1.0)
    above = (e - margin > tol[:, None]).sum(axis=1)
    below = (margin - e > tol[:, None]).sum(axis=1)
    untied = above + below
    p = np.where(untied > 0, stats.binom.sf(above - 1, untied, 0.5), 1.0)
    q = np.where(untied > 0, stats.binom.cdf(above, untied, 0.5), 1.0)
    ordered = np.sort(e, axis=1)
    ranks = np.arange(1, n + 1)
    ok = ranks[stats.binom.cdf(ranks - 1, n, 0.5) <= alpha * (1 + _REL_TOL)]
    if ok.size:
        r = int(ok.max())
        low, high = ordered[:, r - 1], ordered[:, n - r]
    else:
        low, high = np.full(len(e), -np.inf), np.full(len(e), np.inf)
    return {
        "p_value": p,
        "p_refute": q,
        "effect": np.median(e, axis=1),
        "ci_low": low,
        "ci_high": high,
    }


def one_sample_above(
    estimates, margin: float = 0.0, alpha: float = 0.05, method: str = "t"
) -> Verdict:
    """Claim "this per-seed quantity is above ``margin``" (a slope of log|grad| vs log H, a
    finite-time Lyapunov exponent, a per-seed AIC difference).

    supported if the one-sided test of H0: centre <= margin gives p <= alpha (the (1 - 2 alpha)
    CI lies above the margin); refuted if H0: centre >= margin is rejected (CI below); else
    inconclusive. ``method="t"`` (default): one-sample t test on the mean; assumes the per-seed
    values are independent and roughly normal, and decides from 2 seeds. ``method="sign"``:
    exact sign test on the median, no distributional assumption, but its smallest p is 2^-n:
    it cannot decide below 5 seeds at alpha 0.05 (1/32), nor below 7 after Holm over 4 envs.
    """
    e = _rows(estimates, "estimates", 2 if method == "t" else 1)[0]
    res = one_sample_pvalues(e, margin, alpha, method)
    p, q = float(res["p_value"][0]), float(res["p_refute"][0])
    effect = float(res["effect"][0])
    sd = float(e.std(ddof=1)) if len(e) > 1 else math.nan
    centre = "mean" if method == "t" else "median"
    rule = (
        f"one-sample {method} test on the {centre}, margin {margin:g}: supported if "
        f"p({centre} <= margin) <= {alpha:g}, refuted if p({centre} >= margin) <= "
        f"{alpha:g}"
    )
    test = "sign" if method == "sign" else "one-sample-t"
    return Verdict(
        test=test,
        effect=effect,
        ci_low=float(res["ci_low"][0]),
        ci_high=float(res["ci_high"][0]),
        p_value=p,
        p_refute=q,
        n_x=len(e),
        n_y=0,
        sd=sd,
        margin=float(margin),
        target=math.nan,
        alpha=alpha,
        seeds_needed=seeds_needed(effect, sd, test, margin=margin, alpha=alpha),
        verdict=decide(p, q, alpha),
        rule=rule,
    )


# ----------------------------------------------------------------------- model choice


MODELS = ("power", "exponential", "linear")


@dataclass(frozen=True)
class ModelSelection:
    """AICs of three growth laws fitted to one curve, on log y (same data, same n).

    ``best`` is the smallest AIC (ties go to the earlier of power, exponential, linear);
    ``exponent`` is p of y = c t^p and ``rate`` is l of y = c e^(l t).
    """

    aic_power: float
    aic_exponential: float
    aic_linear: float
    best: str
    exponent: float
    rate: float
    n: int


def _gaussian_loglik(residuals: np.ndarray) -> np.ndarray:
    """Maximised Gaussian log-likelihood of least-squares residuals (B, n), sigma^2 = RSS/n."""
    n = residuals.shape[1]
    var = np.maximum((residuals**2).mean(axis=1), np.finfo(float).tiny)
    return -0.5 * n * (np.log(2 * np.pi * var) + 1)


def aic_table(t, y) -> dict[str, np.ndarray]:
    """AIC of each growth law for each curve: ``t`` (T,) > 0, ``y`` (B, T) > 0.

    power y = c t^p: least squares of log y on log t; exponential y = c e^(l t): log y on t;
    linear y = a + b t: y on t, additive Gaussian noise, its likelihood moved onto the log y
    scale by the Jacobian (density of log y = density of y times y, so + sum log y). Each has
    3 parameters (two coefficients and the noise variance), AIC = 6 - 2 log L (Akaike 1974),
    so comparing AICs compares likelihoods of the same log y values.
    """
    t = np.asarray(t, dtype=float)
    y = _rows(y, "y", 4)
    if t.ndim != 1 or len(t) != y.shape[1]:
        raise ValueError(f"t must be 1-D with one value per column of y, got {t.shape}")
    if not (np.all(t > 0) and np.all(y > 0) and np.isfinite(t).all()):
        raise ValueError("t and y must be positive and finite (fit on logs)")
    log_y = np.log(y)
    ones = np.ones_like(t)
    fits = {}
    for name, design, response in (
        ("power", np.stack([ones, np.log(t)], axis=1), log_y),
        ("exponential", np.stack([ones, t], axis=1), log_y),
        ("linear", np.stack([ones, t], axis=1), y),
    ):
        coef = np.linalg.lstsq(design, response.T, rcond=None)[0]  # (2, B)
        loglik = _gaussian_loglik(response - (design @ coef).T)
        if name == "linear":
            loglik = loglik + log_y.sum(axis=1)
        fits[name] = (2 * 3 - 2 * loglik, coef[1])
    aics = np.stack([fits[m][0] for m in MODELS], axis=1)
    return {
        "aic_power": aics[:, 0],
        "aic_exponential": aics[:, 1],
        "aic_linear": aics[:, 2],
        "best": np.array(MODELS)[np.argmin(aics, axis=1)],
        "exponent": fits["power"][1],
        "rate": fits["exponential"][1],
    }


def model_selection_aic(t, y) -> ModelSelection:
    """Which growth law fits one curve best: power law, exponential or linear, by AIC.

    Points with t <= 0 or y <= 0 or non-finite are dropped (as ``stats.fit_power_law``); at
    least 4 must remain. For the claim "exponential beats polynomial" over seeds, take per
    seed ``aic_power - aic_exponential`` and test it with :func:`one_sample_above` (margin 0,
    or 2 for Burnham & Anderson's "substantial" difference): one curve's ``best`` is not a
    verdict.
    """
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    keep = (t > 0) & (y > 0) & np.isfinite(t) & np.isfinite(y)
    if keep.sum() < 4:
        raise ValueError(f"model selection needs >= 4 points with t, y > 0, got {keep.sum()}")
    res = aic_table(t[keep], y[keep][None])
    return ModelSelection(
        aic_power=float(res["aic_power"][0]),
        aic_exponential=float(res["aic_exponential"][0]),
        aic_linear=float(res["aic_linear"][0]),
        best=str(res["best"][0]),
        exponent=float(res["exponent"][0]),
        rate=float(res["rate"][0]),
        n=int(keep.sum()),
    )


# ------------------------------------------------------------------------------- Holm


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni (Holm 1979) adjusted p-values along the last axis.

    Sorted ascending, the i-th smallest (1-based) becomes max over j <= i of
    min(1, (m - j + 1) p_(j)); rejecting where adjusted p <= alpha controls the family-wise
    error at alpha. A NaN (a pre-registered row without data) counts as p = 1 in the family
    of m and stays NaN. Example: [0.01, 0.04, 0.03] -> [0.03, 0.06, 0.06].
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim == 0 or p.shape[-1] == 0:
        return p.copy()
    filled = np.where(np.isnan(p), 1.0, p)
    m = p.shape[-1]
    order = np.argsort(filled, axis=-1, kind="stable")
    ranked = np.take_along_axis(filled, order, axis=-1) * (m - np.arange(m))
    adjusted = np.minimum(1.0, np.maximum.accumulate(ranked, axis=-1))
    out = np.empty_like(filled)
    np.put_along_axis(out, order, adjusted, axis=-1)
    return np.where(np.isnan(p), np.nan, out)


def apply_holm(verdicts: list[Verdict]) -> list[Verdict]:
    """One claim's rows (one per env) re-decided on Holm-adjusted p-values.

    ``p_value`` and ``p_refute`` are adjusted as two families (each direction's family-wise
    error <= alpha); a row supported at raw p but not at its ``p_holm`` becomes inconclusive
    (likewise refuted). ``seeds_needed`` is recomputed at alpha / m, the level Holm demands of
    the smallest p, so it stays an answer to "how many seeds to decide after the correction".
    """
    if not verdicts:
        return []
    alphas = {v.alpha for v in verdicts}
    if len(alphas) != 1:
        raise ValueError(f"one claim's rows must share alpha, got {sorted(alphas)}")
    alpha, m = alphas.pop(), len(verdicts)
    p_holm = holm([v.p_value for v in verdicts])
    q_holm = holm([v.p_refute for v in verdicts])
    out = []
    for v, p, q in zip(verdicts, p_holm, q_holm, strict=True):
        needed = seeds_needed(
            v.effect,
            v.sd,
            v.test,
            margin=v.margin,
            alpha=alpha / m,
            target=0.0 if math.isnan(v.target) else v.target,
        )
        out.append(
            dataclasses.replace(
                v,
                p_holm=float(p),
                p_refute_holm=float(q),
                family_size=m,
                seeds_needed=needed,
                verdict=decide(p, q, alpha),
                rule=f"{v.rule}; Holm over {m} envs",
            )
        )
    return out


# ------------------------------------------------------------------------------ power


def _smallest_deciding_n(kind: str, alpha: float, cap: int) -> float:
    """The fewest seeds per group whose smallest attainable p is <= alpha (inf above cap)."""
    for n in range(2, cap + 1):
        if kind == "two-sample" and 1 / math.comb(2 * n, n) > alpha:
            continue
        if kind == "sign" and 0.5**n > alpha:
            continue
        return n
    return math.inf


_TESTS = {
    "two-sample": "two-sample",
    "permutation": "two-sample",
    "one-sample-t": "t",
    "t": "t",
    "sign": "sign",
    "equivalence": "equivalence",
    "tost": "equivalence",
}


def seeds_needed(
    effect: float,
    sd: float,
    test: str = "two-sample",
    margin: float = 0.0,
    alpha: float = 0.05,
    power: float = 0.8,
    target: float = 0.0,
    cap: int = SEEDS_CAP,
) -> float:
    """Seeds per group at which ``test`` reaches a verdict with probability ``power`` if the
    observed ``effect`` and ``sd`` were the truth; ``inf`` above ``cap``, NaN if sd is NaN.

    The verdict sought is the one the effect points to: supported when it lies on the claim's
    side of the margin (inside the equivalence interval), refuted otherwise. Power by the
    noncentral t (Cohen 1988): two-sample, df 2n - 2, noncentrality |effect - margin| /
    sd * sqrt(n / 2), the permutation test's large-sample equivalent, with the permutation
    floor 1 / C(2n, n) <= alpha; one-sample t, df n - 1, noncentrality |effect - margin| /
    sd * sqrt(n); equivalence (``effect`` is the mean, ``margin`` the half-width around
    ``target``): inside, power ~ P(reject low) + P(reject high) - 1, outside, the one-sided
    power against the nearer bound; sign test: exact binomial with P(value above margin) =
    Phi((effect - margin) / sd) (normal per-seed values). calibrate.py checks the power these
    n give. A planning aid: at the observed effect it inherits that effect's noise (Hoenig &
    Heisey 2001).
    """
    _check_alpha(alpha)
    kind = _TESTS.get(test)
    if kind is None:
        raise ValueError(f"test must be one of {sorted(_TESTS)}, got {test!r}")
    if not (np.isfinite(effect) and np.isfinite(sd)):
        return math.nan
    n = np.arange(2, cap + 1, dtype=float)
    distance = effect - (target if kind == "equivalence" else margin)
    if abs(distance) == (margin if kind == "equivalence" else 0.0):
        return math.inf  # on the decision boundary: no n decides
    if sd == 0:  # every seed equal: the smallest n at which the test can decide
        return float(_smallest_deciding_n(kind, alpha, cap))
    if kind == "two-sample":
        df, nc = 2 * n - 2, abs(distance) / sd * np.sqrt(n / 2)
        reach = stats.nct.sf(stats.t.ppf(1 - alpha, df), df, nc)
        floor = np.array([1 / math.comb(int(2 * k), int(k)) <= alpha for k in n])
        reach = np.where(floor, reach, 0.0)
    elif kind == "t":
        df, nc = n - 1, abs(distance) / sd * np.sqrt(n)
        reach = stats.nct.sf(stats.t.ppf(1 - alpha, df), df, nc)
    elif kind == "equivalence":
        df, crit, root = n - 1, stats.t.ppf(1 - alpha, n - 1), np.sqrt(n)
        if abs(distance) < margin:
            low = stats.nct.sf(crit, df, (distance + margin) / sd * root)
            high = stats.nct.cdf(-crit, df, (distance - margin) / sd * root)
            reach = np.clip(low + high - 1, 0, 1)
        else:
            reach = stats.nct.sf(crit, df, (abs(distance) - margin) / sd * root)
    else:
        share = stats.norm.cdf(abs(distance) / sd)
        k = np.arange(0, cap + 2)
        needed = np.array(
            [
                k[stats.binom.sf(k - 1, int(m), 0.5) <= alpha * (1 + _REL_TOL)].min()
                if 0.5**m <= alpha
                else m + 1
                for m in n
            ]
        )
        reach = stats.binom.sf(needed - 1, n.astype(int), share)
    ok = n[reach >= power]
    return float(ok.min()) if ok.size else math.inf
