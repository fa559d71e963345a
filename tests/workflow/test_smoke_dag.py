"""A real Snakemake run of the smoke tier in a temporary copy of the repository."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest
from conftest import fresh_copy

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
FIGURES = ["learning_curves", "model_error_vs_horizon", "decision_time_cost",
           "distribution_mismatch", "k_sweep", "final_performance",
           "probability_of_improvement", "dyna_exploitation",
           "bptt_gradient_vs_horizon"]  # fmt: skip


def snakemake(workdir: Path, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, *args], cwd=workdir, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = fresh_copy(tmp_path_factory.mktemp("smoke"))
    proc = snakemake(workdir, "--cores", "all", "--configfile=config/smoke.yaml", "all")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return workdir


def test_every_figure_and_table_is_produced(smoke_run):
    for name in FIGURES:
        for ext in ("pdf", "png"):
            assert (smoke_run / f"results/smoke/figures/{name}.{ext}").stat().st_size > 1000
    returns = pd.read_parquet(smoke_run / "results/smoke/tables/returns.parquet")
    assert set(returns.env) == {"gym-Pendulum-v1", "dmc-cartpole-swingup"}
    assert set(returns.seed) == {0, 1}
    assert set(returns.method) == {"sac", "mbpo", "dyna", "mpc", "bptt"}
    claims = pd.read_csv(smoke_run / "results/smoke/claims.csv")
    assert claims.claim.str[0].tolist() and set(claims.claim.str[0]) == set("123456")
    assert set(claims.verdict) <= {"supported", "refuted", "inconclusive"}
    scores = pd.read_parquet(smoke_run / "results/smoke/tables/scores.parquet")
    assert len(scores) == len(returns.groupby(["variant", "env", "seed"]))
    chaos = pd.read_parquet(smoke_run / "results/smoke/tables/chaos_gradient.parquet")
    assert set(chaos.env) == {"gym-Pendulum-v1", "dmc-cartpole-swingup"}
    model_error = pd.read_parquet(smoke_run / "results/smoke/tables/model_error.parquet")
    assert set(model_error["mode"]) == {"mean", "random-member", "TSinf"}
    kinds = model_error.groupby("model")["mode"].unique().map(set).to_dict()
    assert kinds["deterministic single"] == {"mean"}
    assert kinds["probabilistic ensemble"] == {"mean", "random-member", "TSinf"}
    for run in (smoke_run / "results/smoke/runs").glob("*/*/s*"):
        assert (run / "benchmark.tsv").exists() and (run / "meta.json").exists()
    provenance = pd.read_csv(smoke_run / "results/smoke/tables/provenance.csv")
    assert len(provenance) == len(scores) and provenance.max_rss_mb.gt(0).all()
    assert provenance.wall_s.gt(0).all() and provenance.torch.notna().all()  # (a copy: no git)
    assert provenance.cpu_s.gt(0).all()  # every smoke run is one attempt: measured


def test_every_job_leaves_its_cost(smoke_run):
    """Issue 37: the tier's cost table per rule comes from Snakemake's benchmark files."""
    bench = smoke_run / "results/smoke/benchmarks"
    found = {p.relative_to(bench).parts[0].removesuffix(".tsv") for p in bench.rglob("*.tsv")}
    assert found >= {"heldout", "model_error", "return_gap", "chaos", "random", "aggregate",
                     "provenance", "claims", "figures", "scores"}  # fmt: skip
    for path in bench.rglob("*.tsv"):
        assert pd.read_csv(path, sep="\t").s.iloc[0] >= 0, path


def test_second_invocation_has_nothing_to_do(smoke_run):
    proc = snakemake(smoke_run, "-n", "--cores", "2", "--configfile=config/smoke.yaml", "all")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_figure_target_schedules_only_its_ancestors(smoke_run):
    (smoke_run / "results/smoke/figures/learning_curves.pdf").unlink()
    proc = snakemake(smoke_run, "-n", "--cores", "2", "--configfile=config/smoke.yaml",
                     "results/smoke/figures/learning_curves.pdf")  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "learning_curves" in out
    assert "rule train" not in out and "rule aggregate" not in out


def test_invalid_config_is_refused_naming_the_key(tmp_path, smoke_run):
    bad = tmp_path / "bad.yaml"
    bad.write_text((smoke_run / "config/smoke.yaml").read_text() + "sedes: 3\n")
    proc = snakemake(smoke_run, "-n", "--cores", "1", f"--configfile={bad}", "all")
    assert proc.returncode != 0
    assert "sedes" in proc.stdout + proc.stderr


def test_kill_and_resume_gives_the_uninterrupted_results(tmp_path, smoke_run):
    """SIGKILL Snakemake and its jobs part-way through one env's runs; unlock and rerun the
    same command: it finishes, keeps the runs finished before the kill, and every run's CSVs
    equal the uninterrupted run's. (One env's runs, not `all`, to keep CI short: that the
    claims follow from the runs' files alone is the last test's.)"""
    workdir = fresh_copy(tmp_path / "killed")
    env_runs = sorted(smoke_run.glob("results/smoke/runs/*/gym-Pendulum-v1/s*"))
    targets = [str((run / "meta.json").relative_to(smoke_run)) for run in env_runs]
    cmd = [SNAKEMAKE, "--cores", "2", "--configfile=config/smoke.yaml", *targets]
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.time() + 600
    while len(list(workdir.glob("results/smoke/runs/*/*/s*/meta.json"))) < 6:
        assert proc.poll() is None and time.time() < deadline, "smoke DAG ended before the kill"
        time.sleep(0.5)
    # (content, not mtime: Snakemake may touch outputs after a job; a rerun rewrites times)
    finished = {p: p.read_bytes() for p in workdir.glob("results/smoke/runs/*/*/s*/meta.json")}
    time.sleep(5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for csv in workdir.glob("results/smoke/runs/*/*/s*/*.csv"):  # atomic writes: never truncated
        assert len(pd.read_csv(csv).columns) >= 3, csv
    assert snakemake(workdir, "--unlock", "--configfile=config/smoke.yaml").returncode == 0
    # A run whose meta.json was written but whose job Snakemake had not yet registered as
    # complete when it was killed (a window of seconds under load) is incomplete to
    # Snakemake and rerun, as it should be; at most one per core. Every other finished run
    # is kept: ask Snakemake which runs it plans, then check that it reran only those.
    plan = snakemake(workdir, "-n", "-p", *cmd[1:])
    assert plan.returncode == 0, plan.stderr[-3000:]
    planned = set(re.findall(r"--out (results/smoke/runs/\S+)", plan.stdout + plan.stderr))
    kept = {p: c for p, c in finished.items() if str(p.parent.relative_to(workdir)) not in planned}
    assert len(finished) >= 6 and len(kept) >= len(finished) - 2, (len(kept), planned)
    rerun = snakemake(workdir, *cmd[1:])
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert len(env_runs) > len(finished)
    for path, content in kept.items():
        assert path.read_bytes() == content, f"{path} was rerun"
    for run in env_runs:
        twin = workdir / run.relative_to(smoke_run)
        for name in ("returns.csv", "metrics.csv"):
            assert (run / name).read_bytes() == (twin / name).read_bytes(), twin / name


@pytest.fixture
def local_slurm():
    """The one-node SLURM of tests/slurm, started here (and stopped afterwards) unless it
    already runs; skips, saying why, where it cannot be started. Yields its accounting:
    "slurmdbd" (sacct works) or "none"."""
    running = subprocess.run(["pgrep", "-x", "slurmctld"], capture_output=True).returncode == 0
    proc = subprocess.run(["bash", str(ROOT / "tests/slurm/start-local-slurm.sh")],
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    if proc.returncode == 3:
        pytest.skip(f"SLURM cannot be started here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    accounting = proc.stdout.strip().splitlines()[-1].removeprefix("accounting: ")
    if accounting != "slurmdbd" and shutil.which("slurmdbd"):
        warnings.warn(f"SLURM test without accounting although slurmdbd is installed: "
                      f"{proc.stderr.strip()[-500:]}", stacklevel=1)  # fmt: skip
    yield accounting
    if not running:
        subprocess.run(["bash", str(ROOT / "tests/slurm/stop-local-slurm.sh")], timeout=60)


@pytest.mark.slow
def test_slurm_profile_runs_the_smoke_tier_like_a_local_run(tmp_path, smoke_run, local_slurm):
    """One env's smoke runs sent through profiles/slurm (snakemake-executor-plugin-slurm) to
    a real slurmctld/slurmd give the local run's CSVs byte for byte. With slurmdbd (what
    users have) the plugin's defaults poll sacct and check the profile's account; without it
    there is no sacct, so job states come from squeue. One thread and one CPU per job as
    locally. (One env, not `all`: each SLURM job costs seconds of polling and CI has two
    cores; everything downstream of the runs is a function of these CSVs, run locally by
    the other tests.)"""
    workdir = fresh_copy(tmp_path / "slurm")
    runs = sorted(smoke_run.glob("results/smoke/runs/*/gym-Pendulum-v1/s*"))
    assert runs
    targets = [str((run / "meta.json").relative_to(smoke_run)) for run in runs]
    status = [] if local_slurm == "slurmdbd" else ["--slurm-status-command", "squeue"]
    proc = snakemake(
        workdir, "--profile", "profiles/slurm", "--configfile=config/smoke.yaml", *status,
        "--slurm-init-seconds-before-status-checks", "5", "--slurm-keep-successful-logs",
        "--set-threads", "train=1", "--set-resources", "train:cpus_per_task=1",
        "train:mem_mb=2000", "train:runtime=30", "--jobs", "4", *targets, timeout=1500,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    logs = list(workdir.glob(".snakemake/slurm_logs/rule_train/*/*.log"))
    assert len(logs) >= len(runs), f"{len(logs)} SLURM job logs for {len(runs)} runs"
    if local_slurm == "slurmdbd":  # the accounting database saw the jobs, in the account
        query = ["sacct", "-X", "-n", "-P", "--format=State,Account", "--starttime", "now-3hours"]
        sacct = subprocess.run(query, capture_output=True, text=True)
        assert sacct.stdout.count("COMPLETED|default") >= len(runs), sacct.stdout[-2000:]
    for run in runs:
        twin = workdir / run.relative_to(smoke_run)
        for name in ("returns.csv", "metrics.csv"):
            assert (run / name).read_bytes() == (twin / name).read_bytes(), twin / name


def test_report_target_holds_every_figure_and_the_claims(smoke_run):
    proc = snakemake(smoke_run, "--cores", "1", "--configfile=config/smoke.yaml", "report")
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = (smoke_run / "results/smoke/report.html").read_text(errors="replace")
    for name in [*(f"{figure}.png" for figure in FIGURES), "claims.html"]:
        assert name in html, name


def test_collect_tier_keeps_the_small_results_with_provenance(smoke_run, tmp_path):
    out = tmp_path / "collected"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "studies/mid_tier/collect_tier.py"),
         "--workdir", str(smoke_run), "--config", "config/smoke.yaml", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == len(list((smoke_run / "results/smoke/runs").glob("*/*/s*/meta.json")))
    assert runs.wall_s.gt(0).all() and runs.device.eq("cpu").all()
    assert (out / "claims.csv").read_bytes() == (
        smoke_run / "results/smoke/claims.csv"
    ).read_bytes()
    assert {p.stem for p in (out / "figures").glob("*.png")} == set(FIGURES)
    assert (out / "tables/returns.parquet").exists() and (out / "config.yaml").exists()


def test_tiers_own_their_outputs(smoke_run):
    """Issue 40.1: another tier plans nothing inside the smoke tier's folder, and a second
    config that claims the smoke tier's name is refused before any job starts."""
    proc = snakemake(smoke_run, "-n", "--cores", "1", "--configfile=config/mid.yaml", "all")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "results/mid/runs/" in out and "results/smoke/" not in out
    assert (smoke_run / "results/smoke/tier.txt").read_text().strip() == "config/smoke.yaml"
    copy = smoke_run / "config/copy.yaml"
    copy.write_text((smoke_run / "config/smoke.yaml").read_text() + "tier: smoke\n")
    proc = snakemake(smoke_run, "-n", "--cores", "1", "--configfile=config/copy.yaml", "all")
    assert proc.returncode == 2
    assert "holds the outputs of tier 'smoke' from config/smoke.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr
    copy.unlink()


def test_variants_can_be_picked_from_the_command_line(smoke_run):
    proc = snakemake(smoke_run, "-n", "--cores", "1", "--configfile=config/smoke.yaml",
                     "all", "--config", "run_variants=[sac]")  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "rule train" not in out  # the smoke run has every sac run already
    proc = snakemake(smoke_run, "-n", "--cores", "1", "--configfile=config/smoke.yaml",
                     "all", "--config", "run_variants=[sacc]")  # fmt: skip
    assert proc.returncode == 2 and "run_variants names unknown variant(s) sacc" in proc.stderr


def test_analysis_half_regenerates_the_tables_and_claims_byte_for_byte(smoke_run):
    """Delete every aggregated table and the claims and rerun `all`: no run is retrained,
    and the claims (CSV and Markdown) come back byte for byte, the tables equal, so a
    published claims table is a function of the committed runs' files (issue 37)."""
    out = smoke_run / "results/smoke"
    claims = {p: p.read_bytes() for p in (out / "claims.csv", out / "claims.md")}
    tables = {p: pd.read_parquet(p) for p in (out / "tables").glob("*.parquet")}
    metas = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/*/s*/meta.json")}
    assert tables and metas
    shutil.rmtree(out / "tables")
    for path in claims:
        path.unlink()
    proc = snakemake(smoke_run, "--cores", "all", "--configfile=config/smoke.yaml", "all")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rule train:" not in proc.stdout + proc.stderr, "a run was retrained"
    assert {p: p.stat().st_mtime_ns for p in metas} == metas
    for path, content in claims.items():
        assert path.read_bytes() == content, f"{path.name} differs when regenerated"
    for path, frame in tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(path), frame, obj=path.name)


def test_a_clone_of_committed_results_has_nothing_to_redo(smoke_run, tmp_path):
    """Issue 37: a tier moved through git (runs, diagnostics, tables committed; models not)
    is up to date for Snakemake after `handoff restore-mtimes`. A clone writes files in path
    order, so without it results/smoke/chaos/ looks older than the runs it reads and every
    diagnostic would be redone, without the models it needs."""
    clone = tmp_path / "clone"  # what travels: the small files, then what pack names
    shutil.copytree(smoke_run, clone,
                    ignore=shutil.ignore_patterns(".snakemake", "*.pt", "heldout"))  # fmt: skip
    pack = subprocess.run([sys.executable, "-m", "methods", "handoff", "pack", "--config",
                           "config/smoke.yaml"], cwd=smoke_run, capture_output=True,
                          text=True)  # fmt: skip
    assert pack.returncode == 0, pack.stderr
    travel = pack.stdout.split()
    assert travel and all("/heldout/" in p for p in travel)  # every diagnostic has run
    for path in travel:
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(smoke_run / path, clone / path)
    # a run trained by hand has no benchmark.tsv: it is not retrained for the provenance table
    next((clone / "results/smoke/runs").glob("sac/*/s0/benchmark.tsv")).unlink()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}  # fmt: skip
    for args in (["init", "-q"], ["add", "-f", "."], ["commit", "-qm", "tier"]):
        subprocess.run(["git", *args], cwd=clone, env=env, check=True, capture_output=True)
    for i, path in enumerate(sorted(p for p in clone.rglob("*") if p.is_file()
                                    and ".git" not in p.parts)):  # fmt: skip
        os.utime(path, (1e9 + i, 1e9 + i))  # a clone's checkout order
    dry = ["-n", "--cores", "1", "--configfile=config/smoke.yaml", "all"]
    before = snakemake(clone, *dry)
    assert "rule chaos:" in before.stdout, "the test no longer reproduces a clone's mtimes"
    proc = subprocess.run([sys.executable, "-m", "methods", "handoff", "restore-mtimes"],
                          cwd=clone, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    after = snakemake(clone, *dry)
    assert after.returncode == 0 and "Nothing to be done" in after.stdout + after.stderr
