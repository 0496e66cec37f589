"""``python -m pulumi_batchip <command>``: tools for stacks that use pulumi-batchip.

``python -m pulumi_batchip --help`` lists the commands; ``<command> --help`` their
options.
"""

from __future__ import annotations

import argparse
import difflib
import sys

from . import orphans

DESCRIPTION = "Tools for Pulumi stacks that use pulumi-batchip."


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m pulumi_batchip", description=DESCRIPTION)
    commands = top.add_subparsers(dest="command", metavar="<command>")
    found = commands.add_parser(
        "orphans",
        help="list (and release) what pulumi-batchip made for a stack that no resource "
        "in its state owns",
        description="List (and release) what pulumi-batchip made for a stack that no "
        "resource in its state owns, from a `pulumi stack export`.",
    )
    orphans.add_arguments(found)
    return top


def main(argv: list[str]) -> int:
    top = parser()
    names = ["orphans"]
    if argv and not argv[0].startswith("-") and argv[0] not in names:
        close = difflib.get_close_matches(argv[0], names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(
            f"python -m pulumi_batchip: unknown command {argv[0]!r}{hint} "
            f"(commands: {', '.join(names)}; --help for more)",
            file=sys.stderr,
        )
        return 2
    args = top.parse_args(argv)
    if args.command is None:
        top.print_help(sys.stderr)
        return 2
    return orphans.run_parsed(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
