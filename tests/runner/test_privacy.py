"""Pseudonymised customer ids (HMAC-SHA256, RFC 2104) for samples shown in reports."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from workbench.exceptions import ParameterError
from workbench.privacy import customer_sample, pseudonym, pseudonymise, pseudonymise_ids


def test_pseudonym_is_the_keyed_hmac():
    expected = "C-" + hmac.new(b"secret", b"7590-VHVEG", hashlib.sha256).hexdigest()[:10]
    assert pseudonym("7590-VHVEG", key="secret") == expected
    assert pseudonym("7590-VHVEG", key="other") != expected
    assert (
        pseudonym("7590-VHVEG", key="secret")
        != "C-" + hashlib.sha256(b"7590-VHVEG").hexdigest()[:10]
    )


def test_same_id_same_pseudonym_distinct_ids_distinct(telco):
    ids = telco.frame[telco.spec.id].tolist()
    ps = pseudonymise(ids, key="k")
    assert len(set(ps)) == len(set(ids)) == len(ids)
    assert pseudonymise(ids[:5], key="k") == ps[:5]


def test_default_key_is_stable_within_a_process(monkeypatch):
    monkeypatch.delenv("WORKBENCH_PSEUDONYM_KEY", raising=False)
    assert pseudonym("a") == pseudonym("a") != pseudonym("b")
    monkeypatch.setenv("WORKBENCH_PSEUDONYM_KEY", "env-key")
    assert pseudonym("a") == pseudonym("a", key="env-key")


def test_customer_sample_never_shows_real_ids(synthetic_small):
    ds = synthetic_small
    sample = customer_sample(ds, 8, columns=["tenure", "churned"], seed=1, key="k")
    assert list(sample.columns) == [ds.spec.id, "tenure", "churned"] and len(sample) == 8
    real = set(ds.frame[ds.spec.id].astype(str))
    assert not set(sample[ds.spec.id]) & real
    assert sample[ds.spec.id].str.fullmatch(r"C-[0-9a-f]{10}").all()
    # the rows are real customers' rows, only the id replaced
    orig = ds.frame.sample(n=8, random_state=1).reset_index(drop=True)
    assert sample["tenure"].tolist() == orig["tenure"].tolist()
    assert sample[ds.spec.id].tolist() == pseudonymise(orig[ds.spec.id], key="k")


def test_errors_name_the_argument():
    frame = pd.DataFrame({"cid": ["a", "b"], "x": [1, 2]})
    with pytest.raises(
        ParameterError,
        match=r"id_col='customer_id' is not a column of the frame \(columns: cid, x\)",
    ):
        pseudonymise_ids(frame, "customer_id")
    with pytest.raises(ParameterError, match=r"pass id_col="):
        customer_sample(frame)
    with pytest.raises(ParameterError, match=r"n must be a positive integer, got 0"):
        customer_sample(frame, 0, id_col="cid")
    with pytest.raises(ParameterError, match=r"unknown columns \['y'\]"):
        customer_sample(frame, 1, id_col="cid", columns=["y"])
    assert len(customer_sample(frame, 10, id_col="cid", key="k")) == 2
