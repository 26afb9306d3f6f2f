# The torchvision half of ember/as_torch/_shim/torch/__init__.py.
import importlib
import sys

import ember.as_torch

ember.as_torch.install()
sys.modules[__name__] = importlib.import_module("ember.vision")
