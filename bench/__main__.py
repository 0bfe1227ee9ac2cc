"""`make bench`: every benchmark module present in bench/, one after another.

bench_store seeds a 1,000,000-item store (minutes); WIREWATCH_BENCH_ITEMS=50000 makes it quick.
BENCH_ONLY=poll,store runs only those modules.
"""

from __future__ import annotations

import importlib
import os

MODULES = ("bench_poll", "bench_store", "bench_classify", "bench_digest", "bench_due")


def main() -> None:
    """Run main() of each benchmark module that imports; say which were skipped and why."""
    only = {f"bench_{n.strip()}" for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()}
    for name in MODULES:
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bench.{name}":
                continue  # not written yet
            print(f"bench.{name}: skipped, cannot import: {exc}")
            continue
        print(f"\n===== bench.{name} =====", flush=True)
        module.main()


if __name__ == "__main__":
    main()
