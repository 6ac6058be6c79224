"""Where Keras keeps downloaded weights: one answer, standard library only.

`keras.utils.get_file` (and with it `keras.applications`) caches downloads in a folder this
module finds the same way, without importing Keras (nor its private `keras.src`), so the
feature extractors and srgan's VGG19 look for weights where Keras would have put them.
"""

import os


def keras_models_dir():
    """The folder where Keras keeps downloaded model weights (`~/.keras/models`).

    Mirrors `keras.utils.get_file`: `$KERAS_HOME` if set, else `~/.keras` (`/tmp/.keras`
    when the home folder is not writable), and `/tmp/.keras` again when that folder is not
    writable (e.g. does not exist yet); then its `models` sub-folder.
    """
    if "KERAS_HOME" in os.environ:
        base = os.environ["KERAS_HOME"]
    else:
        home = os.path.expanduser("~")
        if not os.access(home, os.W_OK):
            home = "/tmp"
        base = os.path.join(home, ".keras")
    base = os.path.expanduser(base)
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp", ".keras")
    return os.path.join(base, "models")
