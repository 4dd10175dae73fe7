"""`python -m zkml.cli`."""

from zkml.cli import main

main(prog_name="zkml")
