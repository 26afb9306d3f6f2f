"""One independently started rank (not under a multi-rank mpiexec): env:// rendezvous.

argv: out_dir mode [env|tcp|file] (the init_method). The test starts world_size of these,
with MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE set, either bare (what mp.spawn makes)
or each under ``mpiexec -n 1``.
mode "sum": all_reduce the ranks and report; "kill"/"kill0": rank 1 / rank 0 SIGKILLs itself
after the join and the survivors report how their next collective failed.
Each rank writes out_dir/rank<RANK>.json.
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
how = sys.argv[3] if len(sys.argv) > 3 else "env"
rank = int(os.environ["RANK"])
init = {"env": "env://",
        "tcp": f"tcp://{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}",
        "file": f"file://{os.path.join(out_dir, 'store')}"}[how]
kw = {} if how == "env" else {"rank": rank, "world_size": int(os.environ["WORLD_SIZE"])}
result = {}
try:
    dist.init_process_group("gloo", init_method=init, timeout=datetime.timedelta(seconds=4),
                            **kw)
    result["rank"], result["size"] = dist.get_rank(), dist.get_world_size()
    t = ember.tensor([float(dist.get_rank() + 1)])
    dist.all_reduce(t)
    result["sum"] = t.item()
    if mode in ("kill", "kill0"):
        victim = 1 if mode == "kill" else 0
        if rank == victim:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.2)
        t0 = time.monotonic()
        try:
            dist.all_reduce(ember.ones(10))
            result["after"] = "no error"
        except Exception as e:  # noqa: BLE001 - reported to the test
            result["after"] = f"{type(e).__name__}: {e}"
        result["elapsed"] = time.monotonic() - t0
except Exception as e:  # noqa: BLE001 - reported to the test
    result["error"] = f"{type(e).__name__}: {e}"
with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
    json.dump(result, f)
