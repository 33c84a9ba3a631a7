"""Work claims on PostgreSQL: chunks of a populate job that one worker at a time owns.

The pattern is PostgreSQL's job queue: ``SELECT ... FOR UPDATE SKIP LOCKED`` picks a
chunk no other transaction is looking at, and a lease (renewed by the owner while it
works, compared with the server's clock so that workers on other machines agree) lets a
chunk whose owner died be taken over. Completion is checked against the claim's token
inside the transaction that writes the scores, so a worker whose lease was taken over
never writes a chunk twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from tfnas_db.db.models import WorkClaim

PENDING, CLAIMED, DONE = "pending", "claimed", "done"


@dataclass(frozen=True)
class Claim:
    id: int
    chunk_index: int
    architecture_ids: list[int]
    taken_over: bool  # the chunk was claimed before by a worker whose lease expired


@dataclass(frozen=True)
class JobState:
    total: int
    done: int
    claimed_live: int  # claimed by a worker whose lease has not expired


def job_key(run_ids: Sequence[int], architecture_ids: Sequence[int], chunk_size: int) -> str:
    """Same runs, same targets, same chunking: the same job, whichever worker computes it."""
    payload = json.dumps(
        {"runs": sorted(run_ids), "archs": list(architecture_ids), "chunk": chunk_size}
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def ensure_chunks(
    session: Session, key: str, run_ids: Sequence[int], chunks: Sequence[Sequence[int]]
) -> None:
    """Create the job's chunk rows unless another worker already did (no duplicates)."""
    rows = [
        {
            "job_key": key,
            "chunk_index": index,
            "architecture_ids": list(chunk),
            "run_ids": sorted(run_ids),
            "state": PENDING,
            "attempts": 0,
        }
        for index, chunk in enumerate(chunks)
    ]
    if rows:
        stmt = postgresql.insert(WorkClaim).on_conflict_do_nothing(
            index_elements=["job_key", "chunk_index"]
        )
        session.execute(stmt, rows)


def reopen_chunks(
    session: Session, key: str, chunk_indices: Sequence[int], finished_before: datetime
) -> int:
    """Put chunks finished before this worker started back in the queue: they hold work
    this worker found missing (stored errors to retry). Chunks that a concurrent worker
    finished since are left alone."""
    if not chunk_indices:
        return 0
    result = session.execute(
        update(WorkClaim)
        .where(
            WorkClaim.job_key == key,
            WorkClaim.state == DONE,
            WorkClaim.finished_at < finished_before,
            WorkClaim.chunk_index.in_(list(chunk_indices)),
        )
        .values(state=PENDING, token=None, lease_expires_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def claim_next(
    session: Session, key: str, *, token: str, host: str | None, pid: int, lease_seconds: float
) -> Claim | None:
    """Claim the first pending chunk, or one whose owner's lease expired; None if none."""
    claimable = or_(
        WorkClaim.state == PENDING,
        and_(WorkClaim.state == CLAIMED, WorkClaim.lease_expires_at < func.now()),
    )
    row = session.scalar(
        select(WorkClaim)
        .where(WorkClaim.job_key == key, claimable)
        .order_by(WorkClaim.chunk_index)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if row is None:
        return None
    taken_over = row.state == CLAIMED
    session.execute(
        update(WorkClaim)
        .where(WorkClaim.id == row.id)
        .values(
            state=CLAIMED,
            token=token,
            owner_host=host,
            owner_pid=pid,
            attempts=WorkClaim.attempts + 1,
            claimed_at=func.now(),
            lease_expires_at=func.now() + timedelta(seconds=lease_seconds),
        )
    )
    return Claim(row.id, row.chunk_index, list(row.architecture_ids), taken_over)


def renew_leases(session: Session, token: str, lease_seconds: float) -> int:
    """Extend every lease this worker holds; returns how many it still holds."""
    result = session.execute(
        update(WorkClaim)
        .where(WorkClaim.token == token, WorkClaim.state == CLAIMED)
        .values(lease_expires_at=func.now() + timedelta(seconds=lease_seconds))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def still_owned(session: Session, claim_id: int, token: str) -> bool:
    """Lock the claim row for the rest of the transaction and say whether it is still ours.

    Called in the transaction that writes a chunk's scores: while it holds the row lock no
    other worker can take the chunk over, so what it writes is written once.
    """
    row = session.execute(
        select(WorkClaim.token, WorkClaim.state).where(WorkClaim.id == claim_id).with_for_update()
    ).one_or_none()
    return row is not None and row.token == token and row.state == CLAIMED


def complete(session: Session, claim_id: int) -> None:
    session.execute(
        update(WorkClaim)
        .where(WorkClaim.id == claim_id)
        .values(state=DONE, lease_expires_at=None, finished_at=func.clock_timestamp())
    )


def release(session: Session, token: str) -> int:
    """Give back the chunks this worker holds (Ctrl-C): others need not wait for the lease."""
    result = session.execute(
        update(WorkClaim)
        .where(WorkClaim.token == token, WorkClaim.state == CLAIMED)
        .values(state=PENDING, token=None, lease_expires_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def job_state(session: Session, key: str) -> JobState:
    live = and_(WorkClaim.state == CLAIMED, WorkClaim.lease_expires_at >= func.now())
    row = session.execute(
        select(
            func.count(),
            func.count().filter(WorkClaim.state == DONE),
            func.count().filter(live),
        ).where(WorkClaim.job_key == key)
    ).one()
    return JobState(total=int(row[0]), done=int(row[1]), claimed_live=int(row[2]))


def done_chunks(session: Session, key: str) -> dict[int, list[int]]:
    """Finished chunks of the job: chunk index -> its architecture ids."""
    rows = session.execute(
        select(WorkClaim.chunk_index, WorkClaim.architecture_ids).where(
            WorkClaim.job_key == key, WorkClaim.state == DONE
        )
    )
    return {int(index): list(ids) for index, ids in rows}


def server_now(session: Session) -> datetime:
    """The database server's clock (leases and reopening compare with it, not ours)."""
    return session.scalar(select(func.clock_timestamp()))  # type: ignore[return-value]
