"""benchmarks/speed.py times an MBPO window from the run's cumulative training wall."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="module")
def speed(load_benchmark):
    return load_benchmark("benchmarks/speed.py")


def _timings(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["env_step", "name", "value"])


def test_window_is_the_difference_of_the_cumulative_wall(speed):
    timings = _timings([
        (5000, "time/train_wall_s", 5.0), (5000, "time/policy_ms_per_action", 0.05),
        (6000, "time/model_train_s", 24.5), (6000, "time/policy_update_s", 94.25),
        (6000, "time/rollout_s", 6.75), (6000, "time/train_wall_s", 157.25),
        (6000, "time/policy_ms_per_action", 0.06),
    ])  # fmt: skip
    seconds, phases = speed.window_seconds(timings, 6000, 1000)
    assert seconds == pytest.approx(152.25)  # not the cumulative 157.25, nor phases + wall
    assert phases == {"time/model_train_s": 24.5, "time/policy_update_s": 94.25,
                      "time/rollout_s": 6.75}  # fmt: skip


def test_missing_window_start_is_named(speed):
    timings = _timings([(6000, "time/train_wall_s", 157.25)])
    with pytest.raises(ValueError, match="time/train_wall_s at env steps 5000 and 6000"):
        speed.window_seconds(timings, 6000, 1000)
