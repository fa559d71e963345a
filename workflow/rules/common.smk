# Shared helpers: the config's checks, which runs exist, and where their files live.
import hashlib
import json
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
SEEDS = (
    list(range(config["seeds"]))
    if isinstance(config["seeds"], int)
    else config["seeds"]
)
RUN_DIR = "results/runs/{variant}/{env}/s{seed}"
FIGURES = [  # every figure of `rule all` and the report
    "learning_curves",
    "model_error_vs_horizon",
    "decision_time_cost",
    "distribution_mismatch",
    "k_sweep",
    "final_performance",
    "probability_of_improvement",
    "dyna_exploitation",
    "bptt_gradient_vs_horizon",
]


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
    return [f"results/model_error/{v}/{e}/s{s}.csv" for v, e, s in model_runs()]


POLICY_METHODS = ("sac", "mbpo", "dyna")  # runs whose actor methods/heldout.py can load


def policy_run_dir(env):
    """The run whose actor collects env's trained-policy held-out set (first seed)."""
    variant = config["heldout"].get("policy_variant")
    if variant is None:
        refuse(
            f"results/heldout/{env}/policy.npz needs heldout.policy_variant, which this "
            "tier does not set"
        )
    return RUN_DIR.format(variant=variant, env=known_env(env), seed=SEEDS[0])


def heldout_files(env):
    """Held-out sets for env's model-error curves: random, and the trained policy's where
    heldout.policy_variant runs on env."""
    files = [f"results/heldout/{known_env(env)}/random.npz"]
    variant = config["heldout"].get("policy_variant")
    if (
        variant in config["variants"]
        and env in variant_envs(variant)
        and config["variants"][variant]["method"] in POLICY_METHODS
    ):
        files.append(f"results/heldout/{env}/policy.npz")
    return files


CHAOS_METHODS = ("sac", "mbpo", "dyna", "bptt")  # runs that leave a policy and a model


def chaos_run(env):
    """The run whose model and policy the chaos diagnostic uses on ``env``, or None."""
    known_env(env)
    variant = config["chaos"].get("variant")
    if variant is None or variant not in config["variants"]:
        return None
    if config["variants"][variant]["method"] not in CHAOS_METHODS[1:]:
        return None
    if env not in variant_envs(variant):
        return None
    return RUN_DIR.format(variant=variant, env=env, seed=SEEDS[0])


def chaos_inputs(wildcards):
    run = chaos_run(wildcards.env)
    return [] if run is None else [f"{run}/meta.json"]


def chaos_run_option(env):
    run = chaos_run(env)
    return "" if run is None else f"--run {run}"
