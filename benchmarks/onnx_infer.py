"""Inference of exported models: onnxruntime vs ember eager vs PyTorch eager (issue 13).

One framework per process (``--lib ort|ember|torch``), so run it through ab.py, which
alternates the variants over rounds in separate processes::

    python benchmarks/ab.py onnx_infer --variant "ort:--lib ort" \\
        --variant "ember:--lib ember" --variant "torch:--lib torch"

Workloads (float32, eval mode, no gradients, the same weights in every framework: ember's
state_dict copied into the torch model, and the ONNX model exported from ember's):

- ``resnet18``: ember.vision's ResNet-18 (1000 classes), batch 1, 3x224x224;
- ``resnet18_b8``: the same, batch 8;
- ``lstm_lm``: a 2-layer LSTM language model (vocab 10000, embedding and hidden 200;
  pytorch/examples' word language model sizes), sequence 35, batch 20, with the initial
  state as inputs;
- ``export_resnet18`` (ort only): ``ember.onnx.export`` of the ResNet-18, batch 1, to memory.

Threads: ab.py's ``--threads N`` sets OMP/OpenBLAS/MKL threads for every variant; this
script also gives onnxruntime N intra-op threads and PyTorch ``set_num_threads(N)`` (N
from ``--threads`` or OMP_NUM_THREADS). Prints ``{case: seconds}`` (median per call) with
``--json``, else a short table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _ember_models():
    import ember
    import ember.nn as nn
    from ember.vision.models import resnet18

    ember.manual_seed(0)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10000, 200)
            self.rnn = nn.LSTM(200, 200, 2)
            self.out = nn.Linear(200, 10000)

        def forward(self, tokens, h0, c0):
            y, (h, c) = self.rnn(self.emb(tokens), (h0, c0))
            return self.out(y).reshape(-1, 10000), h, c

    return resnet18().eval(), LM().eval()


def _inputs(rng):
    return {
        "resnet18": (rng.standard_normal((1, 3, 224, 224), dtype=np.float32),),
        "resnet18_b8": (rng.standard_normal((8, 3, 224, 224), dtype=np.float32),),
        "lstm_lm": (rng.integers(0, 10000, (35, 20)).astype(np.int64),
                    np.zeros((2, 20, 200), np.float32), np.zeros((2, 20, 200), np.float32)),
    }


def _torch_models(ember_resnet, ember_lm):
    import torch
    from nn_models import _torch_resnet18
    from torch import nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10000, 200)
            self.rnn = nn.LSTM(200, 200, 2)
            self.out = nn.Linear(200, 10000)

        def forward(self, tokens, h0, c0):
            y, (h, c) = self.rnn(self.emb(tokens), (h0, c0))
            return self.out(y).reshape(-1, 10000), h, c

    res, lm = _torch_resnet18(1000), LM()
    for src, dst in ((ember_resnet, res), (ember_lm, lm)):
        sd = OrderedDict((k, torch.from_numpy(np.array(v.numpy()))) for k, v in
                         src.state_dict().items())
        dst.load_state_dict(sd)
    return res.eval(), lm.eval()


def _time(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def _threads(args):
    if args.threads:
        return args.threads
    env = os.environ.get("OMP_NUM_THREADS")
    return int(env) if env and env.isdigit() else 0


def run(lib, reps, warmup, threads):
    rng = np.random.default_rng(0)
    inputs = _inputs(rng)
    e_res, e_lm = _ember_models()
    models = {"resnet18": e_res, "resnet18_b8": e_res, "lstm_lm": e_lm}
    out = {}
    if lib == "ember":
        import ember

        if threads:
            ember.set_num_threads(threads)
        for case, arrays in inputs.items():
            ts = tuple(ember.from_numpy(a) for a in arrays)
            m = models[case]

            def call(m=m, ts=ts):
                with ember.no_grad():
                    return m(*ts)
            out[case] = _time(call, reps, warmup)
    elif lib == "torch":
        import torch

        if threads:
            torch.set_num_threads(threads)
        t_res, t_lm = _torch_models(e_res, e_lm)
        tm = {"resnet18": t_res, "resnet18_b8": t_res, "lstm_lm": t_lm}
        for case, arrays in inputs.items():
            ts = tuple(torch.from_numpy(a) for a in arrays)
            m = tm[case]

            def call(m=m, ts=ts):
                with torch.inference_mode():
                    return m(*ts)
            out[case] = _time(call, reps, warmup)
    elif lib == "ort":
        import ember
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        x1 = ember.from_numpy(inputs["resnet18"][0])
        t = time.perf_counter()
        res_proto = ember.onnx.export(e_res, (x1,), None, input_names=["input"],
                                      dynamic_axes={"input": {0: "batch"}})
        out["export_resnet18_dynamic"] = time.perf_counter() - t
        t = time.perf_counter()
        ember.onnx.export(e_res, (x1,), None)
        out["export_resnet18"] = time.perf_counter() - t
        lm_in = tuple(ember.from_numpy(a) for a in inputs["lstm_lm"])
        lm_proto = ember.onnx.export(e_lm, lm_in, None, input_names=["tokens", "h0", "c0"])
        sessions = {p: ort.InferenceSession(proto.SerializeToString(), opts,
                                            providers=["CPUExecutionProvider"])
                    for p, proto in (("res", res_proto), ("lm", lm_proto))}
        for case, arrays in inputs.items():
            s = sessions["lm" if case == "lstm_lm" else "res"]
            feed = {m.name: a for m, a in zip(s.get_inputs(), arrays)}
            out[case] = _time(lambda s=s, feed=feed: s.run(None, feed), reps, warmup)
    else:
        raise SystemExit(f"unknown --lib {lib}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", choices=["ort", "ember", "torch"], default="ort")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 repetitions (a smoke run)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print {case: seconds} as JSON")
    args = ap.parse_args(argv)
    reps, warmup = (2, 1) if args.quick else (args.reps, args.warmup)
    out = run(args.lib, reps, warmup, _threads(args))
    if args.json:
        print(json.dumps(out))
    else:
        for case, t in out.items():
            print(f"{args.lib:6s} {case:24s} {t * 1e3:9.2f} ms")


if __name__ == "__main__":
    main()
