"""Property-based fuzzing (issue 9 §5): hostile and clumsy specs and manifests never crash emoframe.

For any generated input, `validate` / `corpus info` exit 0 or 2, print no traceback and no
"internal error", and write nothing. CI runs a bounded number of examples; the ``nightly``
marker runs many more (``pytest -m nightly``, or EMOFRAME_FUZZ_EXAMPLES=N).
"""

from __future__ import annotations

import json
import os
import string

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoframe.cli import main
from emoframe.plugin import registry as registry_module
from emoframe.plugin.registry import Registry

from . import toy_plugin

EXAMPLES = int(os.environ.get("EMOFRAME_FUZZ_EXAMPLES", "60"))
NIGHTLY = 2000

REG = Registry.from_entry_points(allow=[])
REG.add_plugin(toy_plugin, name="toy")
NAMES = REG.names() + ["sklearn.svc", "fusion.lat", "", "toy.energy.x", "../etc/passwd", "[/]", "$\\alpha^$"]

hostile_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["[/]", "[red]x[/red]", "$\\alpha^$", "\x00", "../../x", "~", "{{}}", "%s%n", "é" * 5]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    hostile_text,
    st.sampled_from(NAMES),
)
ref = st.one_of(
    st.sampled_from(NAMES),
    st.fixed_dictionaries(
        {"name": st.sampled_from(NAMES)},
        optional={
            "params": st.dictionaries(
                st.sampled_from(["frame", "temperature", "weights", "C", "lowercase", "x"]), scalars, max_size=3
            )
        },
    ),
)
slot = st.one_of(ref, st.lists(ref, max_size=3), scalars)
branch = st.fixed_dictionaries(
    {},
    optional={
        "extractor": slot,
        "model": slot,
        "modality": scalars,
        "normalise": st.one_of(st.sampled_from(["none", "speaker"]), scalars),
    },
)
spec_doc = st.fixed_dictionaries(
    {
        "data": st.one_of(
            st.fixed_dictionaries({"corpus": ref}), st.fixed_dictionaries({"manifest": hostile_text}), scalars
        )
    },
    optional={
        "name": hostile_text,
        "branches": st.one_of(
            st.dictionaries(
                st.sampled_from(["audio", "text", "audio_2", "x", "[/]"]),
                st.one_of(branch, st.lists(branch, max_size=2), scalars),
                max_size=3,
            ),
            scalars,
        ),
        "fusion": slot,
        "model": slot,
        "evaluation": st.fixed_dictionaries(
            {},
            optional={
                "protocol": st.one_of(
                    st.sampled_from(["loso", "speaker_kfold", "predefined", "cross_corpus"]), scalars
                ),
                "folds": scalars,
                "seed": scalars,
                "bootstrap": scalars,
            },
        ),
        "execution": st.fixed_dictionaries({}, optional={"timeout": scalars}),
        "robustness": st.fixed_dictionaries({}, optional={"snr_db": st.lists(scalars, max_size=3)}),
        "kind": st.one_of(st.sampled_from(["pipeline", "benchmark"]), scalars),
    },
)

HOSTILE_FILES = [
    b"a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    b"branches: {audio: {extractor: *f}}\ndata: {corpus: demo}\n",
    b"[" * 3000 + b"]" * 3000,
    b"data: {corpus: demo}\ndata: {corpus: toy.corpus}\n",
    b"data: {corpus: demo}\nbranches: {audio: {extractor: toy.energy\n",
    b"\xff\xfe\x00d\x00a\x00t\x00a",
    b"!!python/object/apply:os.system ['echo pwned']\n",
    b"data: !!python/name:os.system\n",
    b"",
    b"- just\n- a list\n",
    b"data: {corpus: demo}\nbranches: {'[/]': {extractor: toy.energy, model: toy.centroid}}\n"
    b"name: '$\\\\alpha^$ [bold]'\n",
]


def run_cli(*args):
    registry_module._default = REG
    try:
        return CliRunner().invoke(main, list(map(str, args)))
    finally:
        registry_module._default = None


def assert_clean(result, folder, before):
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written


def check_spec_bytes(tmp_path, data: bytes, suffix: str = ".yaml"):
    folder = tmp_path
    path = folder / f"spec{suffix}"
    path.write_bytes(data)
    before = sorted(p.name for p in folder.iterdir())
    assert_clean(run_cli("validate", "--expand", path), folder, before)


@pytest.mark.parametrize("data", HOSTILE_FILES, ids=range(len(HOSTILE_FILES)))
def test_hostile_spec_files(tmp_path, data):
    check_spec_bytes(tmp_path, data)


def test_alias_bomb_is_refused_quickly_and_named(tmp_path):
    import time

    (tmp_path / "bomb.yaml").write_bytes(HOSTILE_FILES[0])
    t0 = time.monotonic()
    result = run_cli("validate", tmp_path / "bomb.yaml")
    assert time.monotonic() - t0 < 5 and result.exit_code == 2 and "aliases" in result.output


def test_duplicate_keys_and_syntax_errors_say_where(tmp_path):
    (tmp_path / "dup.yaml").write_bytes(HOSTILE_FILES[2])
    assert "duplicate key 'data'" in run_cli("validate", tmp_path / "dup.yaml").output
    (tmp_path / "bad.yaml").write_bytes(HOSTILE_FILES[3])
    assert (
        "line 3, column" in run_cli("validate", tmp_path / "bad.yaml").output.replace("\n", " ")
        or "line 2" in run_cli("validate", tmp_path / "bad.yaml").output
    )


def _fuzz_specs(tmp_path_factory, doc, as_json):
    folder = tmp_path_factory.mktemp("fuzz")
    data = (
        json.dumps(doc, default=str).encode()
        if as_json
        else yaml.safe_dump(doc, allow_unicode=True).encode("utf-8", "surrogatepass")
    )
    check_spec_bytes(folder, data, ".json" if as_json else ".yaml")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=spec_doc, as_json=st.booleans())
def test_generated_specs_exit_0_or_2(tmp_path_factory, doc, as_json):
    _fuzz_specs(tmp_path_factory, doc, as_json)


@pytest.mark.nightly
@settings(max_examples=NIGHTLY, deadline=None, suppress_health_check=list(HealthCheck))
@given(doc=spec_doc, as_json=st.booleans())
def test_generated_specs_exit_0_or_2_nightly(tmp_path_factory, doc, as_json):
    _fuzz_specs(tmp_path_factory, doc, as_json)


cell = st.one_of(
    st.text(alphabet=string.printable + "é€[]/$", max_size=12),
    st.sampled_from(["", "nan", "-1", "1e309", "../../etc/passwd", "/dev/null", "a,b", '"', "\n"]),
)
manifest_rows = st.lists(
    st.fixed_dictionaries(
        {}, optional={c: cell for c in ("id", "audio", "text", "label", "speaker", "split", "start", "end")}
    ),
    max_size=8,
)


def _fuzz_manifest(tmp_path_factory, rows, columns):
    import pandas as pd

    folder = tmp_path_factory.mktemp("manifest")
    frame = pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)
    path = folder / "m.csv"
    frame.to_csv(path, index=False)
    before = sorted(p.name for p in folder.iterdir())
    assert_clean(run_cli("corpus", "info", "--manifest", path), folder, before)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=manifest_rows,
    columns=st.lists(
        st.sampled_from(["id", "audio", "text", "label", "speaker", "split", "start", "end", "extra"]),
        unique=True,
        min_size=1,
    ),
)
def test_generated_manifests_exit_0_or_2(tmp_path_factory, rows, columns):
    _fuzz_manifest(tmp_path_factory, rows, columns)


@pytest.mark.nightly
@settings(max_examples=NIGHTLY, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=manifest_rows,
    columns=st.lists(
        st.sampled_from(["id", "audio", "text", "label", "speaker", "split", "start", "end", "extra"]),
        unique=True,
        min_size=1,
    ),
)
def test_generated_manifests_exit_0_or_2_nightly(tmp_path_factory, rows, columns):
    _fuzz_manifest(tmp_path_factory, rows, columns)
