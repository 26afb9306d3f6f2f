"""``DistributedSampler``: each of ``num_replicas`` processes gets its own share of indices."""

from __future__ import annotations

import math
from typing import Iterator

from ember.utils.data.dataset import Dataset
from ember.utils.data.sampler import Sampler

__all__ = ["DistributedSampler"]


def _default_group_info() -> tuple[int, int]:
    try:
        import ember.distributed as dist
    except ImportError:
        dist = None
    if dist is None or not dist.is_available() or not dist.is_initialized():
        raise RuntimeError("DistributedSampler: pass num_replicas and rank, or initialise "
                           "ember.distributed (init_process_group) first")
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(Sampler):
    """Restrict loading to this replica's share of the dataset.

    Every replica sees the same (seeded) permutation and takes every ``num_replicas``-th
    index starting at ``rank``. Without ``drop_last`` the index list is padded by repeating
    its start so all replicas get the same count; with it, the tail is dropped. Call
    :meth:`set_epoch` before each epoch so shuffling differs between epochs.

    Args:
        dataset: a sized dataset.
        num_replicas: number of processes (default: the process group's world size).
        rank: this process's rank (default: from the process group).
        shuffle: shuffle with seed ``seed + epoch``.
        seed: the shared seed (the same on every replica).
        drop_last: drop the tail instead of padding.

    Example::

        >>> from ember.utils.data import DataLoader
        >>> ds = list(range(10))
        >>> s = DistributedSampler(ds, num_replicas=2, rank=0, shuffle=False)
        >>> loader = DataLoader(ds, batch_size=8, sampler=s)
        >>> list(s)
        [0, 2, 4, 6, 8]
    """

    def __init__(self, dataset: Dataset, num_replicas: int | None = None,
                 rank: int | None = None, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            world, r = _default_group_info()
            num_replicas = world if num_replicas is None else num_replicas
            rank = r if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)  # type: ignore[arg-type]
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        import ember

        n = len(self.dataset)  # type: ignore[arg-type]
        if self.shuffle:
            g = ember.Generator().manual_seed(self.seed + self.epoch)
            indices = ember.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            pad = self.total_size - len(indices)
            if pad > 0:
                reps = math.ceil(pad / len(indices))
                indices += (indices * reps)[:pad]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which seeds the shuffle (``seed + epoch``) on every replica."""
        self.epoch = epoch
