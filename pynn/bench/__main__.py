"""`python -m pynn.bench`: the same as `pynn bench` (pynn.bench.command)."""

import sys

from pynn.bench.command import main

sys.exit(main())
