"""The public CAMELS stacks as users have them: a clone of the emu_CAMELS repository, read as
cloned (no simulations.csv / snapshots.csv), its facts from package data; samples by redshift;
the bad inputs of such a clone."""

import numpy as np
import pytest
from conftest import REAL_CAMELS, real_data, write_emu_clone

from pipeline.config import validate_config
from pipeline.errors import ConfigError, InputFileError
from pipeline.ingest.stacks import StackOptions, measure_stack_block
from pipeline.io.camels_facts import (
    CAMELS_COSMOLOGY,
    legacy_1p_parameters,
    legacy_1p_varied,
    snapshot_redshifts,
)
from pipeline.io.camels_stacks import (
    is_emu_clone,
    list_stack_files,
    profile_path,
    read_simulation_table,
    stack_parameters,
    stack_redshifts,
)

SHARED = REAL_CAMELS
needs_clone = real_data


def test_package_facts_say_where_they_come_from_and_match_camels():
    assert legacy_1p_parameters("1P_27") == {"Omega_m": 0.3, "sigma_8": 0.8, "A_SN1": 1.0,
                                             "A_AGN1": 1.0, "A_SN2": 1.0, "A_AGN2": 1.0}
    assert legacy_1p_parameters("1P_22")["A_SN1"] == 0.25
    assert legacy_1p_parameters("1P_43")["A_AGN1"] == 4.0
    assert legacy_1p_parameters("1P_0")["Omega_m"] == pytest.approx(0.1)
    assert legacy_1p_varied("1P_58") == "A_AGN2"
    with pytest.raises(InputFileError, match=r"'1P_66' is not in the legacy 1P grid \(1P_0 .. 1P_65"):
        legacy_1p_parameters("1P_66")
    tng, simba = snapshot_redshifts("legacy", "IllustrisTNG"), snapshot_redshifts("legacy", "SIMBA")
    assert tng[33] == 0.0 and tng[24] == 0.53726 and simba[24] == 0.53761  # third decimal differs
    assert snapshot_redshifts("camels2024", "Astrid") == {90: 0.0}
    # the schema's stacks cosmology is the CAMELS one
    from pipeline.defaults import section_defaults

    assert section_defaults("stacks")["hubble_param"] == CAMELS_COSMOLOGY["h"]
    assert section_defaults("stacks")["omega_b"] == CAMELS_COSMOLOGY["Omega_b"]


def test_a_clone_is_read_as_cloned(tmp_path):
    clone = write_emu_clone(tmp_path)
    assert is_emu_clone(clone) and not (clone / "simulations.csv").exists()
    listing = list_stack_files(clone, "IllustrisTNG")
    assert set(listing) == {"1P_22", "1P_23", "1P_24", "1P_25", "LH_0", "LH_1", "LH_2", "LH_3"}
    assert all(k[1] != "w" for files in listing.values() for k in files)  # no _w file listed
    assert profile_path(clone, "SIMBA", "1P_23", 33, "11-11.5").exists()
    params = stack_parameters(clone, "IllustrisTNG", ["1P_22", "LH_2"])
    assert params[("IllustrisTNG", "1P_22")]["A_SN1"] == 0.25  # the legacy grid
    assert params[("IllustrisTNG", "LH_2")]["Omega_m"] == pytest.approx(0.3)  # CosmoAstroSeed
    redshifts = stack_redshifts(clone)
    assert redshifts[("SIMBA", 32)] == 0.04896 and redshifts[("IllustrisTNG", 24)] == 0.53726
    table = measure_stack_block(clone, "IllustrisTNG", ["1P_22", "LH_1"], StackOptions())
    assert len(table) == 2 * 4 + 4 and table.meta["files_skipped"] == {"no redshift": 0,
                                                                     "no parameters": 0}
    lh = table[table["sim"] == "LH_1"]
    assert np.all(lh["Omega_m"] == 0.25) and np.all(lh["redshift"] == 0.53726)


def test_override_tables_are_accepted_and_must_agree(tmp_path):
    clone = write_emu_clone(tmp_path)
    (clone / "simulations.csv").write_text(
        "suite,simulation,Omega_m,sigma_8,A_SN1,A_AGN1,A_SN2,A_AGN2,Omega_b\n"
        "IllustrisTNG,1P_22,0.3,0.8,0.25,1.0,1.0,1.0,0.049\n")
    params = stack_parameters(clone, "IllustrisTNG", ["1P_22"])
    assert params[("IllustrisTNG", "1P_22")]["Omega_b"] == 0.049  # an extra column, added
    (clone / "simulations.csv").write_text(
        "suite,simulation,Omega_m,sigma_8,A_SN1,A_AGN1,A_SN2,A_AGN2\n"
        "IllustrisTNG,1P_22,0.3,0.8,0.5,1.0,1.0,1.0\n")
    with pytest.raises(InputFileError, match=r"simulations.csv gives A_SN1 = 0.5 for IllustrisTNG "
                                             r"1P_22, but the legacy 1P grid .* says 0.25"):
        stack_parameters(clone, "IllustrisTNG", ["1P_22"])
    (clone / "snapshots.csv").write_text("suite,snapshot,redshift\nSIMBA,032,0.06\n")
    with pytest.raises(InputFileError, match=r"snapshots.csv gives redshift 0.06 for SIMBA snapshot "
                                             r"032, but the legacy CAMELS numbering .* says 0.04896"):
        stack_redshifts(clone)


def test_bad_clones_name_the_path_and_what_was_expected(tmp_path):
    clone = write_emu_clone(tmp_path, lh_parameters=False)
    with pytest.raises(InputFileError, match=r"scripts/LH_emulator/CosmoAstroSeed_IllustrisTNG.txt "
                                             r"does not exist; the LH simulations of IllustrisTNG"):
        stack_parameters(clone, "IllustrisTNG", ["LH_0"])
    stack_parameters(clone, "IllustrisTNG", ["1P_22"])  # a 1P study does not need it
    with pytest.raises(InputFileError, match=r"'1P_66' is not in the legacy 1P grid"):
        stack_parameters(clone, "IllustrisTNG", ["1P_66"])


def _stacks_study(root, **sample) -> dict:
    return {"study": "s", "data": {"kind": "stacks", "root": str(root)},
            "samples": {"a": {"suite": "IllustrisTNG", "set": "1P", "sims": ["1P_22..1P_25"],
                              **sample},
                        "b": {"suite": "SIMBA", "set": "1P", "sims": ["1P_22..1P_25"],
                              "snapshots": [33]}},
            "train": ["a"], "holdout": ["b"],
            "targets": [{"name": "M", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6}],
            "features": ["log10_Y200c_ss", "c_gas"], "rank": {"top_k": 1}}


def test_samples_may_name_redshifts(tmp_path):
    clone = write_emu_clone(tmp_path)
    cfg = validate_config(_stacks_study(clone, redshifts=[0.0, 0.05]))
    assert cfg["samples"]["a"]["snapshots"] == [32, 33]
    with pytest.raises(ConfigError, match=r"'samples.a.redshifts': no snapshot near z = 1: the "
                                          r"nearest, 024, is at z = 0.53726"):
        validate_config(_stacks_study(clone, redshifts=[1.0]))
    with pytest.raises(ConfigError, match=r"'samples.a': give snapshots or redshifts, not both"):
        validate_config(_stacks_study(clone, redshifts=[0.0], snapshots=[33]))
    # the mock: its own mapping; camels2024 particle data: z 0 is 090
    mock = validate_config({
        "study": "m", "data": {"kind": "mock", "root": "data/mock"},
        "samples": {"a": {"suite": "IllustrisTNG", "sims": ["LH_0..LH_3"], "redshifts": [0.1]},
                    "b": {"suite": "SIMBA", "sims": ["LH_0..LH_3"]}},
        "train": ["a"], "holdout": ["b"], "mock": {"redshifts": {90: 0.0, 88: 0.1}},
        "targets": [{"name": "M", "y": "log10_M200c", "x": "log10_Y200c_ss", "slope": 0.6}],
        "features": ["log10_Y200c_ss", "c_gas"], "rank": {"top_k": 1}})
    assert mock["samples"]["a"]["snapshots"] == [88]


@needs_clone
def test_the_shared_clone_reads_as_the_former_hand_made_tables_did():
    """The real files: parameters and redshifts from the clone and the package data equal the
    simulations.csv / snapshots.csv made by hand for this project's earlier copies."""
    params = stack_parameters(SHARED, "IllustrisTNG", ["1P_22", "1P_40", "1P_60", "LH_0", "LH_999"])
    assert params[("IllustrisTNG", "1P_40")]["A_AGN1"] == 1.7411
    assert params[("IllustrisTNG", "LH_0")]["Omega_m"] == 0.309
    assert params[("IllustrisTNG", "LH_0")]["sigma_8"] == 0.979
    old = SHARED.parent / "camels_1p_profiles" / "simulations.csv"
    if old.exists():
        table = read_simulation_table(old)
        for sim in ("1P_22", "1P_40", "1P_60"):
            for key, value in params[("IllustrisTNG", sim)].items():
                assert table[("IllustrisTNG", sim)][key] == pytest.approx(value, abs=1e-5), (sim, key)
    assert len(list_stack_files(SHARED, "IllustrisTNG")) == 44 + 1000


def test_the_six_camels_parameters_are_spelled_once():
    """They were spelled in seven modules and the schema; now in io/camels_facts.py alone, and
    the schema's mock.parameter_ranges and the package data's fiducial model agree with it."""
    import ast

    from conftest import REPO

    from pipeline.defaults import section_defaults
    from pipeline.io.camels_facts import CAMELS_PARAMETERS, camels_facts

    assert tuple(section_defaults("mock", "parameter_ranges")) == CAMELS_PARAMETERS
    assert tuple(k for k in camels_facts()["fiducial"] if k != "source") == CAMELS_PARAMETERS
    names = set(CAMELS_PARAMETERS)
    spelled = []
    for path in sorted((REPO / "pipeline").rglob("*.py")):
        if path.name == "camels_facts.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Tuple | ast.List | ast.Set):
                strings = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                if len(strings & names) >= 3:
                    spelled.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not spelled, f"import them from pipeline.io.camels_facts instead: {spelled}"
