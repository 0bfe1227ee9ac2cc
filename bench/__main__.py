"""`make bench`: every benchmark module present in bench/, one after another."""

from __future__ import annotations

import importlib

MODULES = ("bench_poll", "bench_classify", "bench_digest", "bench_due")


def main() -> None:
    """Run main() of each benchmark module that imports; say which were skipped and why."""
    for name in MODULES:
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
