"""Table-driven bad inputs: each gives one line starting with ``error:`` that names the
problem, a non-zero exit and no traceback, and leaves a finished run untouched.

Entry points covered: ``methods train|verify|chaos|heldout``, ``analysis.aggregate``,
``analysis.model_error``, ``analysis.scores``, ``analysis.plots`` (in-process, stderr
captured), the Snakefile's config checks and target paths whose variant, env or seed is not
the tier's (a real ``snakemake -n``). The finished runs are made once per module.
"""

from __future__ import annotations

import hashlib
import json
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from analysis import aggregate, model_error, plots, scores
from methods.__main__ import main as methods_main

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
CONFIG = str(ROOT / "config/config.yaml")
TINY = ["env_steps=120", "random_steps=60", "eval_every=120", "eval_episodes=1", "hidden=8"]
TINY_MODEL = ["model_hidden=8", "model_layers=2", "ensemble_size=2", "num_elites=1",
              "model_max_epochs=2", "model_train_freq=60", "rollout_batch_size=20",
              "rollout_transitions=0", "rollout_freq=30", "updates_per_step=1",
              "batch_size=16"]  # fmt: skip


# Malformed config files, one shape error at each level of the layout (methods/common/config.py)
SHAPES = {
    "top-level-not-mapping": "- sac\n- mbpo-k5\n",
    "variants-int": "variants: 3\n",
    "variants-list": "variants: [sac]\n",
    "variant-int": "variants: {sac: 5}\n",
    "variant-null": "variants: {sac: }\n",
    "variant-method-list": "variants: {sac: {method: [sac]}}\n",
    "env-settings-list": "env_settings: [gym-Pendulum-v1]\nvariants: {sac: {method: sac}}\n",
    "env-settings-entry-int": "env_settings: {gym-Pendulum-v1: 5}\n"
                              "variants: {sac: {method: sac}}\n",
    "variant-env-settings-list": "variants: {sac: {method: sac, env_settings: [x]}}\n",
    "variant-env-settings-entry-int": "variants: {sac: {method: sac, env_settings: "
                                      "{gym-Pendulum-v1: 3}}}\n",
    "variant-envs-string": "variants: {sac: {method: sac, envs: gym-Pendulum-v1}}\n",
    "seeds-string": "seeds: three\nvariants: {sac: {method: sac}}\n",
    "envs-string": "envs: gym-Pendulum-v1\nvariants: {sac: {method: sac}}\n",
    "defaults-list": "defaults: [env_steps]\nvariants: {sac: {method: sac}}\n",
    "heldout-int": "heldout: 5\nvariants: {sac: {method: sac}}\n",
    "chaos-list": "chaos: [1]\nvariants: {sac: {method: sac}}\n",
}  # fmt: skip
SHAPE_MESSAGES = {
    "top-level-not-mapping": "must hold a mapping at the top level",
    "variants-int": "invalid config at 'variants': 3 is not of type 'object'",
    "variants-list": "invalid config at 'variants': ['sac'] is not of type 'object'",
    "variant-int": "invalid config at 'variants/sac': 5 is not of type 'object'",
    "variant-null": "invalid config at 'variants/sac': None is not of type 'object'",
    "variant-method-list": "invalid config at 'variants/sac/method'",
    "env-settings-list": "invalid config at 'env_settings'",
    "env-settings-entry-int": "invalid config at 'env_settings/gym-Pendulum-v1'",
    "variant-env-settings-list": "invalid config at 'variants/sac/env_settings'",
    "variant-env-settings-entry-int": "invalid config at "
                                      "'variants/sac/env_settings/gym-Pendulum-v1'",
    "variant-envs-string": "invalid config at 'variants/sac/envs'",
    "seeds-string": "invalid config at 'seeds'",
    "envs-string": "invalid config at 'envs'",
    "defaults-list": "invalid config at 'defaults'",
    "heldout-int": "invalid config at 'heldout'",
    "chaos-list": "invalid config at 'chaos'",
}  # fmt: skip


def train_args(out: Path, variant="sac", env="gym-Pendulum-v1", seed="0", config=CONFIG,
               sets=(), extra=()) -> list[str]:  # fmt: skip
    args = ["train", "--variant", variant, "--env", env, "--seed", seed, "--config", config,
            "--out", str(out), "--threads", "1", "--device", "cpu", *extra]  # fmt: skip
    for item in sets:
        args += ["--set", item]
    return args


def digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """A finished SAC run, a finished MBPO run (with model.pt), held-out data, configs."""
    root = tmp_path_factory.mktemp("bad_inputs")
    runs = root / "results" / "runs"
    sac = runs / "sac" / "gym-Pendulum-v1" / "s0"
    mbpo = runs / "mbpo-k1" / "gym-Pendulum-v1" / "s0"
    assert methods_main(train_args(sac, sets=TINY)) == 0
    assert methods_main(train_args(mbpo, "mbpo-k1", sets=TINY + TINY_MODEL)) == 0
    heldout = root / "heldout.npz"
    assert methods_main(["heldout", "--env", "gym-Pendulum-v1", "--seed", "9", "--out",
                         str(heldout), "--episodes", "2", "--max-steps", "20"]) == 0  # fmt: skip
    configs = root / "configs"
    configs.mkdir()
    (configs / "invalid.yaml").write_text("variants: [unclosed\n")
    (configs / "no_method.yaml").write_text("variants:\n  sac: {rollout_length: 3}\n")
    (configs / "bad_method.yaml").write_text("variants:\n  sac: {method: ppo}\n")
    (configs / "bad_env.yaml").write_text("envs: [gym-Hoper-v5]\nvariants: {sac: {method: sac}}\n")
    (configs / "typo.yaml").write_text("variants:\n  k5: {method: mbpo, rollout_lenght: 5}\n")
    (configs / "bad_default.yaml").write_text(
        "defaults: {eval_episodes: five}\nvariants:\n  sac: {method: sac}\n"
    )
    for name, text in SHAPES.items():
        (configs / f"{name}.yaml").write_text(text)
    (configs / "corrupt.parquet").write_bytes(b"PAR1 this is not a parquet file")
    (root / "empty").mkdir()
    (configs / "nan_reference.csv").write_text(
        "env,random_return,reference_return,reference_name,citation\n"
        "gym-Pendulum-v1,-1200,NaN,someone,a paper\n"
    )
    assert aggregate.main(["--out-dir", str(root), str(sac)]) == 0
    (root / "random.csv").write_text("env,episode,return\ngym-Pendulum-v1,0,-1250\n")
    return {"root": root, "sac": sac, "mbpo": mbpo, "heldout": heldout, "configs": configs}


def broken_copy(world, run: str, name: str, damage: Callable[[Path], None]) -> Path:
    """A copy of a finished run under another root with one file damaged."""
    src = world[run]
    dst = world["root"] / "damaged" / name / src.relative_to(world["root"] / "results")
    shutil.copytree(src, dst)
    damage(dst)
    return dst


def truncate(path_name: str, keep: int = 40):
    return lambda d: (d / path_name).write_bytes((d / path_name).read_bytes()[:keep])


def write(path_name: str, text: str):
    return lambda d: (d / path_name).write_text(text)


def config_as_directory(d: Path) -> None:
    (d / "config.yaml").unlink()
    (d / "config.yaml").mkdir()


def metrics_as_directory(d: Path) -> None:
    (d / "metrics.csv").unlink()
    (d / "metrics.csv").mkdir()


def without_params(d: Path) -> None:
    """A config.yaml with the run's identity but no resolved params."""
    config = yaml.safe_load((d / "config.yaml").read_text())
    del config["params"]
    (d / "config.yaml").write_text(yaml.safe_dump(config))


def old_schema(d: Path) -> None:
    """A run directory as an older layout wrote it: other columns, no resolved params."""
    (d / "returns.csv").write_text("step,return\n120,-1200.5\n")
    (d / "config.yaml").write_text("variant: sac\nenv: gym-Pendulum-v1\nseed: 0\n")


# (id, entry point, argument builder, expected text in the one error line)
# entry points: "train" (methods CLI), "methods" (any methods command), "aggregate",
# "model_error", "snakemake" (a tier config for a dry run)
CASES = [
    ("unknown-variant", "methods", lambda w: train_args(w["root"] / "o", "sacc"),
     "unknown variant 'sacc'"),
    ("unknown-env", "methods", lambda w: train_args(w["root"] / "o", env="gym-Hoper-v5"),
     "unknown env 'gym-Hoper-v5'"),
    ("unknown-method", "methods", lambda w: train_args(
        w["root"] / "o", config=str(w["configs"] / "bad_method.yaml")),
     "error: variant 'sac': unknown method 'ppo'; known methods: sac, mbpo, dyna, mpc, bptt"),
    ("unknown-env-in-config", "methods", lambda w: train_args(
        w["root"] / "o", config=str(w["configs"] / "bad_env.yaml")),
     "error: unknown env 'gym-Hoper-v5'; known envs: gym-Pendulum-v1, "),
    ("zero-budget", "methods", lambda w: train_args(w["root"] / "o", sets=["env_steps=0"]),
     "'env_steps' must be positive"),
    ("negative-budget", "methods", lambda w: train_args(w["root"] / "o",
                                                        sets=["env_steps=-5"]),
     "'env_steps' must be positive"),
    ("zero-eval-episodes", "methods", lambda w: train_args(w["root"] / "o",
                                                           sets=["eval_episodes=0"]),
     "'eval_episodes' must be positive"),
    ("k-beyond-episode", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["rollout_length=500"]),
     "rollout length k must be in [1, episode length 200]"),
    ("bad-schedule", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["rollout_schedule=[1, 2, 3]"]),
     "'rollout_schedule' must be [min_epoch, max_epoch, min_k, max_k]"),
    ("elites-above-members", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["num_elites=9"]), "need 1 <= num_elites"),
    ("real-ratio-range", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["real_ratio=1.5"]), "'real_ratio' must be in [0, 1]"),
    ("unknown-rollout-mode", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["rollout_mode=magic"]), "'rollout_mode' must be"),
    ("random-steps-cover-budget", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["env_steps=5000", "random_steps=5000"]),
     "'random_steps' (5000) must be below 'env_steps' (5000)"),
    ("infinite-stop-at-return", "methods", lambda w: train_args(
        w["root"] / "o", sets=["stop_at_return=.inf"]), "'stop_at_return' must be a finite"),
    ("unknown-planner-propagation", "methods", lambda w: train_args(
        w["root"] / "o", "mpc-cem", sets=["propagation=random-member"]),
     "'propagation' must be one of"),
    ("unknown-planning-precision", "methods", lambda w: train_args(
        w["root"] / "o", "mpc-cem", sets=["planning_precision=fp16"]),
     "'planning_precision' must be one of"),
    ("unknown-model-precision", "methods", lambda w: train_args(
        w["root"] / "o", "mbpo-k5", sets=["model_precision=fp16"]),
     "'model_precision' must be fp32 or bf16"),
    ("unknown-sac-precision", "methods", lambda w: train_args(
        w["root"] / "o", "sac", sets=["sac_precision=int8"]),
     "'sac_precision' must be fp32 or bf16"),
    ("missing-config-file", "methods", lambda w: train_args(
        w["root"] / "o", config="/nonexistent/tier.yaml"), "does not exist"),
    ("invalid-yaml", "methods", lambda w: train_args(
        w["root"] / "o", config=str(w["configs"] / "invalid.yaml")), "not valid YAML"),
    ("variant-without-method", "methods", lambda w: train_args(
        w["root"] / "o", config=str(w["configs"] / "no_method.yaml")),
     "invalid config at 'variants/sac': 'method' is a required property"),
    ("typo-in-config-file", "methods", lambda w: train_args(
        w["root"] / "o", "k5", config=str(w["configs"] / "typo.yaml")),
     "unknown key 'rollout_lenght'"),
    ("wrong-type-in-defaults", "methods", lambda w: train_args(
        w["root"] / "o", config=str(w["configs"] / "bad_default.yaml")),
     "'eval_episodes' must be an integer"),
    ("typo-in-set", "methods", lambda w: train_args(w["root"] / "o", sets=["env_stepz=9"]),
     "unknown key 'env_stepz'"),
    ("wrong-type-float", "methods", lambda w: train_args(w["root"] / "o", sets=["gamma=fast"]),
     "'gamma' must be a number"),
    ("wrong-type-int", "methods", lambda w: train_args(w["root"] / "o",
                                                       sets=["env_steps=1.5k"]),
     "'env_steps' must be an integer"),
    ("set-without-value", "methods", lambda w: train_args(w["root"] / "o", sets=["gamma"]),
     "expects KEY=VALUE"),
    ("negative-seed", "methods", lambda w: train_args(w["root"] / "o", seed="-1"),
     "--seed must be >= 0"),
    ("zero-threads", "methods", lambda w: train_args(w["root"] / "o",
                                                     extra=["--threads", "0"]),
     "--threads must be positive"),
    ("unknown-device", "methods", lambda w: train_args(w["root"] / "o",
                                                       extra=["--device", "tpu"]),
     "unknown device"),
    ("finished-run-not-overwritten", "methods", lambda w: train_args(w["sac"], sets=TINY),
     "already holds a finished run"),
    ("output-under-a-file", "methods", lambda w: train_args(
        w["sac"] / "meta.json" / "run", sets=TINY), "cannot create output directory"),
    ("verify-missing-root", "methods", lambda w: ["verify", str(w["root"] / "nope")],
     "is not a directory"),
    ("chaos-run-not-finished", "methods", lambda w: [
        "chaos", "--env", "gym-Pendulum-v1", "--seed", "0", "--out", str(w["root"] / "c"),
        "--run", str(w["root"])], "is not a finished run directory"),
    ("chaos-bad-horizons", "methods", lambda w: [
        "chaos", "--env", "gym-Pendulum-v1", "--seed", "0", "--out", str(w["root"] / "c"),
        "--horizons", "1,x"], "--horizons must be comma-separated integers"),
    ("heldout-zero-episodes", "methods", lambda w: [
        "heldout", "--env", "gym-Pendulum-v1", "--seed", "0", "--out",
        str(w["root"] / "h.npz"), "--episodes", "0"], "--episodes and --max-steps must be"),
    ("corrupted-returns", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "garbage", write("returns.csv", "\x00\x01,,\n\"unclosed")))],
     "returns.csv"),
    ("missing-metrics", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "nometrics", lambda d: (d / "metrics.csv").unlink()))],
     "metrics.csv is missing"),
    ("corrupted-meta", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "meta", write("meta.json", "{\"git_commit\": ")))],
     "meta.json is corrupted"),
    ("older-schema-run", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "old", old_schema))], "config.yaml lacks"),
    ("truncated-model", "model_error", lambda w: [
        "--run", str(broken_copy(w, "mbpo", "model", truncate("model.pt"))),
        "--heldout", str(w["heldout"]), "--out", str(w["root"] / "err.csv")],
     "cannot load model.pt"),
    ("missing-heldout", "model_error", lambda w: [
        "--run", str(w["mbpo"]), "--heldout", str(w["root"] / "none.npz"),
        "--out", str(w["root"] / "err.csv")], "none.npz"),
    ("nan-in-reference-table", "scores", lambda w: [
        "table", "--returns", str(w["root"] / "returns.parquet"), "--random",
        str(w["root"] / "random.csv"), "--reference", str(w["configs"] / "nan_reference.csv"),
        "--out", str(w["root"] / "scores.parquet")], "'reference_return' is nan"),
    ("snakemake-empty-seeds", "snakemake", "seeds: []", "invalid config at 'seeds'"),
    ("snakemake-typo-top-level", "snakemake", "sedes: 3", "'sedes' was unexpected"),
    ("snakemake-unknown-env", "snakemake", "envs: [gym-Hoper-v5]",
     "error: unknown env 'gym-Hoper-v5'; known envs: gym-Pendulum-v1, "),
    ("snakemake-typo-in-variant", "snakemake",
     "variants: {k5: {method: mbpo, rollout_lenght: 5}}", "unknown key 'rollout_lenght'"),
    ("snakemake-wrong-type", "snakemake",
     "variants: {sac: {method: sac, env_steps: lots}}", "'env_steps' must be an integer"),
    ("snakemake-k-too-long", "snakemake",
     "variants: {k9: {method: mbpo, rollout_length: 900}}", "rollout length k must be in"),
    ("verify-empty-directory", "methods", lambda w: ["verify", str(w["root"] / "empty")],
     "no run directories"),
    ("plots-no-arguments", "plots", lambda w: [], "the following arguments are required"),
    ("plots-unknown-figure", "plots", lambda w: ["learning_curve"],
     "unknown figure 'learning_curve'; known: "),
    ("plots-no-inputs", "plots", lambda w: ["learning_curves"],
     "figure 'learning_curves' needs 2 input tables"),
    ("plots-no-outputs", "plots", lambda w: [
        "learning_curves", str(w["root"] / "returns.parquet"),
        str(ROOT / "reference/published_returns.csv")], "no output file"),
    ("plots-bad-output-suffix", "plots", lambda w: [
        "model_error_vs_horizon", str(w["root"] / "returns.parquet"),
        str(w["root"] / "fig.jpgx")], "must end in .pdf or .png"),
    ("plots-missing-parquet", "plots", lambda w: [
        "model_error_vs_horizon", str(w["root"] / "nope.parquet"), str(w["root"] / "f.pdf")],
     "cannot read table"),
    ("plots-corrupt-parquet", "plots", lambda w: [
        "model_error_vs_horizon", str(w["configs"] / "corrupt.parquet"),
        str(w["root"] / "f.pdf")], "cannot read table"),
    ("aggregate-missing-path", "aggregate", lambda w: [str(w["root"] / "no-such-run")],
     "does not exist"),
    ("aggregate-config-is-a-directory", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "configdir", config_as_directory))], "cannot read config.yaml"),
    ("aggregate-metrics-is-a-directory", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "metricsdir", metrics_as_directory))], "cannot read metrics.csv"),
    ("aggregate-config-without-params", "aggregate", lambda w: [str(broken_copy(
        w, "sac", "noparams", without_params))], "config.yaml has no resolved params"),
    # a target path with a variant, env or seed that is not the tier's (TARGET_TIER below,
    # written as tier.yaml: its outputs live in results/tier/)
    ("target-unknown-variant", "target",
     "results/tier/runs/mbpo-k55/gym-Pendulum-v1/s0/returns.csv",
     "unknown variant 'mbpo-k55' in a requested path; this tier's variants: sac, only-cartpole"),
    ("target-unknown-env", "target", "results/tier/runs/sac/gym-Pendulm-v1/s0/returns.csv",
     "unknown env 'gym-Pendulm-v1' in a requested path; this tier's envs: gym-Pendulum-v1, "
     "dmc-cartpole-swingup"),
    ("target-unknown-seed", "target", "results/tier/runs/sac/gym-Pendulum-v1/s7/meta.json",
     "unknown seed '7' in a requested path; this tier's seeds: 0"),
    ("target-model-error-unknown-variant", "target",
     "results/tier/model_error/sacc/gym-Pendulum-v1/s0.csv", "unknown variant 'sacc'"),
    ("target-chaos-unknown-env", "target", "results/tier/chaos/gym-Hoper-v5/s0/summary.csv",
     "unknown env 'gym-Hoper-v5'"),
    ("target-heldout-policy-without-variant", "target",
     "results/tier/heldout/gym-Pendulum-v1/policy.npz", "heldout.policy_variant"),
    ("target-variant-outside-its-envs", "target",
     "results/tier/runs/only-cartpole/gym-Pendulum-v1/s0/returns.csv",
     "variant 'only-cartpole' does not run on env 'gym-Pendulum-v1' in this tier; its envs: "
     "dmc-cartpole-swingup"),
] + [(f"config-{name}", "methods", (lambda n: lambda w: train_args(
    w["root"] / "o", config=str(w["configs"] / f"{n}.yaml"), sets=TINY))(name),
      SHAPE_MESSAGES[name]) for name in SHAPES]  # fmt: skip

TIER = {"envs": "envs: [gym-Pendulum-v1]", "seeds": "seeds: 1",
        "variants": "variants: {sac: {method: sac}}"}  # fmt: skip
TARGET_TIER = {**TIER, "envs": "envs: [gym-Pendulum-v1, dmc-cartpole-swingup]",
               "variants": "variants: {sac: {method: sac, envs: [gym-Pendulum-v1]}, "
                           "only-cartpole: {method: sac, envs: [dmc-cartpole-swingup]}}",
               }  # fmt: skip


def snakemake_dry_run(tier: dict[str, str], target: str, tmp_path: Path) -> tuple[int, str]:
    config = tmp_path / "tier.yaml"
    config.write_text("\n".join(tier.values()) + "\n")
    proc = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", f"--configfile={config}",
                           "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path / "wd"),
                           target], capture_output=True, text=True, timeout=300)  # fmt: skip
    lines = [ln for ln in proc.stderr.splitlines() if not ln.startswith("Using workflow")]
    return proc.returncode, "\n".join(lines)


def run_entry(kind: str, args, world, tmp_path, capsys) -> tuple[int, str]:
    if kind == "snakemake":
        tier = dict(TIER)
        key = args.split(":")[0]
        tier[key] = args
        return snakemake_dry_run(tier, "all", tmp_path)
    if kind == "target":
        return snakemake_dry_run(TARGET_TIER, args, tmp_path)
    built = args(world)
    entry = {"methods": methods_main, "aggregate": aggregate.main,
             "model_error": model_error.main, "scores": scores.main,
             "plots": plots.main}[kind]  # fmt: skip
    if kind == "aggregate":
        built = ["--out-dir", str(tmp_path / "tables"), *built]
    status = entry(built)
    return status, capsys.readouterr().err.strip()


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("kind", "args", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_input_gives_one_clear_line(world, tmp_path, capsys, kind, args, message):
    before = digest(world["root"] / "results")
    status, err = run_entry(kind, args, world, tmp_path, capsys)
    assert status != 0
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and message in err, err
    assert digest(world["root"] / "results") == before, "a finished run was changed"


@pytest.mark.parametrize(("variants", "expected"), [
    ("variants: {sac: 5}", "error: invalid config at 'variants/sac': 5 is not of type 'object'"),
    ("variants: {sac: {method: ppo}}",
     "error: variant 'sac': unknown method 'ppo'; known methods: sac, mbpo, dyna, mpc, bptt"),
], ids=["malformed", "unknown-method"])  # fmt: skip
def test_cli_and_dag_give_one_message_for_a_bad_config(world, tmp_path, capsys, variants,
                                                       expected):  # fmt: skip
    """One schema and one registry, one message: the train CLI checks a config file's shape
    and its method names as the DAG does."""
    tier = {**TIER, "variants": variants}
    dag_status, dag_err = snakemake_dry_run(tier, "all", tmp_path)
    cli_status = methods_main(train_args(tmp_path / "o", config=str(tmp_path / "tier.yaml"),
                                         sets=TINY))  # fmt: skip
    cli_err = capsys.readouterr().err.strip()
    assert dag_status == cli_status == 2
    assert cli_err == dag_err == expected


def test_verify_of_a_results_dir_without_runs(world, tmp_path, capsys):
    (tmp_path / "results" / "runs" / "sac").mkdir(parents=True)
    assert methods_main(["verify", str(tmp_path / "results")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no run directories") and str(tmp_path / "results") in err, err


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_disk_full_is_a_clear_error_and_keeps_earlier_files(world, tmp_path):
    """Files may not grow past 4 KiB (RLIMIT_FSIZE, as a full disk): the run stops with one
    line naming the file it could not write; the files written before stay whole."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "methods",
                           *train_args(out, sets=TINY + ["eval_every=60", "env_steps=240"])],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          preexec_fn=_limit_file_size)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip()
    # progress lines (one per evaluation) may come first; the error is one line, the last
    errors = [line for line in err.splitlines() if ": step " not in line]
    assert len(errors) == 1 and errors[0].startswith("error: cannot write"), err
    assert "Traceback" not in err and not (out / "meta.json").exists()
    assert not list(out.glob(".*.tmp")), "a temporary file was left behind"
    assert (out / "config.yaml").read_text().startswith("device: cpu")


def test_read_only_output_directory(world, tmp_path):
    """A read-only file system (a tmpfs mounted ro: root ignores file modes)."""
    target = tmp_path / "ro"
    target.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.strip()}")
    try:
        proc = subprocess.run([sys.executable, "-m", "methods",
                               *train_args(target / "run", sets=TINY)], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    finally:
        subprocess.run(["umount", str(target)], check=False)
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "cannot create output directory" in err, err


def test_verify_flags_a_run_of_an_older_schema(world, capsys):
    damaged = broken_copy(world, "sac", "old-verify", old_schema)
    assert methods_main(["verify", str(damaged.parents[2])]) == 1
    out = capsys.readouterr().out
    assert "returns.csv has columns ['step', 'return']" in out
    assert "config.yaml has no resolved params" in out
    assert json.loads((world["sac"] / "meta.json").read_text())["seed"] == 0
