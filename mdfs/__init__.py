"""mdfs: a Massive Data Filtering System for Chinese pretraining corpora, on Ray."""

__version__ = "0.1.0"


def run(config=None, input=None, output=None, **kwargs):
    """Run a pipeline and return its RunSummary. See `mdfs.pipeline.run` for the options."""
    from mdfs.pipeline import run as _run

    return _run(config, input, output, **kwargs)


__all__ = ["__version__", "export", "run"]


def export(source, output, **kwargs):
    """Training-ready files of a target size from a run's corpus; see mdfs.export."""
    from mdfs.exporter import export as _export

    return _export(source, output, **kwargs)
