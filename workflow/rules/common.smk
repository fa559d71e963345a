# Shared helpers: the config's checks, which runs exist, and where their files live.
import hashlib
import json
import os
import sys
from pathlib import Path


def refuse(message):
    """A bad config stops Snakemake before any job starts, with one line naming the problem."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


SCHEMA = str(Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
# The main process checks the config; a job's own Snakemake (SLURM's job and job step)
# reads the same config and skips the checks and their torch import (~2 s per job).
check_tier = schema_problem = None
if getattr(workflow, "is_main_process", True):
    try:
        from methods.common.config import check_tier, schema_problem
        from methods.common.errors import UserError
    except ImportError:  # the suite is not installed here (e.g. conda-only deployment)
        pass
config_problem = schema_problem(config, SCHEMA) if schema_problem is not None else None
if config_problem:
    refuse(config_problem)
validate(config, SCHEMA)  # fills the schema's defaults
# resolve every run as its train job will: typos, types and values, per method
if check_tier is not None:
    try:
        check_tier(config)
    except UserError as exc:
        refuse(exc)


CONFIG_FILE = (
    workflow.overwrite_configfiles[-1]
    if workflow.overwrite_configfiles
    else "config/config.yaml"
)
# `--config run_variants='[a,b]'` runs a subset of the config's variants
if config.get("run_variants"):
    unknown = [v for v in config["run_variants"] if v not in config["variants"]]
    if unknown:
        refuse(
            f"run_variants names unknown variant(s) {', '.join(unknown)}; this config's "
            f"variants: {', '.join(config['variants'])}"
        )
    config["variants"] = {v: config["variants"][v] for v in config["run_variants"]}

# Each tier owns its outputs: results/<tier>/ (the default tier: results/ and figures/), so
# that no command of one tier rewrites another's runs, tables or figures.
sys.path.insert(0, workflow.basedir)  # methods/common/tiers.py is pure Python
from methods.common.tiers import tier_paths, tier_seeds

SEEDS = tier_seeds(config)

try:
    PATHS = tier_paths(config, CONFIG_FILE)
except Exception as exc:  # UserError
    refuse(exc)
TIER, OUT, FIG, LOGS = PATHS.name, PATHS.results, PATHS.figures, PATHS.logs
BENCH = PATHS.benchmarks  # per-job seconds and peak memory (the tier's cost table)
OWNER_FILE = Path(OUT) / "tier.txt"  # which config file's tier these outputs are
CONFIG_NAME = os.path.relpath(os.path.abspath(CONFIG_FILE))
if OWNER_FILE.exists():
    owner = OWNER_FILE.read_text().strip()
    if owner != CONFIG_NAME:
        refuse(
            f"{OUT}/ holds the outputs of tier '{TIER}' from {owner}, not {CONFIG_FILE}: "
            f"give {CONFIG_FILE} its own `tier:` name (its outputs then go to "
            f"results/<tier>/)"
        )


onstart:
    OWNER_FILE.parent.mkdir(parents=True, exist_ok=True)
    OWNER_FILE.write_text(f"{CONFIG_NAME}\n")


def repo_file(path):
    """A file of the repository (code a rule runs, reference data), whatever the workdir."""
    return str(Path(workflow.basedir) / path)


RUN_DIR = f"{OUT}/runs/{{variant}}/{{env}}/s{{seed}}"


def known_wildcards(wildcards):
    """Refuse a requested path whose variant, env or seed is not this tier's, naming the value
    and the tier's values (a typo in a target would otherwise be a KeyError deep in an input
    function, or a job for a run outside the tier). The functions here that get wildcards
    call it first; it returns no files, so a rule without an input function can use it as
    one (`input: known_wildcards`)."""
    variant = getattr(wildcards, "variant", None)
    env = getattr(wildcards, "env", None)
    seed = getattr(wildcards, "seed", None)
    for kind, value, known in (
        ("variant", variant, list(config["variants"])),
        ("env", env, list(config["envs"])),
        ("seed", seed, [str(s) for s in SEEDS]),
    ):
        if value is not None and value not in known:
            refuse(
                f"unknown {kind} '{value}' in a requested path; this tier's {kind}s: "
                f"{', '.join(known)}"
            )
    if variant is not None and env is not None and env not in variant_envs(variant):
        refuse(
            f"variant '{variant}' does not run on env '{env}' in this tier; its envs: "
            f"{', '.join(variant_envs(variant))}"
        )
    return []


def known_env(env):
    """``env`` if it is one of this tier's envs, else refuse (see known_wildcards)."""
    if env not in config["envs"]:
        refuse(
            f"unknown env '{env}' in a requested path; this tier's envs: "
            f"{', '.join(config['envs'])}"
        )
    return env


def variant_envs(variant):
    """Envs a variant runs on: its own `envs` list (if any) intersected with the tier's."""
    only = config["variants"][variant].get("envs")
    return [e for e in config["envs"] if only is None or e in only]


def all_runs():
    """(variant, env, seed) of every run of this tier."""
    return [
        (v, e, s) for v in config["variants"] for e in variant_envs(v) for s in SEEDS
    ]


def run_files(name):
    return [
        str(Path(RUN_DIR.format(variant=v, env=e, seed=s)) / name)
        for v, e, s in all_runs()
    ]


def settings_fingerprint(wildcards):
    """Changes when anything that shapes this run's resolved config changes."""
    known_wildcards(wildcards)
    relevant = {
        "defaults": config.get("defaults", {}),
        "env": config.get("env_settings", {}).get(wildcards.env, {}),
        "variant": config["variants"][wildcards.variant],
    }
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[
        :16
    ]


MODEL_METHODS = ("mbpo", "dyna", "mpc", "bptt")


def model_runs():
    """Runs that leave a learned model (model.pt): model-based variants, not the oracle."""
    return [
        (v, e, s)
        for v, e, s in all_runs()
        if config["variants"][v]["method"] in MODEL_METHODS
        and not config["variants"][v].get("oracle", False)
    ]


def model_error_files():
    return [f"{OUT}/model_error/{v}/{e}/s{s}.csv" for v, e, s in model_runs()]


RETURN_GAP_METHODS = ("mbpo", "dyna", "bptt")  # runs with a model and a policy


def return_gap_files():
    """Per-run return-gap tables of the variants `return_gap.variants` names (those present)."""
    wanted = config["return_gap"]["variants"]
    return [
        f"{OUT}/return_gap/{v}/{e}/s{s}.csv"
        for v, e, s in all_runs()
        if v in wanted and config["variants"][v]["method"] in RETURN_GAP_METHODS
    ]


POLICY_METHODS = ("sac", "mbpo", "dyna")  # runs whose actor methods/heldout.py can load


def policy_run_dir(env):
    """The run whose actor collects env's trained-policy held-out set (first seed)."""
    variant = config["heldout"].get("policy_variant")
    if variant is None:
        refuse(
            f"{OUT}/heldout/{env}/policy.npz needs heldout.policy_variant, which this "
            "tier does not set"
        )
    return RUN_DIR.format(variant=variant, env=known_env(env), seed=SEEDS[0])


def heldout_files(env):
    """Held-out sets for env's model-error curves: random, and the trained policy's where
    heldout.policy_variant runs on env."""
    files = [f"{OUT}/heldout/{known_env(env)}/random.npz"]
    variant = config["heldout"].get("policy_variant")
    if (
        variant in config["variants"]
        and env in variant_envs(variant)
        and config["variants"][variant]["method"] in POLICY_METHODS
    ):
        files.append(f"{OUT}/heldout/{env}/policy.npz")
    return files


CHAOS_METHODS = ("sac", "mbpo", "dyna", "bptt")  # runs that leave a policy and a model


def chaos_run(env, seed):
    """The run whose model and policy the chaos diagnostic of (env, seed) uses, or None."""
    known_env(env)
    variant = config["chaos"].get("variant")
    if variant is None or variant not in config["variants"]:
        return None
    if config["variants"][variant]["method"] not in CHAOS_METHODS[1:]:
        return None
    if env not in variant_envs(variant):
        return None
    return RUN_DIR.format(variant=variant, env=env, seed=seed)


def chaos_inputs(wildcards):
    known_wildcards(wildcards)
    run = chaos_run(wildcards.env, wildcards.seed)
    return [] if run is None else [f"{run}/meta.json"]


def chaos_run_option(wildcards):
    run = chaos_run(wildcards.env, wildcards.seed)
    return "" if run is None else f"--run {run}"


def chaos_files(name):
    """One chaos CSV per (env, seed) of the tier."""
    return [f"{OUT}/chaos/{e}/s{s}/{name}.csv" for e in config["envs"] for s in SEEDS]


FIGURE_TABLES = {  # the figure function's table arguments, in order (analysis/plots.py)
    "learning_curves": ["returns", "reference/published_returns.csv"],
    "model_error_vs_horizon": ["model_error"],
    "decision_time_cost": ["timings", "returns"],
    "distribution_mismatch": ["metrics"],
    "k_sweep": ["returns", "runs"],
    "final_performance": ["scores"],
    "probability_of_improvement": ["scores"],
    "dyna_exploitation": ["metrics"],
    "bptt_gradient_vs_horizon": [
        "metrics",
        "runs",
        "chaos_gradient",
        "chaos_divergence",
        "chaos_gradient_diagnostics",
    ],
}


def table_path(table):
    """A table name -> this tier's parquet; a path (reference data) is the repository's."""
    return (
        repo_file(table) if table.endswith(".csv") else f"{OUT}/tables/{table}.parquet"
    )


FIGURES = list(FIGURE_TABLES)  # every figure of `rule all` and the report
