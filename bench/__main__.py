"""``python -m bench``: run the issue-6 workloads (see bench/run.py and bench/README.md)."""

import sys

from bench.run import main

sys.exit(main())
