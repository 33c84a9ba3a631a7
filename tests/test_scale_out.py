"""Scale-out: concurrent workers on PostgreSQL, the SQLite single writer, shards + merge,
the Ray executor, thread sizing. Kept small (a few architectures at batch 16, leases of
seconds): the properties checked (exactly once, nothing lost) do not depend on size."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import HANG_GUARD_SECONDS, tfnas
from sqlalchemy import create_engine, text

from tfnas_db.db.store import open_store
from tfnas_db.errors import TfnasError
from tfnas_db.jobs.executors import Recorder
from tfnas_db.jobs.populate import PopulateConfig, parse_shard, populate, shard_of
from tfnas_db.jobs.ray_executor import RaySettings, _drive, actor_resources
from tfnas_db.jobs.work import Chunk, WorkItem, lock_sqlite_store
from tfnas_db.scoring.threads import HostWorkers, threads_per_worker


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TFNAS_DB_URL", "TFNAS_DATA_DIR")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _populate_cmd(url: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "from tfnas_db.cli.app import main; main()",
        "populate",
        "--db",
        url,
        "--batch-size",
        "16",
        "--quiet",
        "--format",
        "json",
        *args,
    ]


def _rows(url: str, seed: int) -> list[tuple[Any, ...]]:
    """(scorer, arch index, value, status) of every score of the runs with this seed."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT r.scorer, a.arch_index, s.value, s.status FROM score s "
                "JOIN score_run r ON r.id = s.run_id JOIN architecture a "
                "ON a.id = s.architecture_id WHERE r.seed = :seed ORDER BY 1, 2"
            ),
            {"seed": seed},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def _claims(url: str, seed: int) -> list[tuple[str, int]]:
    """(state, attempts) of the work claims of the job whose runs have this seed."""
    engine = create_engine(url)
    with engine.connect() as conn:
        runs = set(
            conn.execute(text("SELECT id FROM score_run WHERE seed = :s"), {"s": seed}).scalars()
        )
        rows = conn.execute(text("SELECT run_ids, state, attempts FROM work_claim")).all()
    engine.dispose()
    return sorted((state, attempts) for run_ids, state, attempts in rows if set(run_ids) == runs)


def _scalar(url: str, sql: str, **params: Any) -> Any:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(sql), params).scalar()
    engine.dispose()
    return value


# ---- PostgreSQL: work claims ----------------------------------------------------------------


@pytest.mark.postgres
def test_four_workers_on_postgresql_split_the_work_exactly_once(seeded_pg_url: str) -> None:
    """Four workers started at the same instant: every (run, architecture) scored once,
    one run per scorer, and each worker's counts (scored, by others, already stored when it
    started) add up to the targets."""
    cmd = _populate_cmd(seeded_pg_url, "--limit", "24", "--seed", "301", "--chunk-size", "3")
    procs = [
        subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=HANG_GUARD_SECONDS) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    summaries = [json.loads(out) for out, _ in outputs]
    assert sum(s["scored"] for s in summaries) == 24
    # A worker that starts after another has stored a chunk counts it as already stored,
    # not as pending: its three counts, not two, add up to the 24 targeted.
    assert all(
        s["targeted"] == 24 and s["scored"] + s["by_other_workers"] + s["already_stored"] == 24
        for s in summaries
    )
    rows = _rows(seeded_pg_url, 301)
    assert len(rows) == 4 * 24 and len({row[:2] for row in rows}) == 4 * 24
    runs = Counter(
        _scalar(
            seeded_pg_url, "SELECT count(*) FROM score_run WHERE seed = 301 AND scorer = :s", s=name
        )
        for name in ("naswot", "relu_count", "params", "flops")
    )
    assert runs == {1: 4}  # each scorer's run created once despite the race
    assert [state for state, _ in _claims(seeded_pg_url, 301)] == ["done"] * 8


@pytest.mark.postgres
def test_a_killed_worker_loses_only_its_lease_and_its_chunk_is_taken_over(
    seeded_pg_url: str,
) -> None:
    """kill -9 of a worker holding a chunk: a later worker scores the rest, waits for the
    lease to expire, takes the chunk over; every pair stored once."""
    cmd = _populate_cmd(
        seeded_pg_url,
        "--limit",
        "8",
        "--seed",
        "302",
        "--chunk-size",
        "4",
        "--scorers",
        "naswot",
        "--lease-seconds",
        "3",
    )
    victim = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while True:  # no clock: it either claims a chunk or exits, which the assert reports
        held = _scalar(
            seeded_pg_url,
            "SELECT count(*) FROM work_claim WHERE owner_pid = :pid AND state = 'claimed'",
            pid=victim.pid,
        )
        if held:
            break
        assert victim.poll() is None, victim.stderr.read().decode()  # type: ignore[union-attr]
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    done = subprocess.run(
        cmd, env=_env(), capture_output=True, text=True, timeout=HANG_GUARD_SECONDS
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["chunks_taken_over"] == 1
    rows = _rows(seeded_pg_url, 302)
    assert len(rows) == 8 and len({row[:2] for row in rows}) == 8
    assert _claims(seeded_pg_url, 302) == [("done", 1), ("done", 2)]


# ---- SQLite: one writer ---------------------------------------------------------------------


def test_a_second_populate_on_a_sqlite_store_stops_at_once(sqlite_store_url: str) -> None:
    store = open_store(sqlite_store_url)
    lock = lock_sqlite_store(store)  # as a running populate holds it
    try:
        out = tfnas("populate", "--db", sqlite_store_url, "--limit", "2", "--scorers", "params")
    finally:
        assert lock is not None
        lock.close()
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "another tfnas-db populate (pid" in lines[0]
    assert "PostgreSQL" in lines[0] and "unexpected" not in lines[0]
    assert _scalar(sqlite_store_url, "SELECT count(*) FROM score_run") == 0
    assert not Path(f"{store.engine.url.database}-populate.lock").exists()  # removed
    store.close()


# ---- shards and merge -----------------------------------------------------------------------


def test_shards_partition_the_targets() -> None:
    targets = [(100 + i, i, f"a{i}") for i in range(10)]
    parts = [shard_of(targets, (i, 3)) for i in range(3)]
    assert [[t[1] for t in part] for part in parts] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert parse_shard("2/3") == (2, 3)
    for bad in ("3/3", "-1/3", "1", "a/b", "0/0"):
        with pytest.raises(TfnasError, match="--shard must be I/N"):
            parse_shard(bad)


def test_shards_merged_equal_a_single_populate(
    tmp_path: Path, seeded_sqlite_template: Path
) -> None:
    def copy(name: str) -> str:
        shutil.copy(seeded_sqlite_template, tmp_path / name)
        return f"sqlite:///{tmp_path / name}"

    config = PopulateConfig(scorers="naswot,params", limit=7, batch_size=16, seed=303)
    whole = copy("whole.db")
    populate(open_store(whole), config, show_progress=False)
    shards = []
    for i in range(3):
        url = copy(f"shard{i}.db")
        summary = populate(
            open_store(url),
            PopulateConfig(**{**config.__dict__, "shard": (i, 3)}),
            show_progress=False,
        )
        assert summary.targeted == [3, 2, 2][i]
        shards.append(url)
    merged = tmp_path / "merged.db"  # a new file: created, migrated and seeded by merge
    out = tfnas("db", "merge", *shards, "--into", str(merged))
    assert out.returncode == 0, out.stderr
    assert "2 score runs created, 4 matched; 14 scores inserted" in out.stdout
    assert _rows(f"sqlite:///{merged}", 303) == _rows(whole, 303)
    again = tfnas("db", "merge", whole, "--into", str(merged))  # the same values: no-op
    assert again.returncode == 0 and "0 scores inserted, 14 already there" in again.stdout

    engine = create_engine(shards[0])
    with engine.begin() as conn:
        conn.execute(text("UPDATE score SET value = value * 1.001"))
    engine.dispose()
    before = _rows(f"sqlite:///{merged}", 303)
    clash = tfnas("db", "merge", whole, shards[0], "--into", str(tmp_path / "clash.db"))
    assert clash.returncode == 2
    assert "disagrees with the stores merged before it" in clash.stderr
    assert "architecture 0" in clash.stderr and "nothing was merged" in clash.stderr
    assert _scalar(f"sqlite:///{tmp_path / 'clash.db'}", "SELECT count(*) FROM score") == 0
    assert _rows(f"sqlite:///{merged}", 303) == before


# ---- Ray --------------------------------------------------------------------------------------


class _FakeRayActorError(Exception):
    pass


class _Ref:
    """An object reference: hashable by identity, like ray.ObjectRef."""

    def __init__(self, actor: _FakeActor, items: list[WorkItem]) -> None:
        self.actor, self.items = actor, items


class _FakeRay:
    """Just enough of ray for the driver loop: the first actor dies on its first chunk."""

    class exceptions:
        RayActorError = _FakeRayActorError

    def wait(self, refs: list[Any], num_returns: int, timeout: float) -> tuple[list, list]:
        return refs[:1], refs[1:]

    def get(self, ref: _Ref) -> list[Any]:
        actor, items = ref.actor, ref.items
        if actor.dies:
            raise _FakeRayActorError("worker died")
        return [actor.compute(item) for item in items]


class _FakeActor:
    def __init__(self, dies: bool) -> None:
        self.dies = dies
        self.score = self  # the driver calls actor.score.remote(items)

    def remote(self, items: list[WorkItem]) -> _Ref:
        return _Ref(self, items)

    def compute(self, item: WorkItem) -> Any:
        from tfnas_db.db.models import ScoreStatus
        from tfnas_db.jobs.work import ScoredArch
        from tfnas_db.scoring.engine import ScoreOutcome

        value = float(item.architecture_id)
        outcome = ScoreOutcome(value, 0.0, ScoreStatus.OK)
        return ScoredArch(item.architecture_id, {"params": outcome}, "h", "cpu")


class _ListWork:
    def __init__(self, chunks: list[Chunk]) -> None:
        self.queue = list(chunks)
        self.written: list[dict[str, Any]] = []
        self.completed: list[int] = []

    def try_claim(self) -> Chunk | None:
        return self.queue.pop(0) if self.queue else None

    def requeue(self, chunk: Chunk) -> None:
        self.queue.insert(0, chunk)

    def all_done(self) -> bool:
        return not self.queue

    def write(self, chunk: Chunk, rows: list[dict[str, Any]], *, final: bool) -> bool:
        self.written.extend(rows)
        if final:
            self.completed.append(id(chunk))
        return True


def test_a_dead_ray_worker_chunk_is_scored_again_and_stored_once() -> None:
    chunks = [Chunk([WorkItem(i, f"a{i}", ("params",)) for i in range(j, j + 2)]) for j in (0, 2)]
    work = _ListWork(chunks)
    recorder = Recorder(work, {"params": 1}, {"params": False})  # type: ignore[arg-type]
    replacements: list[_FakeActor] = []

    def new_actor() -> _FakeActor:
        replacements.append(_FakeActor(dies=False))
        return replacements[-1]

    advanced: list[int] = []
    _drive(_FakeRay(), work, recorder, [_FakeActor(dies=True)], new_actor, advanced.append)
    assert len(replacements) == 1
    assert sorted(row["architecture_id"] for row in work.written) == [0, 1, 2, 3]
    assert len(work.completed) == 2 and recorder.scored == 4 and sum(advanced) == 4


def test_ray_actors_ask_for_gpus_only_on_cuda() -> None:
    settings = RaySettings(workers=4)
    assert actor_resources("cpu", settings, 2.0) == {"num_cpus": 0.5, "num_gpus": 0.0}
    assert actor_resources("cuda:1", settings, 16.0) == {"num_cpus": 4.0, "num_gpus": 1.0}
    half = RaySettings(workers=2, gpus_per_worker=0.5)
    assert actor_resources("cuda", half, 8.0)["num_gpus"] == 0.5
    with pytest.raises(TfnasError, match="--gpus-per-worker needs --device cuda"):
        actor_resources("cpu", half, 8.0)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    """One local Ray instance for the module's Ray tests (starting one costs seconds); the
    executor uses an instance that is already up and leaves it running."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_ray_executor_scores_bit_identical_to_the_sequential_path(
    backend: str,
    tmp_path: Path,
    seeded_sqlite_template: Path,
    request: pytest.FixtureRequest,
    ray_cluster: Any,
) -> None:
    """The driver writes what the actors computed through the sequential path's code: on
    SQLite (no claims) and on PostgreSQL (the driver claims) the stored floats are the
    sequential ones, bit for bit."""
    shutil.copy(seeded_sqlite_template, tmp_path / "sequential.db")
    sequential_url = f"sqlite:///{tmp_path / 'sequential.db'}"
    if backend == "sqlite":
        shutil.copy(seeded_sqlite_template, tmp_path / "ray.db")
        ray_url = f"sqlite:///{tmp_path / 'ray.db'}"
    else:
        ray_url = request.getfixturevalue("seeded_pg_url")
    config = PopulateConfig(
        scorers="naswot,synflow,params", limit=5, batch_size=16, seed=304, threads=1
    )
    populate(open_store(sequential_url), config, show_progress=False)
    summary = populate(
        open_store(ray_url),
        PopulateConfig(**{**config.__dict__, "executor": "ray", "workers": 2, "chunk_size": 2}),
        show_progress=False,
    )
    assert summary.scored == 5
    sequential, on_ray = _rows(sequential_url, 304), _rows(ray_url, 304)
    assert len(on_ray) == 15 and on_ray == sequential  # floats compared exactly


def _kill_a_scoring_actor(killed: list[int], stop: threading.Event) -> None:
    """kill -9 the first Ray actor process seen scoring a chunk (its title names the task)."""
    while not stop.is_set():
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                title = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if b"ray::ScoringActor.score" in title:
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
                return
        time.sleep(0.05)


@pytest.mark.slow
def test_a_ray_actor_killed_mid_run_loses_nothing(
    tmp_path: Path, seeded_sqlite_template: Path, ray_cluster: Any
) -> None:
    shutil.copy(seeded_sqlite_template, tmp_path / "ray.db")
    url = f"sqlite:///{tmp_path / 'ray.db'}"
    config = PopulateConfig(
        scorers="naswot",
        limit=6,
        batch_size=16,
        seed=306,
        threads=1,
        executor="ray",
        workers=2,
        chunk_size=1,
    )
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_scoring_actor, args=(killed, stop))
    killer.start()
    try:
        summary = populate(open_store(url), config, show_progress=False)
    finally:
        stop.set()
        killer.join()
    assert len(killed) == 1  # one actor died mid-chunk
    assert summary.scored == 6
    rows = _rows(url, 306)
    assert len(rows) == 6 and len({row[:2] for row in rows}) == 6


def test_without_ray_the_executor_says_how_to_install_it(
    sqlite_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(TfnasError, match=r'pip install "tfnas-db\[ray\]"'):
        populate(
            open_store(sqlite_store_url),
            PopulateConfig(scorers="params", limit=2, executor="ray"),
            show_progress=False,
        )


# ---- threads ----------------------------------------------------------------------------------


def test_threads_are_the_cores_shared_among_this_hosts_workers(tmp_path: Path) -> None:
    import fcntl

    assert threads_per_worker(1, cores=16) == 16
    assert threads_per_worker(4, cores=16) == 4
    assert threads_per_worker(3, cores=2) == 1
    me = HostWorkers(tmp_path)
    assert me.count() == 1
    other = (tmp_path / "999999.lock").open("w")  # a live worker holds its file's lock
    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert me.count() == 2
    other.close()  # that worker exits (or is killed): its entry is stale
    assert me.count() == 1 and not (tmp_path / "999999.lock").exists()
    me.close()
    assert list(tmp_path.iterdir()) == []


def test_runs_scores_shows_which_hosts_and_devices_filled_a_run(sqlite_store_url: str) -> None:
    summary = populate(
        open_store(sqlite_store_url),
        PopulateConfig(scorers="params", limit=3, seed=305),
        show_progress=False,
    )
    engine = create_engine(sqlite_store_url)
    with engine.begin() as conn:  # as if another worker, on a GPU, had scored one of them
        conn.execute(
            text(
                "UPDATE score SET host = 'gpu-node', device = 'cuda:1' WHERE id = "
                "(SELECT min(id) FROM score)"
            )
        )
    engine.dispose()
    out = tfnas("runs", "--scores", "--format", "json", "--db", sqlite_store_url)
    assert out.returncode == 0, out.stderr
    (run,) = [r for r in json.loads(out.stdout) if r["id"] == summary.run_ids["params"]]
    local = platform.node()
    assert run["hosts"] == f"{local} x2, gpu-node x1"
    assert run["devices"] == "none x2, cuda:1 x1"
