"""pulumi-batchip: Pulumi dynamic resources that manage IP addresses in batches."""

from __future__ import annotations

__version__ = "0.1.0.dev0"

__all__ = ["__version__"]
