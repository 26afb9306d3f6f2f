"""``python -m ember.as_torch SCRIPT [ARGS...]``: run a PyTorch program on ember."""

import sys

from ember.as_torch import main

if __name__ == "__main__":
    sys.exit(main())
