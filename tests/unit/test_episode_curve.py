"""episode_curve: training episodes placed at the step where they end, replays after a
resume counted once, means per column, evaluations beside them."""

import json

import pytest


@pytest.fixture()
def episode_curve(load_benchmark):
    return load_benchmark("studies/mpc_learning/episode_curve.py")


def write_run(run_dir, rows, evals=None):
    run_dir.mkdir()
    lines = [json.dumps({"role": role, "length": n, "return": r, "terminated": False,
                         "final_obs": [r / 7, 0.5]}) for role, n, r in rows]  # fmt: skip
    (run_dir / "episodes.jsonl").write_text("\n".join(lines) + "\n")
    if evals:
        text = "env_step,eval_return_mean,eval_return_std,eval_episodes\n"
        text += "".join(f"{s},{r},0.0,1\n" for s, r in evals.items())
        (run_dir / "returns.csv").write_text(text)


def test_replayed_episodes_count_once_and_evals_do_not_move_the_clock(tmp_path, episode_curve):
    run = tmp_path / "s0"
    # a kill after the third episode, resumed from the checkpoint after the second: the
    # third and the evaluation before it are logged twice
    write_run(run, [("train", 250, 10.0), ("train", 250, 30.0), ("eval", 250, 99.0),
                    ("train", 250, 50.0), ("eval", 250, 99.0), ("train", 250, 50.0),
                    ("train", 250, 70.0)], evals={500: 99.0})  # fmt: skip
    result = episode_curve.curve(run, every=500)
    assert result["steps_done"] == 1000
    assert result["train_return"] == {500: 20.0, 1000: 60.0}
    assert result["eval_return"] == {500: 99.0}
    table = episode_curve.table([result], every=500)
    assert table.splitlines()[2] == "| s0 | 20 [99] | 60 |"


def test_uneven_episodes_fall_in_the_column_where_they_end(tmp_path, episode_curve):
    run = tmp_path / "s1"
    write_run(run, [("train", 30, 1.0), ("train", 80, 2.0), ("train", 200, 6.0)])
    result = episode_curve.curve(run, every=100)  # ends 30, 110, 310
    assert result["train_return"] == {100: 1.0, 200: 2.0}  # 300-400 not completed yet
    assert not result["finished"] and result["eval_return"] == {}
    (run / "meta.json").write_text("{}")  # finished at 310 steps: its last window is whole
    assert episode_curve.curve(run, every=100)["train_return"] == {100: 1.0, 200: 2.0, 400: 6.0}


def test_plot_draws_each_run_and_the_mean_of_windows_all_runs_have(tmp_path, episode_curve):
    write_run(tmp_path / "a", [("train", 100, 1.0), ("train", 100, 3.0)], evals={200: 4.0})
    write_run(tmp_path / "b", [("train", 100, 5.0)])
    curves = [episode_curve.curve(tmp_path / name, every=100) for name in ("a", "b")]
    fig = episode_curve.plot(curves, "t", reference=6.0)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["mean of 2"].get_ydata()) == [3.0]  # window 100 only: b has no 200
    assert list(lines["a"].get_ydata()) == [1.0, 3.0]
    assert list(lines["reference"].get_ydata()) == [6.0, 6.0]


def test_a_resumed_run_cuts_its_episode_log_back_to_the_checkpoint(tmp_path, load_benchmark):
    """Across hosts the replayed episodes differ from the killed attempt's, so identical-line
    dedup cannot catch them: episode_ends.py cuts the log to the checkpoint first."""
    import torch

    from methods.common.resume import CHECKPOINT_NAME
    from methods.common.training import LoopState

    ends = load_benchmark("studies/mpc_learning/episode_ends.py")
    run = tmp_path / "s1"
    write_run(run, [("train", 200, 1.0), ("eval", 300, 2.0), ("train", 100, 3.0),
                    ("eval", 50, 4.0), ("train", 80, 5.0)])  # fmt: skip
    log = run / "episodes.jsonl"
    loop = LoopState()
    loop.step = 300
    torch.save({"loop": loop}, run / CHECKPOINT_NAME)
    assert ends.truncate_to_checkpoint(log, ["train", "--out", str(run)]) == 2
    assert [json.loads(x)["return"] for x in log.read_text().splitlines()] == [1.0, 2.0, 3.0]
    loop.step = 250  # no training episode ends there: not this run's log
    torch.save({"loop": loop}, run / CHECKPOINT_NAME)
    with pytest.raises(SystemExit, match="no training episode ending"):
        ends.truncate_to_checkpoint(log, ["train", "--out", str(run)])
    (run / CHECKPOINT_NAME).unlink()  # killed before its first checkpoint: starts over
    assert ends.truncate_to_checkpoint(log, ["train", f"--out={run}"]) == 3
    assert log.read_text() == ""
