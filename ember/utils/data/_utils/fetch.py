"""Fetchers: turn one sampler step (an index or a list of indices) into a collated batch."""

from __future__ import annotations

from typing import Any, Callable


class MapFetcher:
    """Fetch ``dataset[i]`` for each index (or ``__getitems__`` once) and collate."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.current: Any = None  # the sample being fetched, named in error messages
        self.stage = "fetch"

    def fetch(self, index) -> Any:
        ds = self.dataset
        self.stage = "fetch"
        if self.auto_collation:
            getitems = getattr(ds, "__getitems__", None)
            if getitems is not None:
                self.current = None
                data = getitems(index)
            else:
                data = []
                for i in index:
                    self.current = i
                    data.append(ds[i])
        else:
            self.current = index
            data = ds[index]
        self.stage = "collate"
        return self.collate_fn(data)


class IterableFetcher:
    """Take the next item (or the next ``len(index)`` items) of the dataset's iterator."""

    def __init__(self, dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False
        self.current: Any = None
        self.stage = "fetch"

    def fetch(self, index) -> Any:
        if self.ended:
            raise StopIteration
        self.stage = "fetch"
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        self.stage = "collate"
        return self.collate_fn(data)


def create_fetcher(iterable: bool, dataset, auto_collation: bool, collate_fn: Callable,
                   drop_last: bool):
    cls = IterableFetcher if iterable else MapFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
