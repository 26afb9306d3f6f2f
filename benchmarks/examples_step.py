"""Per-step training time of the examples in examples/, one framework per process.

Each example's own ``train_step`` (``update_policy`` for CartPole) runs on fixed batches of
the example's default shapes, under ember or, through ``examples/under_pytorch.py`` (which
rewrites only the import lines), under PyTorch. Warm-up steps are excluded; the figure per
example is the median seconds per step. Models start from each framework's own
initialisation with seed 0 (the per-step cost does not depend on the weights' values).

- ``char_lstm``: Embedding -> LSTM(256) -> Linear over the corpus's characters, batch 32 x
  64 characters, Adam, gradient clipping (the scheduler is left out: it is not per-step
  model work);
- ``vae_digits``: MLP VAE 64-256-256-16 / 8-256-256-64, batch 64, Adam;
- ``dcgan_digits``: one discriminator and one generator step (transposed convolutions,
  BatchNorm), batch 64, Adam;
- ``digits_cnn``: three 3x3 conv/BatchNorm/ReLU blocks with max pooling on 8x8, batch 64,
  AdamW;
- ``reinforce_cartpole``: one 200-step episode of the policy MLP on single observations
  (sampling from Categorical) against a stand-in environment with fixed-length episodes,
  then the REINFORCE update.

Run::

    python benchmarks/examples_step.py --lib ember                  # a table, one framework
    python benchmarks/ab.py examples_step --rounds 5                # ember vs torch, 1 thread
    python benchmarks/ab.py examples_step --rounds 5 -- --only dcgan_digits
    python benchmarks/ab.py examples_step --variant "new:--lib ember" \\
        --variant "old:--lib ember@/tmp/old"        # ember of another tree (a worktree)

``--threads N`` (default 1, as the examples run) sets the BLAS/OpenMP threads of both
frameworks: the environment variables before NumPy loads, and ``torch.set_num_threads``.
``--clock cpu`` times steps by the process's CPU time instead of the wall clock (steadier
while other jobs share the machine); ``--faults`` adds the minor page faults per step
(memory the step touches fresh: the kernel zeroes each new page).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

EXAMPLES = ("char_lstm", "vae_digits", "dcgan_digits", "digits_cnn", "reinforce_cartpole")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lib", choices=["ember", "torch"], default="ember")
    ap.add_argument("--only", default=None, help="comma-separated example names")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per example")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--threads", type=int, default=1, help="BLAS / intra-op threads")
    ap.add_argument("--json", action="store_true", help="print {example: seconds} as JSON")
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="time steps by the wall clock (default) or by this process's CPU "
                         "time (steadier on a shared machine; counts every thread)")
    ap.add_argument("--faults", action="store_true",
                    help="also print the minor page faults per step (fresh memory touched)")
    ap.add_argument("--profile", default=None, metavar="EXAMPLE",
                    help="run EXAMPLE's timed steps under cProfile and print the top entries")
    ap.add_argument("--op-profile", default=None, metavar="EXAMPLE",
                    help="run EXAMPLE's timed steps under the framework's profiler and print "
                         "its per-op table")
    return ap.parse_args(argv)


def _load(name, lib):
    """The example's module, imported as is (ember) or with its imports rewritten (torch)."""
    import importlib.util

    # ember from PYTHONPATH when set there (ab.py's LABEL:ARGS@PATH variants compare
    # trees), else from this checkout; under_pytorch from examples/
    if importlib.util.find_spec("ember") is None and ROOT not in sys.path:
        sys.path.append(ROOT)
    if os.path.join(ROOT, "examples") not in sys.path:
        sys.path.insert(0, os.path.join(ROOT, "examples"))
    if lib == "torch":
        import under_pytorch

        return under_pytorch.load_under_pytorch(name)
    spec = importlib.util.spec_from_file_location(
        f"_example_{name}", os.path.join(ROOT, "examples", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --------------------------------------------------------------------------- steps
# Each builder returns a no-argument callable that runs one training step of the example.


def _char_lstm(mod, rng):
    torch = mod.torch
    corpus = mod.load_corpus()
    vocab = len(set(corpus))
    model = mod.CharLSTM(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    xy = torch.from_numpy(rng.integers(0, vocab, (32, 65)))
    x, y = xy[:, :-1], xy[:, 1:]
    return lambda: mod.train_step(model, opt, x, y, 1.0)


def _vae_digits(mod, rng):
    torch = mod.torch
    model = mod.VAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.from_numpy(rng.random((64, 64), dtype="float32"))
    return lambda: mod.train_step(model, opt, x)


def _dcgan_digits(mod, rng):
    torch = mod.torch
    netG, netD = mod.Generator(), mod.Discriminator()
    netG.apply(mod.weights_init)
    netD.apply(mod.weights_init)
    optG = torch.optim.Adam(netG.parameters(), lr=5e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=5e-4, betas=(0.5, 0.999))
    criterion = torch.nn.BCEWithLogitsLoss()
    real = torch.from_numpy(rng.uniform(-1, 1, (64, 1, 8, 8)).astype("float32"))
    return lambda: mod.train_step(netG, netD, optG, optD, criterion, real)


def _digits_cnn(mod, rng):
    torch = mod.torch
    model = mod.DigitsNet()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    x = torch.from_numpy(rng.standard_normal((64, 1, 8, 8)).astype("float32"))
    y = torch.from_numpy(rng.integers(0, 10, 64))
    model.train()
    return lambda: mod.train_step(model, opt, x, y)


class _FixedLengthEnv:
    """CartPole's interface (reset/step) with random observations and 200-step episodes."""

    def __init__(self, rng, length=200):
        self.obs = rng.standard_normal((length + 1, 4)).astype("float32")
        self.length, self.t = length, 0

    def reset(self, seed=None):  # noqa: ARG002 - gymnasium's signature
        self.t = 0
        return self.obs[0], {}

    def step(self, action):  # noqa: ARG002 - gymnasium's signature
        self.t += 1
        return self.obs[self.t], 1.0, False, self.t >= self.length, {}


def _reinforce_cartpole(mod, rng):
    torch = mod.torch
    policy = mod.Policy()
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    env = _FixedLengthEnv(rng)

    def step():
        log_probs, rewards = mod.run_episode(env, policy)
        return mod.update_policy(opt, log_probs, rewards, 0.99)

    return step


def _minor_faults():
    """This process's minor page faults so far (``resource``; None where unavailable)."""
    try:
        import resource
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


BUILDERS = {"char_lstm": _char_lstm, "vae_digits": _vae_digits,
            "dcgan_digits": _dcgan_digits, "digits_cnn": _digits_cnn,
            "reinforce_cartpole": _reinforce_cartpole}


def main(argv=None):
    args = _parse(argv)
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = str(args.threads)  # before NumPy (and PyTorch) load
    import numpy as np

    if args.lib == "torch":
        import torch

        torch.set_num_threads(args.threads)
    names = args.only.split(",") if args.only else list(EXAMPLES)
    out, faults = {}, {}
    for name in names:
        mod = _load(name, args.lib)
        if args.lib == "torch":
            mod.torch.set_num_threads(args.threads)  # under_pytorch sets 1
        mod.torch.manual_seed(0)
        step = BUILDERS[name](mod, np.random.default_rng(0))
        for _ in range(args.warmup):
            step()
        if args.profile == name:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.steps):
                step()
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(35)
            continue
        if args.op_profile == name:
            with mod.torch.profiler.profile() as prof:
                for _ in range(args.steps):
                    step()
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=30))
            continue
        clock = time.process_time if args.clock == "cpu" else time.perf_counter
        flt0 = _minor_faults()
        times = []
        for _ in range(args.steps):
            t0 = clock()
            step()
            times.append(clock() - t0)
        out[name] = statistics.median(times)
        if args.faults and flt0 is not None:
            faults[name] = (_minor_faults() - flt0) / args.steps
    if args.json:
        import json

        print(json.dumps(out))
    else:
        for name, t in out.items():
            extra = f", {faults[name]:.0f} minor faults/step" if name in faults else ""
            print(f"{name:20s} {t * 1e3:8.2f} ms/step ({args.lib}, {args.threads} thread(s), "
                  f"{args.clock} clock{extra})")


if __name__ == "__main__":
    main()
