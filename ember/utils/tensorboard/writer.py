"""``SummaryWriter``: PyTorch's ``torch.utils.tensorboard`` writer, writing real TensorBoard
event files without TensorFlow or the tensorboard package (see NOTE [ Event files ])."""

from __future__ import annotations

import math
import os
import socket
import time
from datetime import datetime
from itertools import count
from typing import Any

import numpy as np

from ember.utils.tensorboard import _proto as pb

__all__ = ["SummaryWriter", "FileWriter"]

_UID = count()


def _to_numpy(x: Any) -> np.ndarray:
    data = getattr(x, "_data", None)  # an ember Tensor: read its array, whatever requires_grad
    if isinstance(data, np.ndarray):
        return data
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, say
        x = x.detach().cpu()
    return np.asarray(x)


def _to_float(x: Any) -> float:
    if hasattr(x, "item"):
        return float(x.item())
    return float(x)


class FileWriter:
    """Append events to one ``events.out.tfevents.*`` file in ``log_dir``: the low-level
    writer under ``SummaryWriter`` (``writer.file_writer``).

    Events are queued and written when ``max_queue`` are pending, when ``flush_secs`` have
    passed since the last write, on ``flush()`` and on ``close()``.

    Args:
        log_dir: the directory (created if missing).
        max_queue: events kept in memory before a write.
        flush_secs: seconds after which a new event triggers a write.
        filename_suffix: appended to the event file's name.

    Example:
        >>> import os
        >>> from ember.utils.tensorboard import FileWriter
        >>> w = FileWriter("runs/raw")
        >>> os.path.basename(w.path).startswith("events.out.tfevents.")
        True
        >>> w.close()
    """

    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        self.log_dir = str(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_UID)}{filename_suffix}")
        self.path = os.path.join(self.log_dir, name)
        self._file = open(self.path, "wb")
        self._queue: list[bytes] = []
        self.max_queue, self.flush_secs = max_queue, flush_secs
        self._last_flush = time.time()
        self.add_event(pb.event(time.time(), file_version="brain.Event:2"))
        self.flush()  # the header goes out at once, so TensorBoard sees the run

    def get_logdir(self) -> str:
        return self.log_dir

    def add_event(self, event: bytes) -> None:
        if self._file is None:
            raise RuntimeError(f"FileWriter: {self.path} is closed")
        self._queue.append(pb.tfrecord(event))
        if len(self._queue) >= self.max_queue or time.time() - self._last_flush >= \
                self.flush_secs:
            self.flush()

    def add_summary(self, summary: bytes, global_step: int | None = None,
                    walltime: float | None = None) -> None:
        self.add_event(pb.event(time.time() if walltime is None else walltime,
                                int(global_step or 0), summary=summary))

    def flush(self) -> None:
        if self._file is None:
            return
        if self._queue:
            self._file.write(b"".join(self._queue))
            self._queue.clear()
        self._file.flush()
        self._last_flush = time.time()

    def close(self) -> None:
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None

    def reopen(self) -> None:
        if self._file is None:
            self._file = open(self.path, "ab")


class SummaryWriter:
    """Write scalars, histograms, images, text and hyperparameters for TensorBoard.

    Args:
        log_dir: directory for the event files; default ``runs/<date>_<host><comment>``.
        comment: suffix of the default ``log_dir``.
        purge_step: write a "session start" event at this step, so TensorBoard discards
            events at later steps left by a crashed run.
        max_queue: pending events before a write.
        flush_secs: seconds between writes.
        filename_suffix: appended to event file names.

    Example:
        >>> with SummaryWriter("runs/demo") as w:  # doctest: +SKIP
        ...     for step in range(3):
        ...         w.add_scalar("loss", 1.0 / (step + 1), step)
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "",
                 purge_step: int | None = None, max_queue: int = 10, flush_secs: int = 120,
                 filename_suffix: str = "") -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self.purge_step, self.max_queue = purge_step, max_queue
        self.flush_secs, self.filename_suffix = flush_secs, filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] = {}
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        if self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(pb.event(time.time(), self.purge_step,
                                                    session_log=pb.session_log_start()))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """Return the directory the event files go to."""
        return self.log_dir

    # -- scalars -------------------------------------------------------------------------

    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None,
                   walltime: float | None = None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        """Log one number.

        Args:
            tag: series name (``"loss/train"`` groups under ``loss``).
            scalar_value: a number or a one-element tensor/array.
            global_step: the x-axis value.
            walltime: event time in seconds (default now).
            new_style: write a tensor summary (the scalars plugin's newer format).
            double_precision: with ``new_style``, keep float64.

        Example:
            >>> writer.add_scalar("loss", 0.25, global_step=10)  # doctest: +SKIP
        """
        v = _to_float(scalar_value)
        if new_style:
            t = (pb.tensor(pb.DT_DOUBLE, (), double_val=[v]) if double_precision
                 else pb.tensor(pb.DT_FLOAT, (), float_val=[v]))
            val = pb.value(tag, tensor_=t, metadata_=pb.metadata("scalars"))
        else:
            val = pb.value(tag, simple_value=v)
        self._get_file_writer().add_summary(pb.summary(val), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any],
                    global_step: int | None = None, walltime: float | None = None) -> None:
        """Log several series on one chart; each goes to the run ``<log_dir>/<main_tag>_<tag>``.

        Example:
            >>> writer.add_scalars("loss", {"train": 0.3, "val": 0.4}, 5)  # doctest: +SKIP
        """
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, v in tag_scalar_dict.items():
            path = os.path.join(base, main_tag.replace("/", "_") + "_" + tag)
            fw = self.all_writers.get(path)
            if fw is None:
                fw = FileWriter(path, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[path] = fw
            fw.add_summary(pb.summary(pb.value(main_tag, simple_value=_to_float(v))),
                           global_step, walltime)

    # -- histograms ----------------------------------------------------------------------

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None,
                      bins: Any = "tensorflow", walltime: float | None = None,
                      max_bins: int | None = None) -> None:
        """Log the distribution of ``values``.

        Args:
            tag: series name.
            values: tensor or array (flattened).
            global_step: the x-axis value.
            bins: ``'tensorflow'`` (TensorFlow's exponential buckets), any ``np.histogram``
                bins argument (an int, edges, ``'auto'``, ...).
            walltime: event time.
            max_bins: merge neighbouring buckets down to at most this many.

        Example:
            >>> writer.add_histogram("weights", ember.randn(1000), 0)  # doctest: +SKIP
        """
        x = _to_numpy(values).astype(np.float64).ravel()
        if x.size == 0:
            raise ValueError(f"add_histogram({tag!r}): the input has no element")
        if bins == "tensorflow":
            bins = _tf_bucket_edges()
        counts, edges = np.histogram(x, bins=bins)
        if max_bins is not None and len(counts) > max_bins:
            k = math.ceil(len(counts) / max_bins)
            counts = np.concatenate([counts, np.zeros((-len(counts)) % k, counts.dtype)])
            counts = counts.reshape(-1, k).sum(1)
            edges = edges[::k] if (len(edges) - 1) % k == 0 else np.append(edges[::k],
                                                                            edges[-1])
        nz = np.nonzero(counts)[0]
        first, last = (int(nz[0]), int(nz[-1])) if nz.size else (0, len(counts) - 1)
        # Keep one empty bucket in front, so the first bucket's left edge is known.
        limits = np.concatenate([[edges[first]], edges[first + 1:last + 2]])
        kept = np.concatenate([[0.0], counts[first:last + 1].astype(np.float64)])
        histo = pb.histogram(x.min(), x.max(), x.size, x.sum(), float(x @ x), limits, kept)
        self._get_file_writer().add_summary(pb.summary(pb.value(tag, histo=histo)),
                                            global_step, walltime)

    # -- images --------------------------------------------------------------------------

    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None,
                  walltime: float | None = None, dataformats: str = "CHW") -> None:
        """Log an image: float values in [0, 1] or uint8 in [0, 255].

        Args:
            tag: series name.
            img_tensor: (C, H, W) by default, with C in 1, 3, 4.
            global_step: the x-axis value.
            walltime: event time.
            dataformats: ``'CHW'``, ``'HWC'``, ``'HW'`` or ``'WH'``.

        Example:
            >>> writer.add_image("sample", ember.rand(3, 8, 8), 0)  # doctest: +SKIP
        """
        hwc = _to_hwc_uint8(_to_numpy(img_tensor), dataformats.upper(), "add_image")
        self._write_image(tag, hwc, global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None,
                   walltime: float | None = None, dataformats: str = "NCHW") -> None:
        """Log a batch of images tiled in a grid (8 per row).

        Example:
            >>> writer.add_images("batch", ember.rand(16, 1, 8, 8), 0)  # doctest: +SKIP
        """
        arr = _to_numpy(img_tensor)
        fmt = dataformats.upper()
        if arr.ndim != 4 or sorted(fmt) != sorted("NCHW"):
            raise ValueError(f"add_images(): expected a 4-d batch in {dataformats}, got shape "
                             f"{arr.shape}")
        arr = np.transpose(arr, [fmt.index(c) for c in "NCHW"])
        n, c, h, w = arr.shape
        cols = min(n, 8)
        rows = math.ceil(n / cols)
        grid = np.zeros((c, h * rows, w * cols), dtype=arr.dtype)
        for i in range(n):
            r, q = divmod(i, cols)
            grid[:, r * h:(r + 1) * h, q * w:(q + 1) * w] = arr[i]
        self._write_image(tag, _to_hwc_uint8(grid, "CHW", "add_images"), global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None,
                   close: bool = True, walltime: float | None = None) -> None:
        """Render a matplotlib figure (or a list of them) and log it as an image."""
        figures = figure if isinstance(figure, list) else [figure]
        images = []
        for fig in figures:
            fig.canvas.draw()
            images.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
            if close:
                import matplotlib.pyplot as plt

                plt.close(fig)
        if len(images) == 1:
            self._write_image(tag, images[0], global_step, walltime)
        else:
            self.add_images(tag, np.stack(images), global_step, walltime, dataformats="NHWC")

    def _write_image(self, tag: str, hwc: np.ndarray, global_step, walltime) -> None:
        h, w, c = hwc.shape
        img = pb.image(h, w, c, pb.encode_png(np.ascontiguousarray(hwc)))
        self._get_file_writer().add_summary(pb.summary(pb.value(tag, image=img)), global_step,
                                            walltime)

    # -- text and hyperparameters --------------------------------------------------------

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Log a (Markdown) string; it appears under ``<tag>/text_summary``.

        Example:
            >>> writer.add_text("notes", "lr **0.1**", 0)  # doctest: +SKIP
        """
        t = pb.tensor(pb.DT_STRING, (1,), string_val=[text_string.encode("utf-8")])
        val = pb.value(tag + "/text_summary", tensor_=t, metadata_=pb.metadata("text"))
        self._get_file_writer().add_summary(pb.summary(val), global_step, walltime)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list] | None = None,
                    run_name: str | None = None, global_step: int | None = None) -> None:
        """Log one trial's hyperparameters and final metrics for TensorBoard's HParams tab.

        They go to a sub-run ``<log_dir>/<run_name>`` (default: the current time), with each
        metric also written there as a scalar.

        Args:
            hparam_dict: name -> bool, str, number or one-element tensor.
            metric_dict: name -> number; the names are scalar tags.
            hparam_domain_discrete: name -> the list of values it can take.
            run_name: sub-run name.
            global_step: step of the metric scalars.

        Example:
            >>> writer.add_hparams({"lr": 0.1}, {"hparam/accuracy": 0.9})  # doctest: +SKIP
        """
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        hparam_domain_discrete = hparam_domain_discrete or {}
        infos, start = b"", b""
        for k, v in hparam_dict.items():
            if v is None:
                continue
            if hasattr(v, "item") and not isinstance(v, (bool, int, float, str)):
                v = v.item()
            if not isinstance(v, (bool, int, float, str)):
                raise ValueError(f"add_hparams(): value of hparam {k!r} must be a bool, str, "
                                 f"number or one-element tensor, got {type(v).__name__}")
            kind = 2 if isinstance(v, bool) else 1 if isinstance(v, str) else 3
            info = pb.f_bytes(1, k) + pb.f_varint(4, kind)
            if k in hparam_domain_discrete:
                info += pb.f_bytes(5, b"".join(pb.f_bytes(1, pb.pb_value(d))
                                               for d in hparam_domain_discrete[k]))
            infos += pb.f_bytes(4, info)
            start += pb.f_bytes(1, pb.f_bytes(1, k) + pb.f_bytes(2, pb.pb_value(v)))
        for k in metric_dict:
            infos += pb.f_bytes(5, pb.f_bytes(1, pb.f_bytes(2, k)))
        now = time.time()
        experiment = pb.f_bytes(2, infos)
        session_start = pb.f_bytes(3, start + pb.f_double(5, now))
        session_end = pb.f_bytes(4, pb.f_varint(1, 1) + pb.f_double(2, now))  # STATUS_SUCCESS
        run = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=run) as w:
            fw = w._get_file_writer()
            for tag, content in (("_hparams_/experiment", experiment),
                                 ("_hparams_/session_start_info", session_start),
                                 ("_hparams_/session_end_info", session_end)):
                # version 0 of HParamsPluginData is the default, so it is not written
                val = pb.value(tag, tensor_=pb.tensor(pb.DT_FLOAT, (), float_val=[0.0]),
                               metadata_=pb.metadata("hparams", content))
                fw.add_summary(pb.summary(val))
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not supported: ember has no graph tracer to export a GraphDef from."""
        raise NotImplementedError("SummaryWriter.add_graph is not implemented in ember "
                                  "(writing model graphs needs a tracer)")

    # -- lifetime ------------------------------------------------------------------------

    def flush(self) -> None:
        """Write all pending events to disk."""
        for w in self.all_writers.values():
            w.flush()

    def close(self) -> None:
        """Flush and close every event file; later ``add_*`` calls open new files."""
        for w in self.all_writers.values():
            w.close()
        self.file_writer = None
        self.all_writers = {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self.close()


_TF_EDGES: np.ndarray | None = None


def _tf_bucket_edges() -> np.ndarray:
    """TensorFlow's default histogram edges: +-1e-12 * 1.1**k up to 1e20, and 0."""
    global _TF_EDGES
    if _TF_EDGES is None:
        pos = []
        v = 1e-12
        while v < 1e20:
            pos.append(v)
            v *= 1.1
        pos_arr = np.array(pos)
        _TF_EDGES = np.concatenate([-pos_arr[::-1], [0.0], pos_arr])
    return _TF_EDGES


def _to_hwc_uint8(arr: np.ndarray, fmt: str, fn: str) -> np.ndarray:
    if fmt not in ("CHW", "HWC", "HW", "WH") or arr.ndim != len(fmt):
        raise ValueError(f"{fn}(): dataformats {fmt!r} does not fit an image of shape "
                         f"{arr.shape}")
    if fmt == "HW":
        arr = arr[:, :, None]
    elif fmt == "WH":
        arr = arr.T[:, :, None]
    elif fmt == "CHW":
        arr = np.transpose(arr, (1, 2, 0))
    if arr.shape[2] not in (1, 3, 4):
        raise ValueError(f"{fn}(): images need 1, 3 or 4 channels, got {arr.shape[2]}")
    if arr.dtype != np.uint8:
        # Floats are in [0, 1] (PyTorch's convention); other integer types are taken as 0..255.
        scale = 255.0 if np.issubdtype(arr.dtype, np.floating) else 1.0
        arr = np.clip(arr.astype(np.float64) * scale, 0, 255).round().astype(np.uint8)
    return arr
