"""Property tests: for any parameters and any (x, t_x, T) the log-likelihoods, gradients and
predictions are finite, P(alive) is a probability and expected purchases are non-negative."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.models import bgnbd, mbgnbd, paretonbd

log_param = st.floats(min_value=-6.0, max_value=6.0)
row = st.tuples(
    st.integers(min_value=0, max_value=5000),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.01, max_value=20_000.0),
)


@pytest.mark.parametrize("module", [bgnbd, mbgnbd, paretonbd])
@settings(max_examples=40, deadline=None)
@given(phi=st.tuples(log_param, log_param, log_param, log_param), rows=st.lists(row, min_size=1))
def test_everything_finite(module, phi, rows) -> None:
    params = np.exp(np.asarray(phi))
    x = np.array([float(r[0]) for r in rows])
    T = np.array([r[2] for r in rows])
    tx = np.where(x > 0, np.array([r[1] for r in rows]) * T, 0.0)
    ll, grad = module.loglik(params, (x, tx, T))
    assert np.all(np.isfinite(ll))
    assert np.all(np.isfinite(grad))
    named = dict(zip(module.PARAM_NAMES, params, strict=True))
    p = module.p_alive(named, x, tx, T)
    assert np.all((p >= 0) & (p <= 1))
