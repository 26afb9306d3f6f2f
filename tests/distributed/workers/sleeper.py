"""For the Ctrl-C test: each rank records its pid, then waits in a collective forever."""

import os
import sys
import time

import ember
import ember.distributed as dist

dist.init_process_group("gloo")
with open(os.path.join(sys.argv[1], f"pid{dist.get_rank()}"), "w") as f:
    f.write(str(os.getpid()))
if dist.get_rank() == 0:
    while True:
        time.sleep(0.1)
dist.all_reduce(ember.ones(1))  # waits for rank 0, which never comes
