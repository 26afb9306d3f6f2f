"""benchmarks/distributed.py's harness: the 1-rank and n-rank launches whose ratio is the
scaling efficiency run with the same settings (NOTE [ Benchmark settings ] there), and its
workers report every figure its tables read."""

import importlib.util
import os

import pytest
from dist_helpers import needs_mpi

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "distributed.py")


def _bench():
    spec = importlib.util.spec_from_file_location("ember_benchmark_distributed", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_different_settings_are_refused():
    bench = _bench()
    same = {"affinity": [0, 1], "blas": ["openblas:1"], "ember_threads": 1,
            "kernel_threads": 1, "env": {"OMP_NUM_THREADS": "1"}}
    bench._check_settings("mlp", [{"settings": same}, {"settings": dict(same)}])
    other = {**same, "env": {"OMP_NUM_THREADS": "2"}}
    with pytest.raises(SystemExit, match="different settings"):
        bench._check_settings("mlp", [{"settings": same}, {"settings": other}])


@needs_mpi
def test_ddp_launches_at_one_and_two_ranks_have_equal_settings():
    bench = _bench()
    one = bench._launch("ddp:mlp", 1, True)
    two = bench._launch("ddp:mlp", 2, True)
    bench._check_settings("mlp", [one, two])
    assert one["settings"]["kernel_threads"] == 1
    assert one["settings"]["env"]["OMP_NUM_THREADS"] == "1"
    assert set(one) == {"settings", "mlp"}
    assert set(two) == {"settings", "mlp", "mlp:no_sync", "mlp:bucket_view"}
    for fig in (one["mlp"], two["mlp"], two["mlp:no_sync"], two["mlp:bucket_view"]):
        assert fig["s"] > 0 and fig["cpu_s"] > 0 and fig["faults"] >= 0


@needs_mpi
def test_counters_worker_reports_the_step_beside_raw_allreduce():
    c = _bench()._launch("counters", 2, True)
    # The MLP: both weight gradients (1 MiB, 1.6 MB) reduced in place, the rest in one bucket.
    assert (c["buckets"], c["solo"]) == (3, 2)
    assert c["in_place_bytes"] == (512 * 784 + 512 * 512) * 4
    assert 0 <= c["done_before_wait"] <= c["buckets"]
    assert c["tests"] >= 1  # the default polls in hooks
    for key in ("step_s", "no_sync_s", "raw_s", "step_cpu_s", "wait_cpu_s", "start_cpu_s"):
        assert c[key] > 0, key
