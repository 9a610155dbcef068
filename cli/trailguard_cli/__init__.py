"""trailguard's operator command line (`trailguard --help`).

`trailguard_cli.main(argv=None, *, stdout=None, stderr=None, stdin=None) -> int`
runs one command in this process and returns its exit status; the drill and the
tests call it directly.
"""

from trailguard_cli.app import main

__all__ = ["main"]
