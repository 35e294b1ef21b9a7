"""`python -m zoomsim --port 9100 [--state FILE] [--allow-control] ...`: see the README."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from zoomsim import DEFAULT_PORT
from zoomsim.server import DEFAULT_FAULTS, HEAVY, LIGHT, MEDIUM, Config, Simulator, make_server
from zoomsim.state import State


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m zoomsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--state", type=Path, help="JSON file the state survives restarts in")
    parser.add_argument("--seed", default="university", choices=["university", "empty"])
    parser.add_argument("--users", type=int, default=56, help="seeded users (56 or more)")
    parser.add_argument("--allow-control", action="store_true", help="serve the /_sim/ API")
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument("--lock-behaviour", choices=["keep", "reject"])
    parser.add_argument("--token-ttl", type=int, default=3599, help="seconds a token lasts")
    parser.add_argument("--limit-light", type=int, default=30, help="Light requests per second")
    parser.add_argument("--limit-medium", type=int, default=20, help="Medium requests per second")
    parser.add_argument("--limit-heavy", type=int, default=10, help="Heavy requests per second")
    parser.add_argument("--daily-limit", type=int, help="requests per category per UTC day")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to answers")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share answered 503")
    parser.add_argument("--timeout-rate", type=float, default=0.0, help="share never answered")
    parser.add_argument("--outage", action="store_true", help="close every API connection")
    parser.add_argument("--verbose", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    options = parse(sys.argv[1:] if argv is None else argv)
    state = State(options.state, seed=options.seed, users=options.users)
    if options.lock_behaviour:
        state.data["account"]["lock_behaviour"] = options.lock_behaviour
        state.save()
    faults = dict(DEFAULT_FAULTS)
    faults.update(
        latency=options.latency,
        error_rate=options.error_rate,
        timeout_rate=options.timeout_rate,
        outage=options.outage,
    )
    if options.daily_limit is not None:
        faults["daily_limits"] = dict.fromkeys((LIGHT, MEDIUM, HEAVY), options.daily_limit)
    config = Config(
        allow_control=options.allow_control,
        webhook_url=options.webhook_url,
        webhook_secret=options.webhook_secret,
        token_ttl=options.token_ttl,
        limits={
            LIGHT: options.limit_light,
            MEDIUM: options.limit_medium,
            HEAVY: options.limit_heavy,
        },
        faults=faults,
        verbose=options.verbose,
    )
    server = make_server(options.host, options.port, Simulator(state, config))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        json.dumps(
            {
                "zoomsim": f"http://{options.host}:{server.server_port}",
                "users": len(state.data["users"]),
            }
        ),
        flush=True,
    )
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
