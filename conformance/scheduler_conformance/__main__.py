"""`python -m scheduler_conformance`: the same as the `scheduler-conformance` command."""

from scheduler_conformance.cli import main

main()
