"""Datasets, random_split and samplers (ember.utils.data)."""

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, ChainDataset, ConcatDataset, Dataset,
                              DistributedSampler, IterableDataset, RandomSampler,
                              SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                              TensorDataset, WeightedRandomSampler, random_split)


class Range(Dataset):
    def __init__(self, n, start=0):
        self.n, self.start = n, start

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self.start + i


class Stream(IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def gen(seed):
    return ember.Generator().manual_seed(seed)


# ---------------------------------------------------------------- datasets
def test_tensor_dataset():
    x, y = ember.arange(12.0).reshape(6, 2), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8.0, 9.0] and b.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch"):
        TensorDataset(x, ember.arange(5))


def test_concat_dataset():
    ds = ConcatDataset([Range(3), Range(0), Range(4, start=10)])
    assert len(ds) == 7 and ds.cumulative_sizes == [3, 3, 7]
    assert [ds[i] for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert ds[-1] == 13 and ds[-7] == 0
    with pytest.raises(ValueError, match="absolute value"):
        ds[-8]
    with pytest.raises(AssertionError, match="empty"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="IterableDataset"):
        ConcatDataset([Range(2), Stream([1])])
    both = Range(2) + Range(2, start=5)
    assert isinstance(both, ConcatDataset) and list(both[i] for i in range(4)) == [0, 1, 5, 6]


def test_chain_dataset():
    ch = ChainDataset([Stream([1, 2]), Stream([3])])
    assert list(ch) == [1, 2, 3] and len(ch) == 3
    assert list(Stream([1]) + Stream([2])) == [1, 2]
    with pytest.raises(AssertionError):
        list(ChainDataset([Range(2)]))


def test_subset():
    s = Subset(Range(10), [9, 3, 5])
    assert len(s) == 3 and [s[i] for i in range(3)] == [9, 3, 5]
    assert s.__getitems__([2, 0]) == [5, 9]

    class Batched(Range):
        def __getitems__(self, idx):
            return [("batched", i) for i in idx]

    assert Subset(Batched(10), [4, 6]).__getitems__([1]) == [("batched", 6)]


def test_stack_dataset():
    tup = StackDataset(Range(3), Range(3, start=100))
    assert tup[1] == (1, 101) and len(tup) == 3
    d = StackDataset(a=Range(2), b=Range(2, start=7))
    assert d[1] == {"a": 1, "b": 8}
    assert d.__getitems__([0, 1]) == [{"a": 0, "b": 7}, {"a": 1, "b": 8}]
    assert tup.__getitems__([2]) == [(2, 102)]
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(Range(2), Range(3))
    with pytest.raises(ValueError):
        StackDataset(Range(2), b=Range(2))


def test_random_split_lengths_and_fractions():
    ds = Range(10)
    a, b = random_split(ds, [3, 7], generator=gen(0))
    assert len(a) == 3 and len(b) == 7
    assert sorted([a[i] for i in range(3)] + [b[i] for i in range(7)]) == list(range(10))
    parts = random_split(ds, [1 / 3, 1 / 3, 1 / 3], generator=gen(0))
    assert [len(p) for p in parts] == [4, 3, 3]  # remainder handed out from the first
    # same generator seed -> same split
    c, _ = random_split(ds, [3, 7], generator=gen(0))
    assert list(c.indices) == list(a.indices)
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [3, 3])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Range(2), [0.9, 0.1])


# ---------------------------------------------------------------- samplers
def test_sequential_and_random_sampler():
    assert list(SequentialSampler(Range(4))) == [0, 1, 2, 3]
    s = RandomSampler(Range(20), generator=gen(1))
    first = list(s)
    assert sorted(first) == list(range(20)) and len(s) == 20
    assert first != list(range(20))
    assert list(RandomSampler(Range(20), generator=gen(1))) == first
    # num_samples > n without replacement: whole permutations, then a partial one
    s = list(RandomSampler(Range(5), num_samples=12, generator=gen(0)))
    assert len(s) == 12 and sorted(s[:5]) == sorted(s[5:10]) == list(range(5))
    r = list(RandomSampler(Range(3), replacement=True, num_samples=100, generator=gen(0)))
    assert len(r) == 100 and set(r) == {0, 1, 2}
    # unseeded: reproducible through the global generator
    ember.manual_seed(3)
    a = list(RandomSampler(Range(30)))
    ember.manual_seed(3)
    assert list(RandomSampler(Range(30))) == a
    with pytest.raises(TypeError, match="replacement"):
        RandomSampler(Range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(Range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples"):
        RandomSampler(Range(0))


def test_subset_random_sampler():
    s = SubsetRandomSampler([10, 20, 30, 40], generator=gen(0))
    out = list(s)
    assert sorted(out) == [10, 20, 30, 40] and len(s) == 4


def test_weighted_random_sampler():
    s = WeightedRandomSampler([0.0, 1.0, 3.0], 4000, generator=gen(0))
    counts = collections.Counter(s)
    assert counts[0] == 0 and abs(counts[2] / 4000 - 0.75) < 0.05
    no_rep = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False, generator=gen(0)))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError):
        WeightedRandomSampler([1.0], 1, replacement="yes")
    with pytest.raises(ValueError):
        WeightedRandomSampler([[1.0]], 1)


def test_batch_sampler():
    seq = SequentialSampler(Range(7))
    assert list(BatchSampler(seq, 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(seq, 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(seq, 3, False)) == 3 and len(BatchSampler(seq, 3, True)) == 2
    assert list(BatchSampler(range(4), 2, False)) == [[0, 1], [2, 3]]
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="batch_size"):
            BatchSampler(seq, bad, False)
    with pytest.raises(ValueError, match="drop_last"):
        BatchSampler(seq, 2, 1)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                  (2, 4, False), (7, 2, True)])
def test_distributed_sampler_partitions(n, replicas, drop_last):
    shards = [list(DistributedSampler(Range(n), replicas, r, shuffle=False,
                                      drop_last=drop_last)) for r in range(replicas)]
    lengths = {len(s) for s in shards}
    assert len(lengths) == 1  # every replica gets the same count
    k = lengths.pop()
    assert k == len(DistributedSampler(Range(n), replicas, 0, drop_last=drop_last))
    flat = sorted(sum(shards, []))
    if drop_last:
        assert k == n // replicas and len(set(flat)) == len(flat)
    else:
        assert set(flat) == set(range(n))  # all covered, padding repeats the start


def test_distributed_sampler_shuffle_and_epochs():
    s0 = DistributedSampler(Range(20), 2, 0, seed=5)
    s1 = DistributedSampler(Range(20), 2, 1, seed=5)
    e0 = list(s0)
    assert sorted(e0 + list(s1)) == list(range(20))  # replicas agree on the permutation
    s0.set_epoch(1)
    assert list(s0) != e0
    s0.set_epoch(0)
    assert list(s0) == e0
    with pytest.raises(ValueError, match="Invalid rank"):
        DistributedSampler(Range(4), 2, 2)


def test_samplers_match_torch():
    torch = pytest.importorskip("torch")
    tdata = torch.utils.data
    for n, bs, dl in [(10, 3, False), (10, 3, True), (4, 8, False)]:
        ours = list(BatchSampler(SequentialSampler(Range(n)), bs, dl))
        theirs = list(tdata.BatchSampler(tdata.SequentialSampler(range(n)), bs, dl))
        assert ours == theirs
    for n, rep, dl in [(10, 3, False), (10, 3, True), (11, 4, False), (3, 5, False)]:
        for r in range(rep):
            ours = list(DistributedSampler(Range(n), rep, r, shuffle=False, drop_last=dl))
            theirs = list(tdata.DistributedSampler(range(n), rep, r, shuffle=False,
                                                   drop_last=dl))
            assert ours == theirs
    parts_t = tdata.random_split(range(10), [1 / 3] * 3)
    parts_e = random_split(Range(10), [1 / 3] * 3)
    assert [len(p) for p in parts_e] == [len(p) for p in parts_t]


def test_weighted_sampler_numpy_weights():
    s = WeightedRandomSampler(np.array([0.0, 0.0, 1.0]), 5, generator=gen(0))
    assert list(s) == [2] * 5
