"""Exception hierarchy: every error a user can cause says what was wrong and where."""


class PipelineError(Exception):
    """Base class of all errors the pipeline raises on purpose."""


class ConfigError(PipelineError):
    """The study configuration is invalid; the message names the key path."""


class InputFileError(PipelineError):
    """A simulation or intermediate file is missing, truncated or lacks a field.

    The message names the file and, where relevant, the HDF5 key.
    """


class DataError(PipelineError):
    """The data are readable but unusable (NaNs, empty selection, empty mass bin, ...)."""


class BackendUnavailableError(PipelineError):
    """An optional symbolic-regression backend cannot run on this machine."""
