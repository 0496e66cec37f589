"""``python -m pulumi_batchip <command>``: tools for stacks that use pulumi-batchip.

- ``orphans --state FILE [--release [--yes]]``: what this package made for a stack
  that no resource in its state owns (see ``pulumi_batchip.orphans``).
"""

from __future__ import annotations

import sys

from .orphans import main as orphans_main

COMMANDS = {"orphans": orphans_main}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(
            "usage: python -m pulumi_batchip orphans --state FILE [--release [--yes]]",
            file=sys.stderr,
        )
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
