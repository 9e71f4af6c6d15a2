"""Issue 27 §2: the plugin contract in one room, one table of kinds, old module paths still importable."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from pydantic import Field

import emoframe
from emoframe.fusion.late import WeightedAverageFusion as ToyFusion
from emoframe.plugin import components, hookspecs, kinds
from emoframe.testing import check_transcriber, checks_for, parametrize_with_checks

from . import toy_plugin


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


class ToyTranscriber(emoframe.Transcriber):
    """Hears 'loud' or 'quiet' from the level of the recording (a transcriber small enough for tests)."""

    name = "room.levels"
    version = "1"

    class Params(emoframe.Params):
        threshold: float = Field(0.05, gt=0, description="RMS above which a recording is loud")

    def transcribe(self, signal: np.ndarray) -> emoframe.Transcription:
        rms = float(np.sqrt(np.mean(np.square(signal))))
        text = "loud" if rms > self.params.threshold else "quiet"
        return emoframe.Transcription(text, "en", ((0.0, len(signal) / self.sample_rate, text),))


class ForgetfulTranscriber(ToyTranscriber):
    """Hears something else in a batch than one by one: the check must say so."""

    name = "room.forgetful"

    def transcribe_batch(self, signals: Sequence[np.ndarray]) -> list[emoframe.Transcription]:
        return [emoframe.Transcription("") for _ in signals]


class PlainTextTranscriber(ToyTranscriber):
    """Returns a bare string, not a Transcription."""

    name = "room.plain"

    def transcribe(self, signal: np.ndarray) -> Any:
        return "loud"


ONE_OF_EACH_KIND = [toy_plugin.Energy, toy_plugin.Centroid, ToyFusion, toy_plugin.ToyCorpus, ToyTranscriber]


@parametrize_with_checks(ONE_OF_EACH_KIND)
def test_conformance_of_one_component_of_each_kind(component, check):
    check(component)


def test_every_kind_has_a_component_in_the_conformance_test_above():
    """A kind added to the table without a case here fails: parametrize_with_checks must cover every kind."""
    assert sorted(c.kind for c in ONE_OF_EACH_KIND) == sorted(kinds.KINDS)
    for cls in ONE_OF_EACH_KIND:
        names = [c.__name__ for c in checks_for(cls)]
        assert names == ["check_registrable", "check_rebuildable_by_workers", *kinds.BY_NAME[cls.kind].checks]


@pytest.mark.parametrize(
    ("cls", "rule"),
    [
        (ForgetfulTranscriber, "transcribe_batch differs from transcribe one by one"),
        (PlainTextTranscriber, "transcribe must return emoframe.Transcription"),
    ],
)
def test_check_transcriber_fails_a_transcriber_that_breaks_a_rule(cls, rule):
    with pytest.raises(AssertionError, match=rule):
        check_transcriber(cls)
