"""The op sweep's in-place and out= variants (benchmarks/op_sweep.py, issue 18).

The sweep is run in a tiny mode (1e3 elements, 0.05 ms batches, one batch): these tests check
that the variant cases are generated from the op table, skipped with reasons where the call
is invalid, timed, and summarised apart from the forward / forward + backward lines. The
timings' values are not checked (they are the sweep's output, not its correctness).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import ember

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--sizes", "1e3", "--batch-ms", "0.05", "--repeat", "1", "--threads", "0"]


@pytest.fixture(scope="module")
def sweep():
    sys.path.insert(0, os.path.join(ROOT, "tests"))  # table_cases reads op_db
    spec = importlib.util.spec_from_file_location(
        "op_sweep_variants", os.path.join(ROOT, "benchmarks", "op_sweep.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def ember_run(sweep):
    """One ember worker over every variant case at 1e3: (times, skips, hows)."""
    p = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "op_sweep.py"),
                        "--lib", "ember", "--json", "--only", r":(inplace|out=)$", *TINY],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    lines = {ln.split(" ", 1)[0]: json.loads(ln.split(" ", 1)[1])
             for ln in p.stderr.splitlines() if ln.startswith(("SKIPS ", "HOWS "))}
    return json.loads(p.stdout.strip().splitlines()[-1]), lines["SKIPS"], lines["HOWS"]


def _table_cases(sweep, target=1000):
    cases = []
    for name, sample, info, why in sweep.table_cases(target):
        if not why:
            cases.append((name, None, sample, ("fwd",), info))
    return cases


# ------------------------------------------------------------------ case generation
def test_variant_cases_follow_the_table(sweep):
    from op_db import OP_DB

    keys = [k for k, _ in sweep._variant_cases(ember, "ember", "1e3", 1000,
                                               _table_cases(sweep))]
    assert len(keys) == len(set(keys))
    # every entry gets an out= case, every in-place one with a tensor input an in-place case
    inputs = {n: s[0] for n, s, _i, why in sweep.table_cases(1000) if not why}
    checked = 0
    for info in OP_DB:
        if info.name not in inputs:
            continue
        rest = info.name[len(info.fn_name):]
        assert f"{info.name}@1e3:out=" in keys, info.name
        inplace = f"{info.fn_name}_{rest}@1e3:inplace"
        if info.inplace and isinstance(inputs[info.name], np.ndarray):
            assert inplace in keys, info.name
            checked += 1
        elif not isinstance(inputs[info.name], np.ndarray):  # pow(2.0, t): no method form
            assert inplace not in keys, info.name
    assert checked > 80
    for k in ("add_@1e3:inplace", "add_.alpha@1e3:inplace", "clamp_min_@1e3:inplace",
              "lerp_@1e3:inplace", "addcmul_@1e3:inplace", "add@1e3:out=",
              "copy_@1e3:inplace", "copy_.from_float64@1e3:inplace", "fill_@1e3:inplace",
              "zero_@1e3:inplace", "masked_fill_@1e3:inplace"):
        assert k in keys, k
    # masked_fill_ comes from the table's entry, so the hand-written extra stays out
    assert keys.count("masked_fill_@1e3:inplace") == 1
    assert not any(k.endswith((":fwd", ":fwd+bwd")) for k in keys)


def test_extras_only_where_the_table_lacks_them(sweep):
    keys = [k for k, _ in sweep._variant_cases(ember, "ember", "1e3", 1000, [])]
    assert sorted(keys) == sorted(f"{n}@1e3:inplace" for n in sweep.variant_extras(1000))


# ------------------------------------------------------------------ validity and skips
def test_invalid_inplace_calls_are_skipped_with_reasons(sweep):
    x = ember.ones(3, 1)
    with pytest.raises(sweep._Skip, match=r"bigger than the input \(3, 1\) \(broadcasting\)"):
        sweep._inplace_case(ember, "add_", None, x, x + ember.ones(3, 4))
    xi = ember.ones(3, dtype=ember.int64)
    with pytest.raises(sweep._Skip, match="float32 result cannot be written into a "
                                          "torch.int64 input"):
        sweep._inplace_case(ember, "sqrt_", None, xi, ember.sqrt(xi))
    with pytest.raises(sweep._Skip, match="changes the input's shape"):
        sweep._inplace_case(ember, "t_", None, ember.ones(2, 3), ember.ones(3, 2))
    with pytest.raises(sweep._Skip, match="several results"):
        sweep._inplace_case(ember, "max_", None, x, (x, x))
    # a valid call: nothing raised, and the closure runs in place
    call, reset, healthy = sweep._inplace_case(ember, "add_", lambda: x.add_(1), x, x + 1)
    assert float(x.sum()) == 6.0  # one warm-up call on the reset tensor
    reset()
    assert float(x.sum()) == 3.0 and healthy()


def test_worker_times_and_skips_the_variants(ember_run):
    times, skips, hows = ember_run
    for k in ("add_@1e3:inplace", "add@1e3:out=", "clamp_min_@1e3:inplace",
              "lerp_@1e3:inplace", "addcmul_@1e3:inplace", "copy_@1e3:inplace",
              "fill_@1e3:inplace", "zero_@1e3:inplace", "masked_fill_@1e3:inplace"):
        assert times.get(k, 0) > 0, (k, skips.get(k))
    assert all(k.endswith((":inplace", ":out=")) for k in times)
    # in-place timings say how they were taken; out= ones have nothing to reset
    assert {k for k in times if k.endswith(":inplace")} == set(hows)
    assert set(hows.values()) <= {"batch", "each"}
    assert "int64 input" in skips["reciprocal_.int@1e3:inplace"]
    assert "changes the input's shape" in skips["t_@1e3:inplace"]
    # the ember worker reports what it lacks (the driver keeps it where PyTorch has it)
    assert skips["sum_@1e3:inplace"] == "ember: no Tensor.sum_"
    assert skips["equal@1e3:out="].startswith("ember: returns bool")
    assert all(isinstance(v, str) and v for v in skips.values())
    # times and skips never overlap
    assert not set(times) & set(skips)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_drift_is_detected_and_timed_call_by_call(sweep):
    # exp_ repeated reaches inf: the batch check fails and each call is reset and timed
    x = ember.from_numpy(np.linspace(0.5, 2.0, 1000, dtype=np.float32))
    made = sweep._inplace_case(ember, "exp_", lambda: x.exp_(), x, ember.exp(x))
    t, how = sweep._timeit_inplace(*made, 2e-4, 2)
    assert how == "each" and t > 0
    # each call starts from the reset values: after the timing one reset leaves them intact
    made[1]()
    assert np.isfinite(x.numpy()).all()
    # add_ drifts harmlessly (values grow, stay normal): timed in batches
    y = ember.from_numpy(np.linspace(0.5, 2.0, 1000, dtype=np.float32))
    made = sweep._inplace_case(ember, "add_", lambda: y.add_(0.25), y, y + 0.25)
    t, how = sweep._timeit_inplace(*made, 2e-4, 2)
    assert how == "batch" and t > 0


def test_special_count(sweep):
    a = np.array([0.0, -0.0, 1e-40, np.inf, -np.inf, np.nan, 1.0, -2.0], np.float32)
    assert sweep._special_count(ember.from_numpy(a)) == 6
    assert sweep._special_count(ember.from_numpy(np.zeros(3, np.int64))) is None


# ------------------------------------------------------------------ driver side
def test_pytorch_decides_which_variants_exist(sweep):
    samples = {"ember": {"maximum_@1e3:inplace": [1.0], "add_@1e3:inplace": [1.0],
                         "add@1e3:fwd": [1.0]},
               "torch": {"add_@1e3:inplace": [1.0]}}
    skips = {"ember": {"relu@1e3:out=": "ember: ...", "clamp_min@1e3:out=": "ember: no out="},
             "torch": {"clamp_min@1e3:out=": "torch: RuntimeError: x"}}
    sweep.pytorch_has(samples, skips)
    assert samples["ember"] == {"add_@1e3:inplace": [1.0], "add@1e3:fwd": [1.0]}
    assert skips["ember"] == {"clamp_min@1e3:out=": "ember: no out="}


def _rows(pairs):
    return {c: {"ember": {"median": e, "min": e, "max": e}, "torch": {"median": t, "min": t,
                                                                       "max": t},
                "ratio": e / t, "verdict": "x"} for c, (e, t) in pairs.items()}


def test_variant_summary_lines_are_their_own(sweep):
    meta = {"header": "h", "sizes": ["1e6"]}
    main = _rows({"add@1e6:fwd": (2.0, 1.0), "add@1e6:fwd+bwd": (1.0, 1.0)})
    var = _rows({"add_@1e6:inplace": (8.0, 1.0), "add_.alpha@1e6:inplace": (1.0, 1.0),
                 "clamp_min_@1e6:inplace": (3.0, 1.0), "add@1e6:out=": (1.5, 1.0)})
    md = sweep.markdown(main, meta)
    assert "- 1e6 fwd: 1 cases, median ember/PyTorch 2.00, 0 over 2x, worst 2.00" in md
    vmd = sweep.variant_markdown(var, meta)
    assert "- 1e6 inplace: 3 cases, median ember/PyTorch 3.00, 2 over 2x, worst 8.00" in vmd
    assert "- 1e6 out=: 1 cases, median ember/PyTorch 1.50, 0 over 2x, worst 1.50" in vmd
    assert "inplace" not in md and ":fwd" not in vmd
    assert sweep.variant_markdown({}, meta) == ""


def test_driver_tiny_run_keeps_the_forward_lines_apart(tmp_path):
    pytest.importorskip("torch")
    only = r"^(add|copy_|clamp_min|maximum|relu)[._]?[a-z_.]*@"
    md_on, md_off = tmp_path / "on.md", tmp_path / "off.md"
    js = tmp_path / "on.json"
    for extra, md in ((["--out-json", str(js)], md_on), (["--no-variants"], md_off)):
        p = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "op_sweep.py"),
                            "--rounds", "1", "--only", only, "--out-md", str(md), *TINY,
                            *extra], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-2000:]
    on, off = md_on.read_text(), md_off.read_text()
    assert "- 1e3 inplace: " in on and "- 1e3 out=: " in on
    assert "In-place" not in off and ":inplace" not in off and ":out=" not in off
    # the forward part has the same cases either way (times differ run to run)
    head = on.split("## In-place and out= variants")[0]
    assert [ln.split(":")[0] for ln in head.splitlines() if ln.startswith("- ")] == \
        [ln.split(":")[0] for ln in off.splitlines() if ln.startswith("- ")]
    assert ":inplace" not in head and ":out=" not in head
    cases = json.load(open(js))["cases"]
    assert cases["add_@1e3:inplace"]["ratio"] > 0
    assert cases["add_@1e3:inplace"]["timing"]["torch"] in ("batch", "each")
    # PyTorch has no Tensor.maximum_ and no relu(out=): no such cases, though ember has them
    assert "maximum_@1e3:inplace" not in cases and "relu@1e3:out=" not in cases
    assert "maximum@1e3:out=" in cases and "clamp_min_@1e3:inplace" in cases
