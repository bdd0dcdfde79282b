"""mdfs: a Massive Data Filtering System for Chinese pretraining corpora, on Ray."""

__version__ = "0.1.0"


def run(config=None, input=None, output=None, **kwargs):
    """Run a pipeline and return its RunSummary. See `mdfs.pipeline.run` for the options."""
    from mdfs.pipeline import run as _run

    return _run(config, input, output, **kwargs)


__all__ = ["run", "__version__"]
