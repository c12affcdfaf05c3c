"""``python -m api.cli``: the ``lastmile`` command line without its installed script."""

import sys

from api.cli import main

if __name__ == "__main__":  # a spawned worker process imports this module too
    sys.exit(main())
