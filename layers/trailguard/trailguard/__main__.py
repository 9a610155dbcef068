"""`python -m trailguard`: the operator command line (see trailguard.cli)."""

from trailguard.cli import main

raise SystemExit(main())
