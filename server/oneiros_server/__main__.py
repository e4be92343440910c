"""``python -m oneiros_server [--port N] [--model-repository DIR] ...``: serve the model repository."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from oneiros_server.observability import logs as log
from oneiros_server.settings import Settings


def main(argv: list[str] | None = None) -> int:
    try:
        settings = Settings(_cli_parse_args=sys.argv[1:] if argv is None else argv)
    except ValidationError as exc:
        print(f"invalid settings:\n{exc}", file=sys.stderr)
        return 2
    log.configure(settings.log_level, settings.log_json)
    if settings.workers != 1:  # before anything imports prometheus_client (its multiprocess mode)
        from oneiros_server.workers.supervisor import serve_workers

        return serve_workers(settings)
    from oneiros_server.app import PortUnavailable, serve

    try:
        serve(settings)
    except PortUnavailable as exc:
        print(f"oneiros-server: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
