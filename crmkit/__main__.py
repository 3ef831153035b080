"""`python -m crmkit` runs the command line."""

from crmkit.cli.main import run

if __name__ == "__main__":
    run()
