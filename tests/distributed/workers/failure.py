"""Run under ``mpiexec -disable-auto-cleanup -n 2``: one rank dies, the other must fail fast.

argv: out_dir mode, where mode is "raise" (rank 1 dies of an uncaught exception), "kill"
(rank 1 is SIGKILLed) or "kill0" (rank 0, the store's host, is SIGKILLed). The surviving rank
writes {"error": type, "message": str, "elapsed": seconds} to out_dir/survivor.json.
"""

import datetime
import json
import os
import signal
import sys
import time

import ember
import ember.distributed as dist

out_dir, mode = sys.argv[1], sys.argv[2]
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=4))
R = dist.get_rank()
dist.all_reduce(ember.ones(2))  # everyone is up
victim = 0 if mode == "kill0" else 1
if R == victim:
    if mode == "raise":
        raise ValueError("boom on purpose")
    os.kill(os.getpid(), signal.SIGKILL)
time.sleep(0.2)
t0 = time.monotonic()
try:
    dist.all_reduce(ember.ones(1000))
    result = {"error": None, "message": "", "elapsed": time.monotonic() - t0}
except Exception as e:  # noqa: BLE001 - reported to the test
    result = {"error": type(e).__name__, "message": str(e), "elapsed": time.monotonic() - t0}
with open(os.path.join(out_dir, "survivor.json"), "w") as f:
    json.dump(result, f)
