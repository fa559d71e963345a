"""Every figure, drawn from small synthetic tables, checked with matplotlib's renderer: no
legend covers plotted data, no empty axes, no text under 8 pt, no overlapping text, one
colour per variant across all figures, figures narrow enough to read when shown."""

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.colors import to_hex, to_rgb  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.scores import run_scores  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

ENVS = ("gym-Pendulum-v1", "dmc-cartpole-swingup")
SEEDS = (0, 1)
VARIANTS = {  # variant: (method, k or H, probabilistic)
    "sac": ("sac", None, True),
    "mbpo-k1": ("mbpo", 1, True),
    "mbpo-k5": ("mbpo", 5, True),
    "mbpo-k5-det": ("mbpo", 5, False),
    "dyna-h50": ("dyna", 50, True),
    "mpc-cem": ("mpc", 5, True),
    "mpc-oracle": ("mpc", 5, True),
    "bptt-h5": ("bptt", 5, True),
    "bptt-h20": ("bptt", 20, True),
}
STEPS = (100, 200, 300, 400)


def synthetic_tables() -> dict[str, pd.DataFrame]:
    """One table per figure argument name, shaped as results/<tier>/tables/*.parquet."""
    rng = np.random.default_rng(0)
    ids = [(v, m, e, s) for v, (m, _, _) in VARIANTS.items() for e in ENVS for s in SEEDS]
    returns = pd.DataFrame([
        {"variant": v, "method": m, "env": e, "seed": s, "env_step": step,
         "eval_return_mean": 2.0 * list(VARIANTS).index(v) + step / 10 + rng.normal(0, 1)}
        for v, m, e, s in ids for step in STEPS
    ])  # fmt: skip
    published = pd.DataFrame({
        "source": ["near", "far"], "method": ["SAC (tuned)", "SAC"], "env": ENVS[0],
        "env_steps": [300, "20000 (default)"], "value": [120.0, 150.0]})  # fmt: skip
    model_error = pd.DataFrame([
        {"data": data, "model": "probabilistic ensemble" if p else "deterministic single",
         "mode": mode, "t": t, "mse": 1e-3 * (1 + j) * t**2 * np.exp(rng.normal(0, 0.1)),
         "n": 8, "variant": v, "env": e, "seed": s}
        for v, (m, _, p) in VARIANTS.items() if m in ("mbpo", "dyna")
        for e in ENVS for s in SEEDS for data in ("random", "policy")
        for j, mode in enumerate(plots.MODE_COLOURS if p else ["mean"]) for t in range(1, 11)
    ])  # fmt: skip
    timings = pd.DataFrame([
        {"variant": v, "method": m, "env": e, "seed": s, "env_step": 400,
         "name": "time/policy_ms_per_action",  # amortised policies crowd together
         "value": 30.0 + i / 20 if m == "mpc" else 0.05 * (1 + i / 100)}
        for i, (v, m, e, s) in enumerate(ids)
    ])  # fmt: skip
    metrics = []
    for v, m, e, s in ids:
        k = VARIANTS[v][1]
        if m in ("mbpo", "dyna"):
            for step in range(1, k + 1):
                for name in ("nn_distance", "disagreement"):
                    metrics.append((v, m, e, s, 400, f"rollout/{name}_step{step:04d}",
                                    0.1 * step**0.5 + rng.normal(0, 0.01)))  # fmt: skip
            for step in STEPS:
                metrics.append((v, m, e, s, step, "model/return_gap", step / 4 + rng.normal()))
        if m == "bptt":
            for step in STEPS:
                metrics.append((v, m, e, s, step, "bptt/grad_norm", 0.05 * k * rng.uniform(1, 2)))
    metrics = pd.DataFrame(metrics, columns=["variant", "method", "env", "seed", "env_step",
                                             "name", "value"])  # fmt: skip
    runs = pd.DataFrame([
        {"variant": v, "method": m, "env": e, "seed": s,
         "rollout_length": VARIANTS[v][1] if m in ("mbpo", "dyna") else np.nan,
         "horizon": VARIANTS[v][1] if m in ("bptt", "mpc") else np.nan,
         "probabilistic": VARIANTS[v][2], "rollout_schedule": None}
        for v, m, e, s in ids
    ])  # fmt: skip
    randoms = pd.DataFrame({"env": list(ENVS), "episode": 0, "return": [-50.0, -40.0]})
    reference = pd.DataFrame({"env": [ENVS[1]], "reference_return": [500.0],
                              "reference_name": ["maximum possible return (test)"],
                              "citation": ["test"]})  # fmt: skip
    scores = run_scores(returns, randoms, reference)
    gradient = pd.DataFrame([
        {"horizon": h, "mean_log10_grad_norm": np.log10(h), "std_log10_grad_norm": 0.1,
         "median_grad_norm": h * (1 + s), "n": 4, "env": e, "seed": s}
        for e in ENVS for s in SEEDS for h in (1, 2, 5, 10, 20)
    ])  # fmt: skip
    divergence = pd.DataFrame([
        {"t": t, "mean_log_distance": -13 + 0.3 * t, "std_log_distance": 0.2,
         "median_log_distance": -13.2 + 0.3 * t + 0.1 * s, "n": 4, "env": e, "seed": s}
        for e in ENVS for s in SEEDS for t in range(1, 31)
    ])  # fmt: skip
    diagnostics = pd.DataFrame([
        {"horizon": h, "grad_norm": 0.3 * h, "grad_norm_per_discount": 0.3, "snr": 1.0,
         "n_batches": 4, "n_nonfinite_batches": 0, "log_sigma1_mean": 0.02 * h,
         "log_sigma1_median": 0.02 * h + 0.01 * s, "n_starts": 4, "n_nonfinite": 0,
         "n_terminated": 0, "env": e, "seed": s}
        for e in ENVS for s in SEEDS for h in (1, 2, 5, 10, 20)
    ])  # fmt: skip
    return {"returns": returns, "published": published, "model_error": model_error,
            "timings": timings, "metrics": metrics, "runs": runs, "scores": scores,
            "gradient": gradient, "divergence": divergence,
            "diagnostics": diagnostics}  # fmt: skip


@pytest.fixture(scope="module")
def figures():
    """Every figure of analysis.plots, drawn (layout done) from the synthetic tables."""
    tables = synthetic_tables()
    drawn = {}
    for name in plots.FIGURES:
        args = plots.figure_inputs(name) + plots.figure_optional_inputs(name)
        fig = plots.FIGURES[name][0](*(tables[a] for a in args))
        fig.canvas.draw()
        drawn[name] = fig
    yield drawn
    for fig in drawn.values():
        matplotlib.pyplot.close(fig)


def legends(fig):
    return list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]


def densify(xy: np.ndarray, per_segment: int = 16) -> np.ndarray:
    """Points along each segment of a polyline (display coordinates), so that a line
    crossing a box without a vertex in it is still caught."""
    xy = xy[np.isfinite(xy).all(1)]
    if len(xy) < 2:
        return xy
    f = np.linspace(0, 1, per_segment)[None, :, None]
    return (xy[:-1, None] + f * (xy[1:, None] - xy[:-1, None])).reshape(-1, 2)


def plotted_points(ax) -> np.ndarray:
    """Display coordinates of every drawn data vertex of the axes (lines and their segments,
    bands, error bars, scatter offsets), those inside the axes (the rest is clipped)."""
    points = []
    for line in ax.get_lines():
        if line.get_visible():
            xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
            points.append(densify(xy))
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection):  # scatter: the offsets are the data
            points.append(coll.get_offset_transform().transform(coll.get_offsets()))
            continue
        for path in coll.get_paths():
            points.append(densify(coll.get_transform().transform(path.vertices)))
    points = [p for p in points if len(p)]
    if not points:
        return np.empty((0, 2))
    xy = np.concatenate(points)
    box = ax.get_window_extent()
    inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (
        xy[:, 1] <= box.y1)  # fmt: skip
    return xy[inside]


def drawn_texts(fig) -> list[Text]:
    """The texts the renderer draws: titles, labels, legends, annotations and the tick labels
    of ticks inside the view (matplotlib keeps labels for ticks outside it, undrawn)."""
    undrawn = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            tol = 1e-9 * max(abs(low), abs(high), 1.0)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not low - tol <= loc <= high + tol:
                    undrawn.update((id(tick.label1), id(tick.label2)))
    return [t for t in fig.findobj(Text)
            if id(t) not in undrawn and t.get_visible() and t.get_text().strip()]  # fmt: skip


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_no_legend_covers_plotted_data(figures, name):
    fig = figures[name]
    renderer = fig.canvas.get_renderer()
    if name not in ("final_performance", "probability_of_improvement"):  # variants on y
        assert legends(fig), f"{name} has no legend"
    for legend in legends(fig):
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            xy = plotted_points(ax)
            covered = ((xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0)
                       & (xy[:, 1] <= box.y1))  # fmt: skip
            assert not covered.any(), f"{name}: the legend covers data of '{ax.get_title()}'"


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_no_axes_is_empty(figures, name):
    fig = figures[name]
    assert fig.axes, name
    for ax in fig.axes:
        assert ax.get_visible() and ax.has_data(), f"{name}: empty axes '{ax.get_title()}'"


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_every_text_is_at_least_8_points(figures, name):
    small = [(t.get_text(), t.get_fontsize()) for t in drawn_texts(figures[name])
             if t.get_fontsize() < plots.MIN_FONT_PT]  # fmt: skip
    assert not small, f"{name}: text under {plots.MIN_FONT_PT} pt: {small[:5]}"


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_no_two_texts_overlap(figures, name):
    fig = figures[name]
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(fig)]
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        width = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
        height = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
        assert width <= 1 or height <= 1, f"{name}: '{a}' overlaps '{b}'"


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_figures_are_narrow_enough_to_read_when_shown(figures, name):
    fig = figures[name]
    saved = fig.get_tightbbox(fig.canvas.get_renderer())  # inches, as bbox_inches="tight"
    assert saved.width <= 12.0, (name, saved.width)  # wider ones get shown below 8 pt


def artist_colours(fig) -> dict[str, set[str]]:
    """Colours (RGB hex) each variant is drawn in: tagged artists and legend entries."""
    colours: dict[str, set[str]] = {}
    for artist in fig.findobj(lambda a: str(a.get_gid() or "").startswith("variant:")):
        variant = artist.get_gid().split(":", 1)[1]
        if isinstance(artist, Line2D):
            found = {to_hex(artist.get_color())}
        else:
            found = {to_hex(rgba[:3]) for rgba in artist.get_facecolor()}
        colours.setdefault(variant, set()).update(found)
    for legend in legends(fig):
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True):
            variant = text.get_text().split(":")[0]
            if variant in VARIANTS and isinstance(handle, Line2D):
                colours.setdefault(variant, set()).add(to_hex(handle.get_color()))
    return colours


def test_a_variant_has_one_colour_in_every_figure(figures):
    seen: dict[str, dict[str, set[str]]] = {}
    for name, fig in figures.items():
        for variant, colours in artist_colours(fig).items():
            seen.setdefault(variant, {})[name] = colours
    assert set(seen) == set(VARIANTS)  # every variant was found drawn and checked
    for variant, per_figure in seen.items():
        expected = {plots.variant_colour(variant)}
        wrong = {name: c for name, c in per_figure.items() if {x.lower() for x in c} != {
            e.lower() for e in expected}}  # fmt: skip
        assert not wrong, f"{variant} should be {expected} everywhere, is {wrong}"
        assert len(per_figure) >= 3, (variant, sorted(per_figure))


def lab(colour: str) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour."""
    rgb = np.array(to_rgb(colour))
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                  [0.0193, 0.1192, 0.9505]])  # fmt: skip
    xyz = m @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_palette_tells_every_pair_of_variants_apart():
    """Delta E (CIE76) >= 20 between any two configured variants, and the pairs the smoke
    tier's figures confused (mbpo-k5 / -det, mpc-cem / -oracle) also differ in line style."""
    for a, b in itertools.combinations(plots.VARIANT_COLOURS, 2):
        distance = np.linalg.norm(lab(plots.variant_colour(a)) - lab(plots.variant_colour(b)))
        assert distance >= 20, (a, b, round(float(distance), 1))
    for a, b in [("mbpo-k5", "mbpo-k5-det"), ("mpc-cem", "mpc-oracle")]:
        assert plots.variant_linestyle(a) != plots.variant_linestyle(b)


def test_every_configured_variant_has_its_own_colour():
    """Each variant of config/*.yaml has a fixed colour (a hashed family shade can land next to
    its family's base: the mid tier's sac-matched was drawn in sac's near-black)."""
    names = set()
    for path in sorted((ROOT / "config").glob("*.yaml")):
        names |= set((yaml.safe_load(path.read_text()) or {}).get("variants") or {})
    assert sorted(names - set(plots.VARIANT_COLOURS)) == []


def test_colours_depend_on_the_variant_name_only():
    few = plots.variant_palette(["sac", "mbpo-k5"])
    many = plots.variant_palette(list(plots.VARIANT_COLOURS) + ["mbpo-k7", "bptt-h3"])
    assert few["mbpo-k5"] == many["mbpo-k5"] and few["sac"] == many["sac"]
    unknown = plots.variant_colour("mbpo-k7")
    assert unknown == plots.variant_colour("mbpo-k7")  # stable
    r, g, b = to_rgb(unknown)
    assert b > r and b > g  # an MBPO variant is a blue
    r, g, b = to_rgb(plots.variant_colour("dyna-h999"))
    assert g > r and g > b  # a Dyna variant is a green


@pytest.mark.parametrize("name", list(plots.FIGURES))
def test_a_tier_of_sac_alone_gets_figures_that_say_what_is_missing(name):
    """No MBPO, Dyna, MPC or BPTT runs and no scores: each figure still draws, with no
    empty axes; one with nothing to show says so in words."""
    tables = {key: table[table.variant == "sac"] if "variant" in table else table
              for key, table in synthetic_tables().items()}  # fmt: skip
    tables["scores"] = tables["scores"].assign(score=np.nan)
    args = plots.figure_inputs(name) + plots.figure_optional_inputs(name)
    fig = plots.FIGURES[name][0](*(tables[a] for a in args))
    assert all(ax.has_data() for ax in fig.axes), name
    if not fig.axes:
        assert any(t.get_text().strip() for t in fig.texts), name
    matplotlib.pyplot.close(fig)
