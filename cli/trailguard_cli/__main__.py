"""`python -m trailguard_cli`: the operator command line (see trailguard_cli.app)."""

from trailguard_cli.app import main

raise SystemExit(main())
