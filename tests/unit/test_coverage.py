"""Parameter coverage of held-out samples (pipeline.discovery.coverage) on a planted table."""

import numpy as np
from astropy.table import Table

from pipeline.discovery.coverage import coverage_warnings, parameter_coverage


def _rows(sample, omega_m, a_sn1, redshift=0.0, per_sim=3):
    rows = []
    for i, (om, a) in enumerate(zip(omega_m, a_sn1, strict=True)):
        for _ in range(per_sim):
            rows.append((sample, f"S_{i}", 24, redshift, om, a))
    return rows


def _table(*parts):
    return Table(rows=[r for part in parts for r in part],
                 names=["sample", "sim", "snapshot", "redshift", "Omega_m", "A_SN1"])


def _by(coverage, sample, parameter):
    return next(c for c in coverage if c.sample == sample and c.parameter == parameter)


def test_fixed_in_training_outside_and_covered():
    train = _rows("train", [0.3] * 10, np.geomspace(0.2509, 3.99, 10))  # an LH's extreme strata
    halos = _table(
        train,
        _rows("cosmology", np.linspace(0.1, 0.5, 5), [1.0] * 5),    # Omega_m varies: never seen
        _rows("feedback", [0.3] * 4, [0.25, 1.0, 6.0, 8.0]),        # 2 sims beyond A_SN1 = 4
        _rows("other-cosmo", [0.4] * 3, [1.0] * 3),                 # fixed, at another value
        _rows("onep", [0.3] * 3, [0.25, 1.0, 4.0]),                 # the nominal bounds: inside
    )
    cov = parameter_coverage(halos, ["train"], ["cosmology", "feedback", "other-cosmo", "onep"])
    c = _by(cov, "cosmology", "Omega_m")
    assert c.status == "fixed in training" and c.n_sims_outside == 4 and c.n_sims == 5
    assert (c.train_min, c.train_max) == (0.3, 0.3) and (c.holdout_min, c.holdout_max) == (0.1, 0.5)
    assert _by(cov, "cosmology", "A_SN1").status == "covered"
    f = _by(cov, "feedback", "A_SN1")
    assert f.status == "outside the training range" and f.n_sims_outside == 2
    assert _by(cov, "feedback", "Omega_m").status == "covered"
    assert _by(cov, "other-cosmo", "Omega_m").status == "fixed in training"
    assert all(c.status == "covered" for c in cov if c.sample == "onep")
    assert all(c.status == "covered" for c in cov if c.parameter == "redshift")
    # the same snapshot of another code, a hair later: no alarm
    at_z = _rows("train", [0.3] * 10, np.geomspace(0.2509, 3.99, 10), redshift=0.53726)
    near = _table(at_z, _rows("simba", [0.3] * 2, [1.0] * 2, redshift=0.53761))
    assert {c.status for c in parameter_coverage(near, ["train"], ["simba"])} == {"covered"}
    warnings = coverage_warnings(cov)
    assert set(warnings) == {"cosmology", "feedback", "other-cosmo"}
    assert warnings["cosmology"] == [
        "Omega_m is 0.1 to 0.5 here (4 of 5 simulations outside training) but fixed at 0.3 in "
        "training: no relation can have learnt that dependence"]
    assert "A_SN1 is 0.25 to 8 here (2 of 4 simulations outside training) but 0.2509 to 3.99" \
        in warnings["feedback"][0]


def test_coverage_skips_parameters_a_set_lacks():
    """A parameter NaN in the held-out set (another code's table lacks it) is not compared."""
    halos = _table(_rows("train", [0.3] * 3, [1.0, 2.0, 3.0]), _rows("held", [0.3] * 2, [np.nan] * 2))
    cov = parameter_coverage(halos, ["train"], ["held"])
    assert {c.parameter for c in cov} == {"redshift", "Omega_m"}
