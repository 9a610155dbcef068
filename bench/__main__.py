"""python -m bench: see bench/run.py."""

import sys
from pathlib import Path

# Bytecode of everything this process imports (the drill's seeding code, trailguard)
# goes under bench/work/, never next to the project's sources.
sys.pycache_prefix = str(Path(__file__).resolve().parent / "work" / "pycache")

from bench.run import main  # noqa: E402

raise SystemExit(main())
