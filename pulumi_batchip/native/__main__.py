"""``pulumi-resource-batchip`` (or ``python -m pulumi_batchip.native``): the native
provider plugin the engine starts for ``batchip:index:*`` resources."""

from __future__ import annotations

import sys

from .serve import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
