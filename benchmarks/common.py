"""What both benchmark runners share: paths, the emulator's admin API, progress."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Admin:
    def __init__(self, url: str) -> None:
        self._http = httpx.Client(base_url=url, timeout=60)

    def get(self, name: str) -> Any:
        response = self._http.get(f"/_emulator/{name}")
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self._http.post("/_emulator/reset").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return list(self.get("requests")["requests"])

    def calls(self) -> Counter[str]:
        return Counter(r["operation"] for r in self.requests())

    def close(self) -> None:
        self._http.close()
