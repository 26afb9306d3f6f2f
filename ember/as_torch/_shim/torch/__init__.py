# Placed first on a child process's path by ember.as_torch.install() (through PYTHONPATH and
# multiprocessing's copied sys.path): `import torch` there installs the mapping and becomes
# ember, so children started by an as_torch program see ember too. See NOTE [ as_torch in
# child processes ] in ember/as_torch/__init__.py.
import sys

import ember.as_torch

ember.as_torch.install()
sys.modules[__name__] = sys.modules["ember"]
