"""``python -m bench <name> [options]``: run the benchmark in ``bench/<name>_bench.py``.

Each such module has ``main(argv) -> int``; ``python -m bench`` alone lists them."""

import importlib
import sys
from pathlib import Path


def available() -> list[str]:
    return sorted(p.stem.removesuffix("_bench") for p in Path(__file__).parent.glob("*_bench.py"))


def main(argv: list[str]) -> int:
    names = available()
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in names:
        print(f"usage: python -m bench {{{','.join(names)}}} [options]  (--help for each)")
        return 0 if not argv or argv[0] in {"-h", "--help"} else 2
    module = importlib.import_module(f"bench.{argv[0]}_bench")
    return module.main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
