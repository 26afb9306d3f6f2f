"""The same DDP script written for PyTorch (``import torch``): run with
``python -m ember.as_torch -m ember.distributed.run ... torch_ddp_script.py``."""

import argparse
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.net1 = nn.Linear(10, 10)
        self.relu = nn.ReLU()
        self.net2 = nn.Linear(10, 5)

    def forward(self, x):
        return self.net2(self.relu(self.net1(x)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    local_rank = int(os.environ["LOCAL_RANK"])
    world_size = int(os.environ["WORLD_SIZE"])
    dist.init_process_group(backend="gloo")
    rank = dist.get_rank()
    assert rank == int(os.environ["RANK"]) and dist.get_world_size() == world_size
    torch.manual_seed(0)
    x, y = torch.randn(64, 10), torch.randn(64, 5)
    ds = TensorDataset(x, y)
    sampler = DistributedSampler(ds)
    loader = DataLoader(ds, batch_size=8, sampler=sampler)
    model = DDP(ToyModel())
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
    # replicas stay identical
    w = model.module.net1.weight.detach().clone()
    dist.all_reduce(w, op=dist.ReduceOp.MAX)
    assert torch.equal(w, model.module.net1.weight.detach())
    if rank == 0:
        torch.save(model.state_dict(), os.path.join(os.environ["OUT_DIR"], "model.pt"))
    print(f"rank {rank} local_rank {local_rank} done on {torch.__name__}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
