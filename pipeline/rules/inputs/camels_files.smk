# The files of the particles and catalog kinds: one snapshot and/or group catalog per
# (suite, volume, set, simulation, snapshot) in a CAMELS layout (pipeline/io/layout.py), of the
# CAMELS suites or written by the mock. Included by their rule files.

# one root per (suite, volume, set) (checked with the config); the mock's is DATA's
ROOT_OF_SET = {} if IS_MOCK else {(s.suite, s.volume, s.set): s.root for s in SAMPLES.values()}
ONE_ROOT = all(os.path.abspath(r) == os.path.abspath(DATA["root"]) for r in ROOT_OF_SET.values())


def data_of_set(suite, volume, sset):
    """The data options (layout, root) of one set: its samples' root."""
    return {**DATA, "root": ROOT_OF_SET.get((suite, volume, sset), DATA["root"])}


def _chunk_finder(what):
    """Input function: the single file of ``what`` (snapshot or catalog) in its set's root, or
    its chunks .0, .1, ... if that is absent."""
    path_of = {"snapshot": layout.snapshot_path, "catalog": layout.catalog_path}[what]

    def files(wildcards):
        return _existing_or_chunks(
            path_of(data_of_set(wildcards.suite, wildcards.volume, wildcards.simset),
                    wildcards.suite, wildcards.sim, int(wildcards.snap), wildcards.volume,
                    wildcards.simset))

    return files


def _samples_reading(source):
    """The samples that read one (suite, volume, set, sim, snapshot)."""
    suite, volume, sset, sim, snap = source
    return [name for name, s in SAMPLES.items()
            if (s.suite, s.volume, s.set) == (suite, volume, sset) and sim in s.sims
            and snap in s.snapshots]


def _check_particle_inputs():
    """Whether every snapshot and catalog is a single file. Missing ones stop the workflow
    (WorkflowError naming sample, simulation and snapshot, not Snakemake's list of every path),
    or, where every sample reading them says ``missing: skip``, leave SOURCES and are counted
    in MISSING_REPORT."""
    single, missing, skipped = True, [], []
    path_of = {"snapshot": layout.snapshot_path, "catalog": layout.catalog_path}
    kinds = [(what, path_of[what]) for what in KIND.layout_files]
    total = len(kinds) * len(SOURCES)
    for source in SOURCES:
        suite, volume, sset, sim, snap = source
        data = data_of_set(suite, volume, sset)
        for what, path_of in kinds:
            path = path_of(data, suite, sim, snap, volume, sset)
            if os.path.exists(path):
                continue
            single = False
            if not layout.chunk_path(path, 0).exists():
                others = [f for f in _existing_or_chunks(path) if f != path]
                found = (f"no {what} chunk {layout.chunk_path(path, 0)} ({len(others)} other "
                         f"chunk(s) of it exist)" if others else f"no {what} {path}")
                readers = _samples_reading(source)
                line = f"sample {readers[0]!r}: simulation {sim}, snapshot {snap:03d}: {found}"
                if all(SAMPLES[n].missing == "skip" for n in readers):
                    skipped.append((source, found))
                    break
                missing.append(line)
    if missing:
        raise WorkflowError(_missing_message(
            " and ".join(w for w, _ in kinds) + " files", missing, total,
            "the samples' roots (data.root, samples.<name>.root), data.layout "
            f"({DATA['layout']}), sims and snapshots, or set missing: skip for a ragged set"))
    if skipped:
        what_missing = dict(skipped)  # source -> the first file found absent (named)
        for name, sample in SAMPLES.items():
            units = [(sample.suite, sample.volume, sample.set, sim, snap)
                     for sim in sample.sims for snap in sample.snapshots]
            lost = [u for u in units if u in what_missing]
            example = what_missing[lost[0]] if lost else ""
            if len(lost) == len(units):
                raise WorkflowError(f"sample {name!r}: none of its {len(units)} (simulation, "
                                    f"snapshot) has its files under {sample.root}, e.g. "
                                    f"{example}: check its root, suite, sims and snapshots")
            if lost:
                MISSING_REPORT[name] = {"snapshots": {"expected": len(units),
                                                      "found": len(units) - len(lost)}}
                print(f"sample {name}: {len(lost)} of {len(units)} (simulation, snapshot) lack a "
                      f"file and are skipped (missing: skip), e.g. simulation {lost[0][3]}, "
                      f"snapshot {lost[0][4]:03d}: {example}", file=sys.stderr)
        SOURCES[:] = [src for src in SOURCES if src not in what_missing]
    return single


_INGEST_INPUTS = {}


def ingest_inputs():
    """The ingest inputs (snapshot and catalog). Where every one is a single file in one root
    (and always for the mock, which writes them), wildcard patterns; else functions that find
    each set's root and chunk files. Per-job callables and input files are what makes building
    the DAG slow with thousands of simulations (bench/dag.py), so the common case has none."""
    if not _INGEST_INPUTS:
        patterns = {what: layout.wildcard_pattern(DATA, what)
                    for what in KIND.layout_files}
        if IS_MOCK:  # the mock's own files, single or chunked as mock.files_per_snapshot says
            _INGEST_INPUTS.update({w: mock_output_files(w) for w in patterns})
        elif _SINGLE_FILES and ONE_ROOT:
            _INGEST_INPUTS.update(patterns)
        else:
            _INGEST_INPUTS.update({w: _chunk_finder(w) for w in patterns})
    return dict(_INGEST_INPUTS)


def set_params_files():
    """'suite/volume/set' -> its simulation parameter file, for the sets that have one (joined
    at assemble)."""
    files = {f"{suite}/{volume}/{sset}": layout.params_path(data_of_set(suite, volume, sset),
                                                             suite, volume, sset)
             for suite, volume, sset in SETS}
    return {k: f for k, f in files.items() if IS_MOCK or os.path.exists(f)}


def _existing_or_chunks(path):
    """The single file, or the chunks of it that exist (chunk 0 first): the reader then names
    the missing ones from the chunk count in the header."""
    if os.path.exists(path):
        return [path]
    stem, ext = os.path.splitext(path)
    named = {f: layout.chunk_of(f) for f in glob.glob(f"{glob.escape(stem)}.*{ext}")}
    chunks = sorted((f for f, c in named.items() if c and str(c[0]) == os.path.normpath(path)),
                    key=lambda f: named[f][1])
    return chunks or [path]  # a missing file then fails with Snakemake's MissingInputException


def halo_tables():
    """Every table assemble joins: one per (suite, volume, set, sim, snapshot)."""
    return [f"{RES}/halos/{suite}/{volume}/{sset}/{sim}_{snap:03d}.h5"
            for suite, volume, sset, sim, snap in SOURCES]


# real particle data: checked (and skipped inputs left out) before any rule reads SOURCES
_SINGLE_FILES = _check_particle_inputs() if not IS_MOCK else True
