"""The peers' side-by-side plumbing: device and interpreter options, memory fields."""

import sys

import pytest


@pytest.fixture()
def bench(load_benchmark):
    return load_benchmark("benchmarks/peers/_bench.py")


def test_driver_defaults_to_the_cpu_and_its_own_python(bench):
    args = bench.driver_parser("doc", "mbrl").parse_args([])
    assert args.device == "cpu"
    assert args.ours_python == sys.executable
    assert args.peer_python.endswith("mbrl/bin/python")
    cuda = bench.driver_parser("doc", "sb3").parse_args(["--device", "cuda", "--ours-python", "x"])
    assert (cuda.device, cuda.ours_python) == ("cuda", "x")


def test_bad_device_is_refused(bench):
    with pytest.raises(SystemExit):
        bench.driver_parser("doc", "mbrl").parse_args(["--device", "tpu"])


def test_memory_fields_are_medians_and_gpu_only_when_every_round_has_it(bench):
    runs = {
        "ours": [{"maxrss_mib": 300.0, "gpu_max_allocated_mib": 90.0},
                 {"maxrss_mib": 310.0, "gpu_max_allocated_mib": 80.0},
                 {"maxrss_mib": 350.0, "gpu_max_allocated_mib": 85.0}],
        "mbrl": [{"maxrss_mib": 400.0, "gpu_max_allocated_mib": 50.0}, {"maxrss_mib": 420.0}],
    }  # fmt: skip
    fields = bench.maxrss_fields(runs)
    assert fields == {"ours_maxrss_mib": 310.0, "ours_gpu_max_allocated_mib": 85.0,
                      "mbrl_maxrss_mib": 410.0}  # fmt: skip


def test_cpu_peak_is_measured_on_the_cpu_at_the_given_size(bench):
    args = bench.driver_parser("doc", "mbrl").parse_args(["--threads", "1", "--peak-n", "64"])
    peak = bench.Peak(args)
    assert peak.n == 64 and peak.gflops > 0
    assert "64x64 on cpu" in peak.info()["peak_matmul"]
