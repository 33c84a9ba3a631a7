"""Memory and speed of ``tfnas-db import nats-bench`` on fast-mode folders of growing size.

Usage: python bench/bench_nats_import.py [--sizes 200,2000] [--out FILE]

Builds one architecture's results with ``nats_bench``'s classes (12 and 200 epochs, four
datasets, two seeds: the shape of the real ``-simple`` files) and copies that file under
the first N indices of a folder whose ``meta.pickle.pbz2`` lists all 15 625 TSS
architectures (the import joins by the meta's arch strings, so copies are N distinct
architectures to it). Each size is imported by the CLI in a fresh process into a fresh
seeded SQLite store; the peak resident memory of that process (ru_maxrss) should not grow
with N, since the folder is read one architecture at a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nats_bench.api_utils import pickle_save

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import nats_archive_factory as factory

from tfnas_db.db.bootstrap import ensure_seeded
from tfnas_db.db.store import Store, make_engine, resolve_url, upgrade_schema
from tfnas_db.scoring.spaces import nats_tss

IMPORT = (
    "import resource, sys\n"
    "from tfnas_db.cli.app import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "finally:\n"
    "    print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
)


def folder_of(size: int, root: Path, template: Path) -> Path:
    folder = root / f"NATS-tss-{size}-simple"
    folder.mkdir()
    pickle_save({"meta_archs": list(nats_tss.index_table())}, str(folder / "meta.pickle"))
    for index in range(size):
        shutil.copyfile(template, folder / f"{index:06d}.pickle.pbz2")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200,2000")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",")]
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        template = root / "template.pickle.pbz2"
        pickle_save(factory.arch_results(0), str(template).removesuffix(".pbz2"))
        seeded = root / "seeded.db"
        engine = make_engine(resolve_url(str(seeded)))
        upgrade_schema(engine)
        ensure_seeded(Store(engine), "nats-tss")
        engine.dispose()
        for size in sizes:
            folder = folder_of(size, root, template)
            store = root / f"store-{size}.db"
            shutil.copyfile(seeded, store)
            started = time.perf_counter()
            out = subprocess.run(
                [
                    *(sys.executable, "-c", IMPORT, "import", "nats-bench"),
                    *("--path", str(folder), "--db", str(store), "--quiet", "--format", "json"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            wall = time.perf_counter() - started
            summary = json.loads(out.stdout)
            rss = int(out.stderr.split("maxrss_kb")[-1].split()[0])
            records.append(
                {
                    "architectures": size,
                    "figures": summary["rows"],
                    "wall_seconds": round(wall, 1),
                    "import_seconds": summary["seconds"],
                    "peak_rss_mb": round(rss / 1024, 1),
                }
            )
            print(records[-1], flush=True)
            shutil.rmtree(folder)
    text = "\n".join(json.dumps(r) for r in records) + "\n"
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
