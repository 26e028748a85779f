"""Neutral hydrogen: the cold phase of star-forming gas (analytic), HI mass on a hand-made
snapshot under each star-forming rule, and the mock's planted HI-environment relation read back
through the readers."""

import numpy as np
import pytest
from astropy import constants as const
from astropy import units as u
from conftest import H, write_sphere_halo

from pipeline.errors import InputFileError
from pipeline.ingest.particles import IngestOptions, measure_halos
from pipeline.physics import hi

M_CODE = 1e-4  # gas cell mass of write_sphere_halo [1e10 Msun/h]


def test_density_threshold_and_cold_phase_of_the_effective_equation_of_state():
    rho_th = (0.13 * u.cm**-3 * const.m_p / 0.76).to(u.g / u.cm**3)
    assert hi.RHO_THRESHOLD_MSUN_KPC3 == pytest.approx(
        rho_th.to_value(u.Msun / u.kpc**3), rel=1e-12)
    assert rho_th.value == pytest.approx(2.86e-25, rel=0.01)
    rho = np.array([1.0, 3.0, 30.0, 300.0]) * hi.RHO_THRESHOLD_MSUN_KPC3
    u_hot = hi.U_SN_KM2_S2 / (1 + hi.A0 * (rho / hi.RHO_THRESHOLD_MSUN_KPC3) ** -0.8) + hi.U_COLD_KM2_S2
    for x in (0.0, 0.3, 0.9, 1.0):  # a cell on the effective EOS with cold fraction x
        u_eff = (1 - x) * u_hot + x * hi.U_COLD_KM2_S2
        np.testing.assert_allclose(hi.cold_phase_fraction(u_eff, rho), x, atol=1e-9)
    # hotter than the hot phase: no cold clouds; below the threshold: not star-forming physics
    assert hi.cold_phase_fraction(2 * u_hot, rho).max() == 0.0
    assert hi.cold_phase_fraction(hi.U_COLD_KM2_S2, 0.5 * hi.RHO_THRESHOLD_MSUN_KPC3)[()] == 0.0
    # the hot phase at the threshold is ~1e5 K gas (T_SN / (1 + A0))
    t_hot = (u_hot[0] * u.km**2 / u.s**2 * (2 / 3) * 0.6 * const.m_p / const.k_B).to_value(u.K)
    assert t_hot == pytest.approx(5.73e7 / 574 + 1000 * 0.6 / 1.22, rel=0.01)


def _hi_fields(sf_cold_fraction: float, gfm: bool = True):
    """Halo cells: f_HI 0.05 (star-forming: 0.3 as stored); background 0.5 (outside R200c);
    X_H 0.7 (GFM_Metals) or 1 - 0.02 - 0.28 (2-D Metallicity); star-forming cells at 10 x the
    density threshold on the effective EOS with cold fraction ``sf_cold_fraction``."""
    def fields(n_gas, n_bg):
        n = n_gas + n_bg
        n_sf = n_gas // 4
        f = np.full(n, 0.05)
        f[:n_sf] = 0.3
        f[n_gas:] = 0.5
        rho_phys = 10 * hi.RHO_THRESHOLD_MSUN_KPC3  # Msun/kpc^3; z = 0: a = 1
        rho_code = rho_phys * (1 / H) ** 3 / (1e10 / H)
        u_hot = hi.U_SN_KM2_S2 / (1 + hi.A0 * 10**-0.8) + hi.U_COLD_KM2_S2
        energy = np.full(n, 1e5)
        energy[:n_sf] = (1 - sf_cold_fraction) * u_hot + sf_cold_fraction * hi.U_COLD_KM2_S2
        out = {"NeutralHydrogenAbundance": f.astype(np.float32),
               "Density": np.full(n, rho_code, dtype=np.float32),
               "InternalEnergy": energy.astype(np.float32)}
        if gfm:
            metals = np.zeros((n, 10), dtype=np.float32)
            metals[:, 0] = 0.7
            out["GFM_Metals"] = metals
        else:
            out["GFM_Metallicity"] = None
            z2 = np.zeros((n, 11), dtype=np.float32)
            z2[:, 0], z2[:, 1] = 0.02, 0.28
            out["Metallicity"] = z2
        return out
    return fields


@pytest.mark.parametrize("rule, sf_share", [("stored", 0.3), ("cold_phase", 0.8), ("exclude", 0.0)])
def test_hi_mass_of_a_hand_made_halo_under_each_star_forming_rule(tmp_path, rule, sf_share):
    n_gas = 20000
    snap, cat, _ = write_sphere_halo(tmp_path, n_gas=n_gas, sf_fraction=0.25,
                                     extra_gas=_hi_fields(0.8))
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0,
                                               hi={"enabled": True, "star_forming": rule}))
    m_cell = M_CODE * 1e10 / H
    expected = m_cell * 0.7 * (0.75 * n_gas * 0.05 + 0.25 * n_gas * sf_share)
    assert t["MHI200c"].unit == u.Msun
    assert t["MHI200c"][0] == pytest.approx(expected, rel=1e-5)
    assert t["log10_MHI200c"][0] == pytest.approx(np.log10(expected), rel=1e-6)
    assert t["f_HI200c"][0] == pytest.approx(expected / t["Mgas200c"][0], rel=1e-6)
    assert t.meta["hi_star_forming"] == rule


def test_simba_style_hydrogen_fraction_and_a_missing_field(tmp_path):
    snap, cat, _ = write_sphere_halo(tmp_path / "simba", n_gas=8000, extra_gas=_hi_fields(0.0, gfm=False))
    t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0,
                                               hi={"enabled": True, "star_forming": "stored"}))
    # no star-forming cells here: the first quarter's stored 0.3 counts as it is
    assert t["MHI200c"][0] == pytest.approx(M_CODE * 1e10 / H * 0.70 * (6000 * 0.05 + 2000 * 0.3),
                                           rel=1e-5)
    off = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=10.0))
    assert "MHI200c" not in off.colnames  # off by default: the table is as before
    plain, plain_cat, _ = write_sphere_halo(tmp_path / "plain", n_gas=2000)
    with pytest.raises(InputFileError, match=r"snap_033.hdf5: field 'PartType0/"
                                             r"NeutralHydrogenAbundance' is missing"):
        measure_halos(plain, plain_cat, IngestOptions(log10_mass_min_msun=10.0, hi={"enabled": True}))


def test_mock_hi_follows_the_planted_environment_law(mock_snapshot):
    """The mock's HI, measured by the ingest: MHI200c / (X_H Mgas200c of non-star-forming gas) is
    the planted halo fraction, which falls with the overdensity as planted per code."""
    from astropy.table import Table

    from pipeline.mock.neutral_hydrogen import HI_ENVIRONMENT_SLOPE, HI_FRACTION

    for suite, (snap, cat, truth_path, _) in mock_snapshot.items():
        t = measure_halos(snap, cat, IngestOptions(log10_mass_min_msun=12.0,
                                                   hi={"enabled": True, "star_forming": "exclude"}))
        truth = Table.read(truth_path, path="table")
        planted = np.asarray(truth["hi_fraction"])[np.asarray(t["group_index"])]
        delta = np.asarray(truth["hi_overdensity"])[np.asarray(t["group_index"])]
        x_h = 0.76 if suite != "SIMBA" else None
        ratio = np.asarray(t["MHI200c"]) / np.asarray(t["Mgas200c"]) / planted
        # non-star-forming share of the gas and X_H: within a few per cent of 0.75
        assert np.median(ratio) == pytest.approx(x_h or 0.73, rel=0.05), suite
        # the planted law, read back: log f = log F - s min(delta, 5) + noise
        fit = np.polyfit(np.minimum(delta, 5.0), np.log(planted), 1)
        assert fit[0] == pytest.approx(-HI_ENVIRONMENT_SLOPE[suite], abs=0.05), suite
        assert np.exp(fit[1]) == pytest.approx(HI_FRACTION[suite], rel=0.1), suite


def test_fof_group_hi_where_the_snapshot_is_ordered_by_group(mock_snapshot):
    """The TNG-like mock writes its cells ordered by group (as Arepo/Subfind do): the FoF HI
    counts every cell of the group, out to the 2 R200c the mock fills, so it exceeds MHI200c;
    the SIMBA-like mock writes them unordered (as GIZMO does): NaN, and the meta says why."""
    opts = IngestOptions(log10_mass_min_msun=12.0, hi={"enabled": True, "star_forming": "exclude"})
    snap, cat, _, _ = mock_snapshot["IllustrisTNG"]
    t = measure_halos(snap, cat, opts)
    assert np.isfinite(t["MHI_fof"]).all()
    assert (np.asarray(t["MHI_fof"]) >= 0.999 * np.asarray(t["MHI200c"])).all()
    assert np.median(np.asarray(t["MHI_fof"]) / np.asarray(t["MHI200c"])) > 1.05
    assert t.meta["hi_fof"].startswith("cells ordered by FoF group")
    snap, cat, _, _ = mock_snapshot["SIMBA"]
    t = measure_halos(snap, cat, opts)
    assert np.isnan(t["MHI_fof"]).all()
    assert "not ordered by FoF group" in t.meta["hi_fof"]


def test_config_refuses_hi_columns_the_ingest_does_not_measure():
    import yaml
    from conftest import REPO

    from pipeline.config import validate_config
    from pipeline.errors import ConfigError

    study = yaml.safe_load((REPO / "studies" / "mock_hi_environment.yaml").read_text())
    assert validate_config(study)["ingest"]["hi"]["enabled"]
    study["ingest"]["hi"]["enabled"] = False
    with pytest.raises(ConfigError, match=r"targets.0' uses \['log10_MHI200c'\]: set "
                                          r"'ingest.hi.enabled: true'"):
        validate_config(study)
    stacks = yaml.safe_load((REPO / "studies" / "camels1p_tng_to_simba.yaml").read_text())
    stacks["targets"][2]["features"].append("f_HI200c")
    with pytest.raises(ConfigError, match="measured from gas particles; input kind 'stacks'"):
        validate_config(stacks)


def test_fof_group_hi_equals_a_brute_force_sum_over_each_groups_cells(mock_snapshot):
    """The TNG-like mock writes its cells ordered by group, two chunk files: MHI_fof of every
    halo equals the HI summed, in one pass over all cells, over the GroupLenType range of its
    group (the streamed, chunked sum against a direct one)."""
    from pipeline.ingest.particles import HIOptions, _cell_hi_mass
    from pipeline.io.gadget import GroupCatalog, Snapshot

    snap_path, cat_path, _, _ = mock_snapshot["IllustrisTNG"]
    opts = IngestOptions(log10_mass_min_msun=12.0, hi={"enabled": True, "star_forming": "stored"})
    table = measure_halos(snap_path, cat_path, opts)
    snap, cat = Snapshot(snap_path), GroupCatalog(cat_path)
    z_field = snap.gas_metallicity_field()
    fields = ["Masses", "NeutralHydrogenAbundance", "StarFormationRate", "InternalEnergy",
              "GFM_Metals", z_field]
    fields = [f for f in dict.fromkeys(fields) if f and snap.has_field(0, f)]
    cells = {f: np.concatenate([c[f] for c in snap.iter_fields(0, fields, chunk_size=10**9)])
             for f in fields}
    mhi = _cell_hi_mass(cells, snap.header, z_field, HIOptions(enabled=True, star_forming="stored"))
    ends = np.cumsum(cat.read("Group", ["GroupLenType"])["GroupLenType"][:, 0].astype(np.int64))
    starts = np.concatenate([[0], ends[:-1]])
    expected = np.array([mhi[starts[g]:ends[g]].sum() for g in np.asarray(table["group_index"])])
    np.testing.assert_allclose(np.asarray(table["MHI_fof"]), expected, rtol=1e-6)
