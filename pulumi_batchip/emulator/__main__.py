"""``python -m pulumi_batchip.emulator``: serve both APIs until SIGTERM/SIGINT.

The first line on stdout is the base URL, flushed at once; logs go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from .app import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
)
from .server import _url, make_emulator_server

log = logging.getLogger("pulumi_batchip.emulator")


def _parser() -> argparse.ArgumentParser:
    [(bce_ak, bce_sk)] = DEFAULT_BCE_CREDENTIALS.items()
    [(hw_ak, hw_sk)] = DEFAULT_HW_CREDENTIALS.items()
    p = argparse.ArgumentParser(
        prog="python -m pulumi_batchip.emulator",
        description="Local emulator of the Baidu BCC and Huawei EIP APIs.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--seed", type=int, default=None, help="seed for probabilistic faults")
    p.add_argument("--bce-access-key", default=bce_ak)
    p.add_argument("--bce-secret-key", default=bce_sk)
    p.add_argument("--hw-access-key", default=hw_ak)
    p.add_argument("--hw-secret-key", default=hw_sk)
    p.add_argument("--hw-project-id", default=DEFAULT_HW_PROJECT_ID)
    p.add_argument("--job-seconds", type=float, default=1.0, help="EIP job duration")
    p.add_argument("--eip-quota", type=int, default=1000)
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    p.add_argument("--log-level", default="INFO")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level.upper(), format="emulator: %(message)s"
    )
    config = EmulatorConfig(
        bce_credentials={args.bce_access_key: args.bce_secret_key},
        hw_credentials={args.hw_access_key: args.hw_secret_key},
        hw_project_id=args.hw_project_id,
        job_seconds=args.job_seconds,
        eip_quota=args.eip_quota,
        seed=args.seed,
        latency_seconds=args.latency,
    )
    server, _app = make_emulator_server(args.host, args.port, config)
    print(_url(args.host, server.server_port), flush=True)
    log.info("serving BCC and EIP on %s", _url(args.host, server.server_port))

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        # shutdown() waits for serve_forever to return: call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    server.serve_forever()
    server.server_close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
