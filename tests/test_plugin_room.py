"""Issue 27 §2: the plugin contract in one room, one table of kinds, old module paths still importable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from emoframe.plugin import components, hookspecs, kinds


@pytest.mark.parametrize("old", ["hookspecs", "components", "contract", "registry"])
def test_an_old_module_path_warns_and_is_the_moved_module(old):
    """A third party's ``import emoframe.registry`` keeps working: the very module (monkeypatch reaches it), warned."""
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        f"import emoframe.plugin.{old} as new\n"
        "try:\n"
        f"    import emoframe.{old}\n"
        "except DeprecationWarning as w:\n"
        "    print('warned:', w)\n"
        "warnings.simplefilter('ignore', DeprecationWarning)\n"
        f"from emoframe import {old} as again\n"
        "print('same:', again is new)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert f"warned: emoframe.{old} is deprecated" in out and f"emoframe.plugin.{old}" in out
    assert "same: True" in out


def test_every_kind_is_derived_from_the_one_table():
    """The base classes, hooks and kind names all come from plugin.kinds, and each base says its kind."""
    assert kinds.KINDS == ("extractor", "model", "fusion", "corpus", "transcriber")
    assert components.KINDS == kinds.KINDS and components.BASES == kinds.BASES
    for kind in kinds.TABLE:
        assert kind.base.kind == kind.name
        assert hookspecs.HOOK_KINDS[kind.hook] == kind.name
        assert getattr(hookspecs, kind.hook).__doc__ == f"Register {kind.registers}."


def test_one_probability_check_for_a_matrix_and_for_branches():
    """check_probabilities holds a model's matrix and every branch of a late fusion's input to the same rules."""
    import numpy as np

    import emoframe

    good = np.array([[0.2, 0.8], [0.5, 0.5]])
    assert emoframe.check_probabilities(good, 2, "m").shape == (2, 2)
    assert set(emoframe.check_probabilities({"audio": good, "text": good}, 2, "f")) == {"audio", "text"}
    unnormalised = good * 0.5
    with pytest.raises(emoframe.ComponentError, match="m: predict_proba rows must sum to 1"):
        emoframe.check_probabilities(unnormalised, 2, "m")
    with pytest.raises(emoframe.ComponentError, match="f: branch 'text' rows must sum to 1"):
        emoframe.check_probabilities({"audio": good, "text": unnormalised}, 2, "f")
    with pytest.raises(emoframe.ComponentError, match="f: branch 'text' has 1 rows, others 2"):
        emoframe.check_probabilities({"audio": good, "text": good[:1]}, 2, "f")
    with pytest.raises(emoframe.ComponentError, match="f: branch 'audio' has NaN or inf"):
        emoframe.check_probabilities({"audio": good * np.nan}, None, "f")
    with pytest.warns(DeprecationWarning, match="use emoframe.check_probabilities"):
        old = emoframe.check_probas("f", {"audio": good}, 2)
    np.testing.assert_array_equal(old["audio"], good)
