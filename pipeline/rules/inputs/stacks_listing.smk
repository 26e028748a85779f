# Input kind stacks: the stacked-profile files listed once per (root, suite), checked (missing
# ones named, or counted for a ragged set), and cut into blocks of simulations cached across
# studies; what assemble joins. Included by stacks.smk.
from pipeline.ingest.stacks import MEASUREMENT_VERSION, missing_report, missing_stacks, stack_blocks
from pipeline.io.camels_stacks import list_stack_files, weighted_only

STACK_OPTIONS = {k: config["stacks"][k] for k in ("hubble_param", "omega_b")}

def _stack_cache(root):
    """Cache folder of one data root: shared by every study that reads the same files with
    the same cosmology."""
    key = json.dumps({"root": os.path.abspath(root), "version": MEASUREMENT_VERSION,
                      **STACK_OPTIONS}, sort_keys=True)
    return f"results/_stacks/{hashlib.sha256(key.encode()).hexdigest()[:12]}"

CACHE_OF_ROOT = {s.root: _stack_cache(s.root) for s in SAMPLES.values()}
ROOT_OF_CACHE = {os.path.basename(c): r for r, c in CACHE_OF_ROOT.items()}
_LISTINGS = {(s.root, s.suite): list_stack_files(s.root, s.suite) for s in SAMPLES.values()}
_absent = missing_stacks(SAMPLES, _LISTINGS)

def _absent_line(name, sim, snap, mass_bin):
    sample = SAMPLES[name]
    line = f"sample {name!r}: simulation {sim}, snapshot {snap:03d}, mass bin {mass_bin}"
    weighted = weighted_only(sample.root, sample.suite, sim, snap)
    if weighted is not None:  # a clone with the weighted product only
        line += (f" (only the weighted profile {weighted} is there; the pipeline reads the "
                 "unweighted *_uw_<mass bin>.txt stacks)")
    return line

_skip_or_stop(
    [(n, _absent_line(n, sim, snap, b)) for n, sim, snap, b in _absent],
    "stacked-profile files",
    sum(len(s.sims) * len(s.snapshots) * len(s.mass_bins) for s in SAMPLES.values()),
    "the samples' roots (data.root, samples.<name>.root), sims, snapshots and mass_bins, "
    "or set missing: skip for a ragged set")
try:
    MISSING_REPORT = missing_report(SAMPLES, _absent)
except DataError as exc:
    raise WorkflowError(str(exc)) from None
BLOCKS = {key: dict(stack_blocks(listing, config["stacks"]["block_size"]))
          for key, listing in _LISTINGS.items()}
_wanted = {(s.root, s.suite, sim) for s in SAMPLES.values() for sim in s.sims}
NEEDED_BLOCKS = [(os.path.basename(CACHE_OF_ROOT[root]), suite, block)
                 for (root, suite), blocks in BLOCKS.items() for block, sims in blocks.items()
                 if any((root, suite, sim) in _wanted for sim in sims)]


def halo_tables():
    """Every table assemble joins: the cached blocks of stacked profiles."""
    return [f"results/_stacks/{cache}/{suite}/{block}.h5" for cache, suite, block in NEEDED_BLOCKS]


def set_params_files():
    """No parameter file is joined: the stacks carry their simulations' parameters."""
    return {}


def stack_block_sims(wildcards):
    """The simulations of one block (input kind stacks)."""
    return BLOCKS[(ROOT_OF_CACHE[wildcards.cache], wildcards.suite)][wildcards.block]


def stack_block_files(wildcards):
    """Every stacked-profile file of one block's simulations (input kind stacks)."""
    files = _LISTINGS[(ROOT_OF_CACHE[wildcards.cache], wildcards.suite)]
    return [str(path) for sim in stack_block_sims(wildcards)
            for _, path in sorted(files[sim].items())]
