"""``ember.cpu.allocator``: reuse of freed heap memory for large host arrays.

On by default on glibc (``import ember`` calls :func:`enable_heap_reuse`;
``EMBER_HEAP_REUSE=0`` turns that off): NOTE [ Heap reuse for host arrays ] in
``ember/_backends/heap.py``, where the implementation lives.
"""

from ember._backends.heap import (_STATE, _USER_MALLOC_VARS, _glibc, _libc,  # noqa: F401
                                  disable_heap_reuse, enable_heap_reuse, heap_reuse_enabled)

__all__ = ["enable_heap_reuse", "disable_heap_reuse", "heap_reuse_enabled"]
