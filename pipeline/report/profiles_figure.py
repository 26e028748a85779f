"""The stacked-profile figure of a study (its own job: it needs only the profile stage's table,
so it is drawn while the discovery stages run, off the report's critical path)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from astropy.table import Table  # noqa: E402

from .figures import profile_comparison_figure, save_svg  # noqa: E402

__all__ = ["first_snapshot_profiles", "reference_stacks", "write_profiles_figure"]


def first_snapshot_profiles(profiles: Table) -> tuple[Table, float]:
    """The rows of the lowest redshift in the profile stage's table, and that redshift."""
    z = float(np.min(profiles["redshift"]))
    return profiles[np.isclose(np.asarray(profiles["redshift"], dtype=float), z)], z


def reference_stacks(reference_root: str | None, redshift: float) -> tuple[Table | None, str]:
    """The real CAMELS stacks under ``reference_root`` (an emu_CAMELS clone) that a mock is
    compared with at ``redshift``, and the sentence saying what they are; (None, "") without a
    reference (real data)."""
    if reference_root is None:
        return None, ""
    from ..radial_profiles.reference import fiducial_stacks_near

    return fiducial_stacks_near(reference_root, redshift)


def write_profiles_figure(out_svg: str | Path, profiles: Table,
                          reference_root: str | None) -> Path:
    """Draw the study's stacked profiles (lowest redshift) against the reference stacks under
    ``reference_root`` (none: no reference) into ``out_svg``."""
    first, z = first_snapshot_profiles(profiles)
    reference, _ = reference_stacks(reference_root, z)
    out = Path(out_svg)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_svg(profile_comparison_figure(first, reference, ""), out)
    return out
