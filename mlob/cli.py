"""The ``mlob`` command line: ``mlob serve`` and friends."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mlob.bootstrap import StartupError, build_web_app
from mlob.config import ConfigError, load_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = load_settings()
    web, application = build_web_app(settings)
    print(f"mlob: store {settings.store.describe()}", flush=True)
    if args.demo:
        from mlob.demo import load_demo

        recorded = load_demo(application)
        state = f"loaded ({recorded} events)" if recorded else "already loaded"
        print(f"mlob: demo scenario (river flood Maas and Waal) {state}", flush=True)
    print(f"mlob: serving on http://{args.host}:{args.port}/", flush=True)
    try:
        uvicorn.run(web, host=args.host, port=args.port, log_level="info")
    finally:
        application.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlob",
        description="Event-sourced national operational picture (MLOB) of LOCC-KCR2.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="load the demo scenario once (a river flood, GRIP 4)"
    )
    serve.set_defaults(handler=_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (ConfigError, StartupError) as exc:
        print(f"mlob: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
