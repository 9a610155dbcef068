"""AWS behaviour that moto 5.2 lacks, emulated as AWS documents it: the one place.

The drill, the tests, `make reliability` and the bench all run against moto.
Where moto does not model something trailguard depends on, it is emulated here,
server-side (inside moto's backends and responses), so that every client sees
it the same way: trailguard's own clients, the drill's attacker, the CLI.

Each module says what AWS does, where that is documented, and what moto does
instead. Nothing here computes trailguard's own results: it only makes moto
answer as AWS would. docs/testing-offline.md lists every gap and its cover.
"""
