"""ember.utils.data: datasets, samplers and the DataLoader (PyTorch's torch.utils.data)."""

from ember.utils.data._utils.collate import default_collate, default_convert
from ember.utils.data._utils.worker import WorkerInfo, get_worker_info
from ember.utils.data.dataloader import DataLoader, _DatasetKind
from ember.utils.data.datapipes import (DataChunk, DFIterDataPipe, IterDataPipe, MapDataPipe,
                                        argument_validation, functional_datapipe,
                                        guaranteed_datapipes_determinism, non_deterministic,
                                        runtime_validation, runtime_validation_disabled)
from ember.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                      StackDataset, Subset, TensorDataset, random_split)
from ember.utils.data.distributed import DistributedSampler
from ember.utils.data.sampler import (BatchSampler, RandomSampler, Sampler,
                                      SequentialSampler, SubsetRandomSampler,
                                      WeightedRandomSampler)

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DFIterDataPipe", "DataChunk",
           "DataLoader", "Dataset", "IterDataPipe", "MapDataPipe", "argument_validation",
           "functional_datapipe", "guaranteed_datapipes_determinism", "non_deterministic",
           "runtime_validation", "runtime_validation_disabled",
           "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "_DatasetKind",
           "default_collate", "default_convert", "get_worker_info", "random_split"]
