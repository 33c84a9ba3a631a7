"""The GPU path. Tests marked ``gpu`` need a CUDA device and skip with a message without
one (run them on a GPU machine: ``pytest -m gpu``); the others force, on the CPU, the
fallback of every branch that only CUDA takes, so both sides of each branch run in CI.
"""

from __future__ import annotations

import math

import pytest
import torch

from tfnas_db.db.models import ScoreStatus
from tfnas_db.scoring import passes
from tfnas_db.scoring.datasets import get_dataset
from tfnas_db.scoring.engine import ScoringEngine
from tfnas_db.scoring.minibatch import synthetic_minibatch
from tfnas_db.scoring.registry import REGISTRY
from tfnas_db.scoring.spaces import get_space

needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA GPU and torch sees none (run pytest -m gpu on a GPU machine)",
)

ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|avg_pool_3x3~2|",
]
FLOAT_SCORERS = ["jacov", "synflow", "logsynflow", "snip", "grad_norm", "fisher"]


def _engine(device: str, batch_size: int = 16) -> ScoringEngine:
    dataset = get_dataset("cifar10")
    minibatch = synthetic_minibatch(dataset, batch_size, 0)
    return ScoringEngine(get_space("nats-tss"), dataset, batch_size, 0, device, minibatch)


def _scores(device: str, names: list[str]) -> dict[tuple[str, str], float | None]:
    engine = _engine(device)
    specs = REGISTRY.resolve(names)
    out = {}
    for arch in ARCHS:
        for name, outcome in engine.score(arch, specs).items():
            assert outcome.status != ScoreStatus.ERROR, outcome.error
            out[(arch, name)] = outcome.value
    return out


@pytest.fixture()
def int_mm_memory() -> None:
    """code_products remembers per device whether torch._int_mm works; start afresh."""
    saved = dict(passes._INT_MM_WORKS)
    passes._INT_MM_WORKS.clear()
    yield
    passes._INT_MM_WORKS.clear()
    passes._INT_MM_WORKS.update(saved)


def test_naswot_float_gemm_fallback_equals_the_integer_gemm(
    int_mm_memory: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On CUDA torch._int_mm refuses many shapes; the float32 GEMM it falls back to must
    give the same exact integer kernel (and so the same NASWOT score)."""
    integer = _scores("cpu", ["naswot"])

    def refuse(*_args: object, **_kwargs: object) -> torch.Tensor:
        raise RuntimeError("_int_mm_out_cuda: self.size(0) needs to be greater than 16")

    monkeypatch.setattr(torch, "_int_mm", refuse)
    passes._INT_MM_WORKS.clear()
    fallback = _scores("cpu", ["naswot"])
    assert passes._INT_MM_WORKS == {"cpu": False}  # detected once, then remembered
    assert fallback == integer
    assert all(v is not None and math.isfinite(v) for v in integer.values())


def test_code_products_fallback_is_exact_on_a_hand_made_case(int_mm_memory: None) -> None:
    codes = torch.tensor([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]], dtype=torch.bool)
    expected = torch.tensor([[3, 1, 3], [1, 1, 1], [3, 1, 4]], dtype=torch.int64)
    passes._INT_MM_WORKS["cpu"] = False  # force the float GEMM
    assert torch.equal(passes.code_products(codes.contiguous()), expected)


def test_the_default_device_falls_back_to_the_cpu_without_cuda(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tfnas_db.scoring.device import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device(None) == "cpu"


@pytest.mark.gpu
@needs_cuda
def test_naswot_on_cuda_equals_the_cpu_exactly() -> None:
    assert _scores("cuda", ["naswot"]) == _scores("cpu", ["naswot"])


@pytest.mark.gpu
@needs_cuda
def test_float_scorers_on_cuda_agree_with_the_cpu() -> None:
    cpu, cuda = _scores("cpu", FLOAT_SCORERS), _scores("cuda", FLOAT_SCORERS)
    for key, value in cpu.items():
        other = cuda[key]
        if value is None or other is None:
            assert value == other, key
        else:
            assert math.isclose(value, other, rel_tol=1e-3, abs_tol=1e-6), (key, value, other)


@pytest.mark.gpu
@needs_cuda
def test_populate_on_cuda_records_the_device_per_score(sqlite_store_url: str) -> None:
    from sqlalchemy import select

    from tfnas_db.db.models import Score
    from tfnas_db.db.store import open_store
    from tfnas_db.jobs.populate import PopulateConfig, populate

    store = open_store(sqlite_store_url)
    summary = populate(
        store,
        PopulateConfig(scorers="naswot,params", limit=4, batch_size=16, device="cuda"),
        show_progress=False,
    )
    assert summary.scored == 4
    with store.session() as session:
        devices = set(session.scalars(select(Score.device)))
    assert devices == {"cuda", "none"}
    store.close()
