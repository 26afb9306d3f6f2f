"""`import ember` stays light: the libraries above the core and SciPy load on first use."""

import subprocess
import sys


def test_import_loads_only_the_core():
    code = ("import sys, ember; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('scipy', 'torch') or m.startswith(('ember.linalg', 'ember.nn', 'ember.optim', "
            "'ember.fft', 'ember.distributions', 'ember.vision', 'ember.distributed')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == []
