"""``tfnas-db reproduce thesis-fig12`` (Fernandes 2022, Fig. 12) on a small real store."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.helpers import populated_store, tfnas
from tfnas_db.db.queries import AccuracyColumn, load_score_table
from tfnas_db.db.store import open_store
from tfnas_db.search.rank_stats import kendall_tau_b


def test_fig12_measures_each_space_held_and_names_what_the_others_need(tmp_path: Path) -> None:
    url = populated_store(tmp_path, n_archs=30)
    out = tfnas("reproduce", "thesis-fig12", "--format", "json", "--db", url)
    assert out.returncode == 0, out.stderr
    rows = {(r["space"], r["dataset"]): r for r in json.loads(out.stdout)}
    tss = rows[("nats-tss", "cifar10")]
    with open_store(url).session() as session:
        table = load_score_table(
            session, "nats-tss", "cifar10", ["naswot", "relu_count"], AccuracyColumn("val", 200)
        )
    assert tss["column"] == "val_acc_200ep" and tss["n"] == tss["held"] == len(table)
    assert 25 <= len(table) <= 30  # singular K_H: naswot stored as nan, not a candidate
    assert "--limit 1000 --sample" in tss["missing"]  # fewer than the thesis's 1000
    expected = kendall_tau_b(table.scores["naswot"], table.accuracy)
    assert np.isclose(tss["tau_naswot"], expected)
    # populate scored cifar10 only; the other spaces are not in the store
    assert "--dataset cifar100" in rows[("nats-tss", "cifar100")]["missing"]
    assert rows[("nasbench101", "cifar10")]["missing"] == "tfnas-db db seed --space nasbench101"
    text = tfnas("reproduce", "thesis-fig12", "--db", url)
    assert text.returncode == 0 and "chart only" in text.stdout
