"""RunWriter's log state across resumes: meta.json pairs every earlier attempt with the
step it was resumed at, however many times a run is resumed."""

import json
import time

import torch

from methods.common.run_io import RunWriter


def resume(out_dir, state: dict, at_step: int) -> RunWriter:
    writer = RunWriter(out_dir, {"seed": 0}, torch.device("cpu"), seed=0)
    writer.restore_log_state(state)
    writer.mark_resumed(at_step)
    return writer


def test_twice_resumed_run_keeps_both_resume_steps(tmp_path):
    first = RunWriter(tmp_path, {"seed": 0}, torch.device("cpu"), seed=0)
    first.log_return(100, 1.0, 0.0, 1)
    second = resume(tmp_path, first.log_state(), 100)
    second.log_return(200, 2.0, 0.0, 1)
    third = resume(tmp_path, second.log_state(), 200)
    third.finish()

    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["resumed_at_steps"] == [100, 200]
    assert len(meta["earlier_attempts"]) == 2
    assert meta["earlier_attempts"][0]["start_time"] == meta["start_time"]
    assert (tmp_path / "returns.csv").read_text().splitlines()[1:] == ["100,1,0,1", "200,2,0,1"]


def burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_cpu_seconds_of_every_attempt_are_kept_and_unknown_ones_are_not_guessed(tmp_path):
    first = RunWriter(tmp_path, {"seed": 0}, torch.device("cpu"), seed=0)
    burn_cpu(0.2)
    state = first.log_state()
    time.sleep(0.3)  # a killed attempt's work after its checkpoint is not kept
    second = resume(tmp_path, state, 100)
    burn_cpu(0.2)
    second.finish()
    cpu = json.loads((tmp_path / "meta.json").read_text())["cpu_seconds"]
    assert 0.4 <= cpu < 0.6

    del state["cpu_seconds"]  # a checkpoint written before CPU seconds were kept
    resume(tmp_path, state, 100).finish()
    assert json.loads((tmp_path / "meta.json").read_text())["cpu_seconds"] is None
