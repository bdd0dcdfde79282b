"""Typed errors. Each names what a user must look at: the config key, the file, or the stage and shard."""


class MdfsError(Exception):
    """Base of every error mdfs raises on purpose; the CLI prints these without a traceback."""


class ConfigError(MdfsError):
    """A config key is unknown or has a bad value; raised before any work starts."""


class InputError(MdfsError):
    """An input cannot be used at all (missing, unreadable schema, no text column). Names the file."""


class OutputError(MdfsError):
    """The output location is unsafe or unusable (not an mdfs run, inside the input, disk full)."""


class EngineError(MdfsError):
    """The execution engine cannot start or reach its cluster."""


class StageError(MdfsError):
    """A stage or hook raised while processing; names the stage, the shard and the hook."""

    def __init__(self, message: str, *, stage: str = "", shard: str = "", hook: str = ""):
        where = ", ".join(f"{k}={v}" for k, v in (("stage", stage), ("shard", shard), ("hook", hook)) if v)
        super().__init__(f"{message} [{where}]" if where else message)
        self.stage, self.shard, self.hook = stage, shard, hook


class ConservationError(MdfsError):
    """Documents in != kept + rejected somewhere: a document was lost or invented."""
