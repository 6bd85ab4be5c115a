"""`make bench`: every engine benchmark in one run; docs/benchmarks.md quotes its output."""

import os
import platform
import sys

from benchmarks import generate, swap_image, video


def main() -> None:
    print(f"SafeFace engine benchmarks on {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    sections = (("Image swap", swap_image.main), ("Video", video.main),
                ("Avatar generation", generate.main))
    for title, run in sections:
        print(f"\n== {title}", flush=True)
        sys.argv = [sys.argv[0]]
        run()


if __name__ == "__main__":
    main()
