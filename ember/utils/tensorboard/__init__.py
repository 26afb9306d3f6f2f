"""TensorBoard logging (PyTorch's ``torch.utils.tensorboard``) with no TensorFlow, TensorBoard
or protobuf dependency: ``SummaryWriter`` writes the event-file format directly.

Example:
    >>> from ember.utils.tensorboard import SummaryWriter
    >>> writer = SummaryWriter("runs/exp1")  # doctest: +SKIP
    >>> writer.add_scalar("loss", 0.5, 1)    # doctest: +SKIP
"""

from ember.utils.tensorboard.writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
