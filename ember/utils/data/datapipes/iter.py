"""Iterable-style DataPipes and the functional forms PyTorch registers on ``IterDataPipe``
(NOTE [ DataPipes in ember ] in ``datapipes/__init__.py``)."""

from __future__ import annotations

import copy
import warnings

from ember.utils.data.datapipes import DataChunk, IterDataPipe, functional_datapipe

__all__ = ["Batcher", "BatcherIterDataPipe", "Collator", "CollatorIterDataPipe", "Concater",
           "ConcaterIterDataPipe", "Filter", "FilterIterDataPipe", "IterableWrapper",
           "IterableWrapperIterDataPipe", "Mapper", "MapperIterDataPipe", "UnBatcher",
           "UnBatcherIterDataPipe", "Zipper", "ZipperIterDataPipe"]


class IterableWrapperIterDataPipe(IterDataPipe):
    """Wrap an iterable as an ``IterDataPipe``.

    Args:
        iterable: the source.
        deepcopy: iterate over a deep copy made at each iteration's start, so changes to the
            source during an epoch are not seen (when the source cannot be copied, it is used
            as is, with a warning).

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper(range(3)))
        [0, 1, 2]
    """

    def __init__(self, iterable, deepcopy=True):
        self.iterable = iterable
        self.deepcopy = deepcopy

    def __iter__(self):
        source = self.iterable
        if self.deepcopy:
            try:
                source = copy.deepcopy(self.iterable)
            except TypeError:
                warnings.warn("The input iterable can not be deepcopied, please be aware of "
                              "in-place modification would affect source data.", stacklevel=2)
        yield from source

    def __len__(self):
        if hasattr(self.iterable, "__len__"):
            return len(self.iterable)
        raise TypeError(f"{type(self).__name__} instance doesn't have valid length")


def _apply_cols(fn, data, input_col, output_col):
    if input_col is None:
        if output_col is not None:
            raise ValueError("`output_col` must be None when `input_col` is None.")
        return fn(data)
    if isinstance(input_col, (list, tuple)):
        res = fn(*(data[c] for c in input_col))
    else:
        res = fn(data[input_col])
    if isinstance(data, tuple):
        t_flag, data = True, list(data)
    else:
        t_flag = False
        data = copy.copy(data)
    if output_col is None:
        if isinstance(input_col, (list, tuple)):
            data[input_col[0]] = res
            for idx in sorted(input_col[1:], reverse=True):
                del data[idx]
        else:
            data[input_col] = res
    else:
        if output_col == -1:
            data.append(res)
        else:
            data[output_col] = res
    return tuple(data) if t_flag else data


@functional_datapipe("map")
class MapperIterDataPipe(IterDataPipe):
    """Apply ``fn`` to each sample (``dp.map(fn)``).

    Args:
        datapipe: the source.
        fn: the function.
        input_col: apply ``fn`` to this index/key of each sample (or these, as arguments).
        output_col: where the result goes (default: replaces ``input_col``; -1 appends).

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper([(1, 2), (3, 4)]).map(lambda v: v * 10, input_col=1))
        [(1, 20), (3, 40)]
    """

    def __init__(self, datapipe, fn, input_col=None, output_col=None):
        if input_col is None and output_col is not None:
            raise ValueError("`output_col` must be None when `input_col` is None.")
        if isinstance(output_col, (list, tuple)):
            if len(output_col) > 1:
                raise ValueError("`output_col` must be a single-element list or tuple")
            output_col = output_col[0]
        self.datapipe, self.fn = datapipe, fn
        self.input_col, self.output_col = input_col, output_col

    def __iter__(self):
        for d in self.datapipe:
            yield _apply_cols(self.fn, d, self.input_col, self.output_col)

    def __len__(self):
        if hasattr(self.datapipe, "__len__"):
            return len(self.datapipe)
        raise TypeError(f"{type(self).__name__} instance doesn't have valid length")


@functional_datapipe("filter")
class FilterIterDataPipe(IterDataPipe):
    """Keep the samples for which ``filter_fn`` is True (``dp.filter(fn)``).

    Args:
        datapipe: the source.
        filter_fn: returns a bool.
        input_col: give ``filter_fn`` this index/key of each sample (or these).

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper(range(5)).filter(lambda x: x % 2 == 0))
        [0, 2, 4]
    """

    def __init__(self, datapipe, filter_fn, input_col=None):
        self.datapipe, self.filter_fn, self.input_col = datapipe, filter_fn, input_col

    def __iter__(self):
        for d in self.datapipe:
            if self.input_col is None:
                keep = self.filter_fn(d)
            elif isinstance(self.input_col, (list, tuple)):
                keep = self.filter_fn(*(d[c] for c in self.input_col))
            else:
                keep = self.filter_fn(d[self.input_col])
            if not isinstance(keep, bool):
                raise ValueError("Boolean output is required for `filter_fn` of "
                                 f"FilterIterDataPipe, got {type(keep)}.")
            if keep:
                yield d


@functional_datapipe("batch")
class BatcherIterDataPipe(IterDataPipe):
    """Group consecutive samples into batches (``dp.batch(n)``).

    Args:
        datapipe: the source.
        batch_size: samples per batch.
        drop_last: drop a last, smaller batch.
        wrapper_class: the batch type (default ``DataChunk``).

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper(range(5)).batch(2))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, datapipe, batch_size, drop_last=False, wrapper_class=DataChunk):
        if batch_size <= 0:
            raise AssertionError("Batch size is required to be larger than 0!")
        self.datapipe, self.batch_size = datapipe, batch_size
        self.drop_last, self.wrapper_class = drop_last, wrapper_class

    def __iter__(self):
        batch = []
        for x in self.datapipe:
            batch.append(x)
            if len(batch) == self.batch_size:
                yield self.wrapper_class(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.wrapper_class(batch)

    def __len__(self):
        if not hasattr(self.datapipe, "__len__"):
            raise TypeError(f"{type(self).__name__} instance doesn't have valid length")
        n = len(self.datapipe)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


@functional_datapipe("unbatch")
class UnBatcherIterDataPipe(IterDataPipe):
    """Undo batching (``dp.unbatch(level)``): yield the items of each sample,
    ``unbatch_level`` levels deep (-1: all the way down).

    Args:
        datapipe: the source of batches.
        unbatch_level: how many levels to flatten.

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper([[[1], [2, 5]], [[3]]]).unbatch(2))
        [1, 2, 5, 3]
    """

    def __init__(self, datapipe, unbatch_level=1):
        self.datapipe, self.unbatch_level = datapipe, unbatch_level

    def __iter__(self):
        for element in self.datapipe:
            yield from self._dive(element, self.unbatch_level)

    def _dive(self, element, level):
        if level < -1:
            raise ValueError("unbatch_level must be -1 or >= 0")
        if level == -1:
            if isinstance(element, (list, DataChunk)):
                for item in element:
                    yield from self._dive(item, -1)
            else:
                yield element
        elif level == 0:
            yield element
        elif isinstance(element, (list, DataChunk)):
            for item in element:
                yield from self._dive(item, level - 1)
        else:
            raise IndexError(f"unbatch_level {self.unbatch_level} exceeds the depth of the "
                             "DataPipe")


@functional_datapipe("collate")
class CollatorIterDataPipe(MapperIterDataPipe):
    """Collate each sample (usually a batch) with ``collate_fn`` (``dp.collate()``).

    Args:
        datapipe: the source.
        conversion: unused by ember (PyTorch's DataFrame conversion); must be None or a
            callable used instead of ``collate_fn``.
        collate_fn: default ``default_collate``.

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper([1, 2, 3]).batch(3).collate())
        [tensor([1, 2, 3])]
    """

    def __init__(self, datapipe, conversion=None, collate_fn=None):
        from ember.utils.data._utils.collate import default_collate

        if conversion is not None:
            if not callable(conversion):
                raise NotImplementedError("collate(): a dict of column conversions (ember has no "
                                          "DataFrame collation)")
            collate_fn = conversion
        super().__init__(datapipe, fn=collate_fn if collate_fn is not None else default_collate)


@functional_datapipe("concat")
class ConcaterIterDataPipe(IterDataPipe):
    """Yield the samples of several DataPipes one after another (``dp.concat(*others)``).

    Args:
        *datapipes: the sources.

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper([0, 1]).concat(IterableWrapper([2])))
        [0, 1, 2]
    """

    def __init__(self, *datapipes):
        if len(datapipes) == 0:
            raise ValueError("Expected at least one DataPipe, but got nothing")
        if not all(isinstance(dp, IterDataPipe) for dp in datapipes):
            raise TypeError("Expected all inputs to be `IterDataPipe`")
        self.datapipes = datapipes

    def __iter__(self):
        for dp in self.datapipes:
            yield from dp

    def __len__(self):
        if all(hasattr(dp, "__len__") for dp in self.datapipes):
            return sum(len(dp) for dp in self.datapipes)
        raise TypeError(f"{type(self).__name__} instance doesn't have valid length")


@functional_datapipe("zip")
class ZipperIterDataPipe(IterDataPipe):
    """Yield tuples of the samples of several DataPipes, stopping with the shortest
    (``dp.zip(*others)``).

    Args:
        *datapipes: the sources.

    Example:
        >>> from ember.utils.data.datapipes.iter import IterableWrapper
        >>> list(IterableWrapper([0, 1, 2]).zip(IterableWrapper("ab")))
        [(0, 'a'), (1, 'b')]
    """

    def __init__(self, *datapipes):
        if not all(isinstance(dp, IterDataPipe) for dp in datapipes):
            raise TypeError("All inputs are required to be `IterDataPipe` for "
                            "`ZipIterDataPipe`.")
        self.datapipes = datapipes

    def __iter__(self):
        yield from zip(*self.datapipes)

    def __len__(self):
        if all(hasattr(dp, "__len__") for dp in self.datapipes):
            return min(len(dp) for dp in self.datapipes)
        raise TypeError(f"{type(self).__name__} instance doesn't have valid length")


# The short names PyTorch exports beside the full class names.
Batcher = BatcherIterDataPipe
Collator = CollatorIterDataPipe
Concater = ConcaterIterDataPipe
Filter = FilterIterDataPipe
IterableWrapper = IterableWrapperIterDataPipe
Mapper = MapperIterDataPipe
UnBatcher = UnBatcherIterDataPipe
Zipper = ZipperIterDataPipe
