"""``python -m pulumi_batchip.emulator``: serve both APIs until SIGTERM/SIGINT.

The first line on stdout is the base URL, flushed at once; logs go to stderr. Without
werkzeug (the ``emulator`` extra) it says so in one line on stderr and exits 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from types import FrameType

from ..config import is_loopback
from . import missing_werkzeug
from .config import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_DELETE_SECONDS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REGIONS,
    JOB_FAIL_WORDS,
    EmulatorConfig,
)

log = logging.getLogger("pulumi_batchip.emulator")

BCE_SECRET_KEY_ENV = "BATCHIP_EMULATOR_BCE_SECRET_KEY"  # noqa: S105 - a variable's name
HW_SECRET_KEY_ENV = "BATCHIP_EMULATOR_HW_SECRET_KEY"  # noqa: S105 - a variable's name
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# EmulatorConfig's fields as the flags that set them, for its error messages.
_FLAGS = {
    "job_seconds": "--job-seconds",
    "eip_quota": "--eip-quota",
    "latency_seconds": "--latency",
    "max_connections": "--max-connections",
    "delete_seconds": "--delete-seconds",
    "regions": "--regions",
}


def _parser() -> argparse.ArgumentParser:
    [(bce_ak, bce_sk)] = DEFAULT_BCE_CREDENTIALS.items()
    [(hw_ak, hw_sk)] = DEFAULT_HW_CREDENTIALS.items()
    p = argparse.ArgumentParser(
        prog="python -m pulumi_batchip.emulator",
        description="Local emulator of the Baidu BCC and Huawei EIP APIs.",
        epilog=(
            f"Secret keys can come from the environment instead of the command line (where "
            f"ps shows them): {BCE_SECRET_KEY_ENV} and {HW_SECRET_KEY_ENV}. A flag wins over "
            f"its variable."
        ),
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; another address is warned about: "
        "the emulator accepts its well-known credentials from anyone who can reach it)",
    )
    p.add_argument("--port", type=int, default=0, help="0 (the default) picks a free port")
    p.add_argument("--seed", type=int, default=None, help="seed for probabilistic faults")
    p.add_argument("--bce-access-key", default=bce_ak, help=f"default {bce_ak}")
    p.add_argument(
        "--bce-secret-key",
        default=None,
        help=f"default: ${BCE_SECRET_KEY_ENV}, else {bce_sk}",
    )
    p.add_argument("--hw-access-key", default=hw_ak, help=f"default {hw_ak}")
    p.add_argument(
        "--hw-secret-key",
        default=None,
        help=f"default: ${HW_SECRET_KEY_ENV}, else {hw_sk}",
    )
    p.add_argument(
        "--hw-project-id", default=DEFAULT_HW_PROJECT_ID, help=f"default {DEFAULT_HW_PROJECT_ID}"
    )
    p.add_argument(
        "--regions",
        type=_region_list,
        default=None,
        metavar="R1,R2,...",
        help="Huawei and Baidu regions served, comma-separated (e.g. cn-north-4,bj): a "
        "request whose Host is vpc.{region}.myhuaweicloud.com or bcc.{region}.baidubce.com "
        "for another region is refused (401 APIGW.0301 / 403 AccessDenied); requests to "
        "the emulator's own address name no region and are served. Default: every region "
        f"the vendors publish ({len(DEFAULT_REGIONS)})",
    )
    p.add_argument("--job-seconds", type=float, default=1.0, help="EIP job duration (default 1)")
    p.add_argument(
        "--eip-quota", type=int, default=1000, help="EIPs a project may hold (default 1000)"
    )
    p.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="seconds added to every call (default 0; at most 600)",
    )
    p.add_argument(
        "--max-connections",
        type=int,
        default=DEFAULT_MAX_CONNECTIONS,
        help="connections served at once; more wait in the listen backlog "
        f"(default {DEFAULT_MAX_CONNECTIONS})",
    )
    p.add_argument(
        "--delete-seconds",
        type=float,
        default=DEFAULT_DELETE_SECONDS,
        help="how long a released EIP stays PENDING_DELETE before it is gone "
        f"(default {DEFAULT_DELETE_SECONDS:g}; at most 600)",
    )
    p.add_argument(
        "--job-fail-word",
        type=str.upper,
        choices=JOB_FAIL_WORDS,
        default="FAIL",
        help="the status a failed EIP job ends with (default FAIL)",
    )
    p.add_argument(
        "--tags-forbidden",
        action="store_true",
        help="the EIP tag APIs answer 403 VPC.2201, as for rights granted only "
        "through an enterprise project",
    )
    p.add_argument(
        "--bcc-add-ip-no-body",
        action="store_true",
        help="batchAddIp answers 200 with no body (as the BCC docs promise)",
    )
    p.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="INFO",
        help="DEBUG adds a line per request; WARNING and ERROR keep stderr quiet "
        "unless something goes wrong (default INFO)",
    )
    return p


def _region_list(text: str) -> frozenset[str]:
    """``--regions`` as a set of names; EmulatorConfig checks each name."""
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _secret(flag: str | None, variable: str, default: str) -> str:
    """The flag, else the environment variable (if set and not empty), else the default."""
    if flag is not None:
        return flag
    return os.environ.get(variable) or default


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    [(_, bce_sk)] = DEFAULT_BCE_CREDENTIALS.items()
    [(_, hw_sk)] = DEFAULT_HW_CREDENTIALS.items()
    try:
        config = EmulatorConfig(
            bce_credentials={
                args.bce_access_key: _secret(args.bce_secret_key, BCE_SECRET_KEY_ENV, bce_sk)
            },
            hw_credentials={
                args.hw_access_key: _secret(args.hw_secret_key, HW_SECRET_KEY_ENV, hw_sk)
            },
            hw_project_id=args.hw_project_id,
            job_seconds=args.job_seconds,
            eip_quota=args.eip_quota,
            seed=args.seed,
            latency_seconds=args.latency,
            max_connections=args.max_connections,
            delete_seconds=args.delete_seconds,
            job_fail_word=args.job_fail_word,
            tags_forbidden=args.tags_forbidden,
            bcc_add_ip_no_body=args.bcc_add_ip_no_body,
            regions=DEFAULT_REGIONS if args.regions is None else args.regions,
        )
    except (TypeError, ValueError) as exc:
        message = str(exc)
        for field, flag in _FLAGS.items():
            message = message.replace(f"{field} must", f"{flag} must")
        parser.error(message)
    try:
        from .server import _url, make_emulator_server
    except ImportError as exc:
        print(f"{parser.prog}: error: {missing_werkzeug(exc)}", file=sys.stderr)
        return 2
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="emulator: %(message)s")
    server, _app = make_emulator_server(args.host, args.port, config)
    print(_url(args.host, server.server_port), flush=True)
    log.info("serving BCC and EIP on %s", _url(args.host, server.server_port))
    if not is_loopback(args.host):
        log.warning(
            "listening on %s, not a loopback address: anyone who can reach it can use "
            "the emulator's well-known credentials",
            args.host,
        )

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
