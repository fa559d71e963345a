"""The per-run provenance table: attempts of a resumed run, cost, and bad input."""

import json

import pandas as pd
import pytest

from analysis.provenance import main, provenance_table
from methods.common.errors import UserError


def make_run(root, variant="mbpo-k5", env="gym-Hopper-v5", seed=0, earlier=(), bench=True,
             cpu=None):  # fmt: skip
    run = root / variant / env / f"s{seed}"
    run.mkdir(parents=True)
    meta = {"git_commit": "b" * 40, "git_dirty": False, "host": "hostB", "device": "cpu",
            "device_name": "x86_64", "threads": 1, "python": "3.11.7",
            "packages": {"torch": "2.13.0+cpu", "mujoco": "3.17.0"},
            "wall_seconds": 900.5, "cpu_seconds": 450.25, "start_time": "t0",
            "end_time": "t1"}  # fmt: skip
    if earlier:
        meta["earlier_attempts"] = list(earlier)
        meta["resumed_at_steps"] = [4000 * (i + 1) for i in range(len(earlier))]
    (run / "meta.json").write_text(json.dumps(meta))
    if bench and cpu is None:
        (run / "benchmark.tsv").write_text("s\th:m:s\tmax_rss\n300.25\t0:05:00\t812.5\n")
    elif bench:
        (run / "benchmark.tsv").write_text(
            f"s\th:m:s\tmax_rss\tmean_load\tcpu_time\n300.25\t0:05:00\t812.5\t50\t{cpu}\n"
        )
    return run


def test_a_resumed_run_lists_every_host_and_commit_and_sums_its_wall_time(tmp_path):
    first = {"git_commit": "a" * 40, "host": "hostA", "device": "cpu", "threads": 1}
    run = make_run(tmp_path, earlier=[first])
    (row,) = provenance_table([run]).to_dict("records")
    assert row["attempts"] == 2 and row["hosts"] == "hostA;hostB"
    assert row["git_commits"] == f"{'a' * 40};{'b' * 40}"
    assert row["resumed_at_steps"] == "4000"
    assert row["wall_s"] == 900.5  # meta: every attempt; benchmark.tsv: the last one only
    assert row["cpu_s"] == 450.25
    assert row["last_attempt_s"] == 300.25 and row["max_rss_mb"] == 812.5
    assert row["torch"] == "2.13.0+cpu" and row["mujoco"] == "3.17.0"
    assert (row["variant"], row["env"], row["seed"]) == ("mbpo-k5", "gym-Hopper-v5", 0)


def test_rows_are_sorted_and_a_run_outside_the_dag_has_no_benchmark(tmp_path):
    runs = [make_run(tmp_path, "sac", seed=1, bench=False), make_run(tmp_path, "mbpo-k5")]
    table = provenance_table(runs)
    assert table.variant.tolist() == ["mbpo-k5", "sac"]
    assert pd.isna(table.max_rss_mb.iloc[1]) and table.attempts.tolist() == [1, 1]


def test_corrupted_meta_is_one_error_line(tmp_path, capsys):
    run = make_run(tmp_path)
    (run / "meta.json").write_text("{not json")
    with pytest.raises(UserError, match="meta.json is missing or corrupted"):
        provenance_table([run])
    assert main(["--out", str(tmp_path / "p.csv"), str(run / "meta.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: run ") and "Traceback" not in err
    assert not (tmp_path / "p.csv").exists()


def test_the_last_attempts_cpu_seconds_are_kept_where_snakemake_measured_them(tmp_path):
    """A job that shared its core ran longer than the CPU it used: the cost table needs both
    (issue 37), and a benchmark file without cpu_time (hand-written, old) leaves it empty."""
    runs = [make_run(tmp_path, "a", cpu=150.5), make_run(tmp_path, "b")]
    table = provenance_table(runs).set_index("variant")
    assert table.loc["a", "last_attempt_cpu_s"] == 150.5
    assert pd.isna(table.loc["b", "last_attempt_cpu_s"])
