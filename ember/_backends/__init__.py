"""Array backends. Only NumPy exists for now; the CuPy backend will sit beside it."""

from ember._backends import numpy_backend

DEFAULT = numpy_backend
