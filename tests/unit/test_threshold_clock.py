"""The peers' time-to-threshold clock: env steps, training seconds without evaluations."""

import pytest


@pytest.fixture()
def bench(load_benchmark):
    return load_benchmark("benchmarks/peers/_bench.py")


class FakeTime:
    """A perf_counter that moves only when told."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class ScriptedEnv:
    """Gymnasium-style env: reward 1 per step, an episode ends after ``length`` steps;
    each step advances the fake clock by ``dt`` seconds."""

    def __init__(self, clock: FakeTime, length: int, dt: float):
        self.clock, self.length, self.dt, self.t = clock, length, dt, 0

    def reset(self, seed=None):
        self.t = 0
        return 0.0, {}

    def step(self, action):
        self.clock.now += self.dt
        self.t += 1
        return 0.0, 1.0, self.t >= self.length, False, {}


def test_clock_counts_train_steps_and_leaves_evaluations_out(bench, monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(bench.time, "perf_counter", fake)
    seen = []
    clock = bench.ThresholdClock(eval_episodes=2, threshold=4.0, on_eval=seen.append)
    train = bench.clocked(ScriptedEnv(fake, 1000, dt=1.0), clock, False, False)
    test = bench.clocked(ScriptedEnv(fake, 3, dt=10.0), clock, True, False)

    def evaluate(length: int) -> None:
        test.length = length
        for _ in range(2):
            test.reset()
            while not test.step(None)[2]:
                pass

    for _ in range(5):
        train.step(None)
    evaluate(3)  # two episodes of 3 steps: mean return 3, 60 s of evaluation
    for _ in range(5):
        train.step(None)
    evaluate(5)  # mean return 5 >= 4: the threshold

    # the clock starts at the first train step (after its 1 s): 4 + 5 train seconds
    assert [e["env_step"] for e in clock.evals] == [5, 10]
    assert [e["return"] for e in clock.evals] == [3.0, 5.0]
    assert [e["train_seconds"] for e in clock.evals] == [4.0, 9.0]
    assert [e["wall_seconds"] for e in clock.evals] == [64.0, 169.0]
    assert seen == clock.evals
    result = clock.result()
    assert result["reached"] and result["env_steps_to_threshold"] == 10
    assert result["seconds_to_threshold"] == 9.0


def test_clock_raises_reached_only_when_asked(bench):
    clock = bench.ThresholdClock(eval_episodes=1, threshold=2.0)
    test = bench.clocked(ScriptedEnv(FakeTime(), 2, dt=0.0), clock, True, True)
    test.reset()
    test.step(None)
    with pytest.raises(bench.Reached):
        test.step(None)

    no_threshold = bench.ThresholdClock(eval_episodes=1)
    test = bench.clocked(ScriptedEnv(FakeTime(), 2, dt=0.0), no_threshold, True, True)
    test.reset()
    test.step(None)
    test.step(None)  # no threshold: never raises, never "reached"
    assert no_threshold.result()["reached"] is False
    assert no_threshold.evals[0]["return"] == 2.0
