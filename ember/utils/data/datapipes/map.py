"""Map-style DataPipes and the functional forms PyTorch registers on ``MapDataPipe``
(NOTE [ DataPipes in ember ] in ``datapipes/__init__.py``)."""

from __future__ import annotations

import copy
import warnings

from ember.utils.data.datapipes import DataChunk, MapDataPipe, functional_datapipe

__all__ = ["Batcher", "BatcherMapDataPipe", "Concater", "ConcaterMapDataPipe", "Mapper",
           "MapperMapDataPipe", "SequenceWrapper", "SequenceWrapperMapDataPipe", "Zipper",
           "ZipperMapDataPipe"]


class SequenceWrapperMapDataPipe(MapDataPipe):
    """Wrap a sequence (anything with ``__getitem__`` and ``__len__``) as a ``MapDataPipe``.

    Args:
        sequence: the source.
        deepcopy: keep a deep copy, so later changes to the source are not seen.

    Example:
        >>> from ember.utils.data.datapipes.map import SequenceWrapper
        >>> SequenceWrapper("abc")[1]
        'b'
    """

    def __init__(self, sequence, deepcopy=True):
        if deepcopy:
            try:
                self.sequence = copy.deepcopy(sequence)
            except TypeError:
                warnings.warn("The input sequence can not be deepcopied. Please be aware of "
                              "in-place modification would affect source data", stacklevel=2)
                self.sequence = sequence
        else:
            self.sequence = sequence

    def __getitem__(self, index):
        return self.sequence[index]

    def __len__(self):
        return len(self.sequence)


@functional_datapipe("map")
class MapperMapDataPipe(MapDataPipe):
    """Apply ``fn`` to each sample on access (``dp.map(fn)``).

    Args:
        datapipe: the source.
        fn: the function.

    Example:
        >>> from ember.utils.data.datapipes.map import SequenceWrapper
        >>> SequenceWrapper([1, 2]).map(lambda x: x * 3)[1]
        6
    """

    def __init__(self, datapipe, fn=lambda x: x):
        self.datapipe, self.fn = datapipe, fn

    def __len__(self):
        return len(self.datapipe)

    def __getitem__(self, index):
        return self.fn(self.datapipe[index])


@functional_datapipe("batch")
class BatcherMapDataPipe(MapDataPipe):
    """Group consecutive samples into batches (``dp.batch(n)``); index ``i`` is batch ``i``.

    Args:
        datapipe: the source.
        batch_size: samples per batch.
        drop_last: drop a last, smaller batch.
        wrapper_class: the batch type (default ``DataChunk``).

    Example:
        >>> from ember.utils.data.datapipes.map import SequenceWrapper
        >>> SequenceWrapper(range(5)).batch(2)[2]
        [4]
    """

    def __init__(self, datapipe, batch_size, drop_last=False, wrapper_class=DataChunk):
        if batch_size <= 0:
            raise AssertionError("Batch size is required to be larger than 0!")
        self.datapipe, self.batch_size = datapipe, batch_size
        self.drop_last, self.wrapper_class = drop_last, wrapper_class

    def __getitem__(self, index):
        batch = []
        indices = range(index * self.batch_size, (index + 1) * self.batch_size)
        try:
            for i in indices:
                batch.append(self.datapipe[i])
            return self.wrapper_class(batch)
        except IndexError as e:
            if not self.drop_last and len(batch) > 0:
                return self.wrapper_class(batch)
            raise IndexError(f"Index {index} is out of bound.") from e

    def __len__(self):
        n = len(self.datapipe)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _sized_sources(datapipes):
    """The sources of concat/zip: at least one, each a sized MapDataPipe (PyTorch's
    errors)."""
    if len(datapipes) == 0:
        raise ValueError("Expected at least one DataPipe, but got nothing")
    if not all(isinstance(dp, MapDataPipe) for dp in datapipes):
        raise TypeError("Expected all inputs to be `MapDataPipe`")
    if not all(hasattr(dp, "__len__") for dp in datapipes):
        raise TypeError("Expected all inputs to be `Sized`")
    return datapipes


@functional_datapipe("concat")
class ConcaterMapDataPipe(MapDataPipe):
    """The samples of several map-style DataPipes, indexed one after another
    (``dp.concat(*others)``).

    Args:
        *datapipes: the sources.

    Example:
        >>> from ember.utils.data.datapipes.map import SequenceWrapper
        >>> SequenceWrapper([1, 2]).concat(SequenceWrapper([3]))[2]
        3
    """

    def __init__(self, *datapipes):
        self.datapipes = _sized_sources(datapipes)

    def __getitem__(self, index):
        offset = 0
        for dp in self.datapipes:
            if index - offset < len(dp):
                return dp[index - offset]
            offset += len(dp)
        raise IndexError(f"Index {index} is out of range.")

    def __len__(self):
        return sum(len(dp) for dp in self.datapipes)


@functional_datapipe("zip")
class ZipperMapDataPipe(MapDataPipe):
    """Tuples of the samples of several map-style DataPipes, as long as the shortest
    (``dp.zip(*others)``).

    Args:
        *datapipes: the sources.

    Example:
        >>> from ember.utils.data.datapipes.map import SequenceWrapper
        >>> SequenceWrapper([1, 2]).zip(SequenceWrapper("abc"))[1]
        (2, 'b')
    """

    def __init__(self, *datapipes):
        self.datapipes = _sized_sources(datapipes)

    def __getitem__(self, index):
        res = []
        for dp in self.datapipes:
            try:
                res.append(dp[index])
            except IndexError as e:
                raise IndexError(f"Index {index} is out of range for one of the input "
                                 f"MapDataPipes {dp}.") from e
        return tuple(res)

    def __len__(self):
        return min(len(dp) for dp in self.datapipes)


# The short names PyTorch exports beside the full class names.
Batcher = BatcherMapDataPipe
Concater = ConcaterMapDataPipe
Mapper = MapperMapDataPipe
SequenceWrapper = SequenceWrapperMapDataPipe
Zipper = ZipperMapDataPipe
