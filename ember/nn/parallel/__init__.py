"""ember.nn.parallel: ``DistributedDataParallel`` (over ember.distributed), ``DataParallel``.

Example:
    >>> from ember.nn.parallel import DistributedDataParallel as DDP
"""

from ember.nn.parallel.data_parallel import DataParallel, data_parallel
from ember.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
