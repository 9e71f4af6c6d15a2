"""Issue 26, fuzzed: swapped and edited integrity-covered files, and code changed without a version bump.

Hypothesis picks which file, which byte and how it changes (or which entries trade places, or which
module of a plugin is edited); the property is always the same: what emoframe checks is refused with
the file named, or is a miss — never used, never overwritten. CI runs a bounded number of examples;
``pytest -m nightly`` or EMOFRAME_FUZZ_EXAMPLES=N runs more.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emoframe import BundleError
from emoframe.deploy.bundle import open_bundle
from emoframe.features import FeatureCache, extract_features
from emoframe.ownership import OwnershipError
from emoframe.plugin.registry import Registry

from . import toy_plugin
from .audio_files import tone, write_wav

EXAMPLES = int(os.environ.get("EMOFRAME_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], database=None
)
REG = Registry.from_entry_points(allow=[])
REG.add_plugin(toy_plugin, name="toy")

pytestmark = pytest.mark.slow


def files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from emoframe.data.synth import generate

    return generate(tmp_path_factory.mktemp("fuzz-integrity") / "corpus", seed=2, speakers=2, per_class=1)


@pytest.fixture(scope="module")
def bundle(corpus, tmp_path_factory) -> Path:
    """A late-fusion toy bundle: extractor state, model arrays, a fusion, bundle.json, marker, digests."""
    from emoframe.deploy.train import train_bundle
    from emoframe.spec import parse_spec

    spec = parse_spec(
        {
            "name": "fuzzed",
            "data": {"manifest": str(corpus / "manifest.csv")},
            "branches": {
                "audio": {"extractor": "toy.energy", "model": "toy.centroid"},
                "text": {"extractor": "toy.words", "model": "toy.centroid"},
            },
            "fusion": "fusion.late",
        }
    )
    return train_bundle(spec, tmp_path_factory.mktemp("fuzz-bundle") / "b", REG, jobs=1).path


def test_the_fuzzed_bundle_covers_every_kind_of_file(bundle):
    names = files_of(bundle)
    assert {"bundle.json", "bundle.sha256", ".emoframe-owned"} <= set(names)
    assert any(n.endswith(".safetensors") for n in names) and len(names) >= 8
    open_bundle(bundle, REG, strict=True)  # untouched: loads, nothing to warn about


@FUZZ
@given(data=st.data())
def test_any_edited_byte_of_any_bundle_file_is_refused_naming_that_file(bundle, data):
    names = files_of(bundle)
    rel = data.draw(st.sampled_from(names), label="file")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(bundle, Path(tmp) / "b"))
        blob = bytearray((copy / rel).read_bytes())
        how = data.draw(st.sampled_from(["flip", "append", "truncate"]), label="how")
        if how == "flip" and blob:
            at = data.draw(st.integers(0, len(blob) - 1), label="byte")
            blob[at] ^= data.draw(st.integers(1, 255), label="xor")
        elif how == "append":
            blob += data.draw(st.binary(min_size=1, max_size=8), label="added")
        else:
            del blob[data.draw(st.integers(0, max(0, len(blob) - 1)), label="cut") :]
        (copy / rel).write_bytes(bytes(blob))
        with pytest.raises(BundleError) as refused:
            open_bundle(copy, REG)
        assert str(copy / rel) in str(refused.value), (rel, how, str(refused.value))


@FUZZ
@given(data=st.data())
def test_an_added_removed_or_linked_file_is_refused_naming_it(bundle, data):
    names = files_of(bundle)
    folders = sorted({str(Path(n).parent) for n in names})
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(bundle, Path(tmp) / "b"))
        how = data.draw(st.sampled_from(["remove", "add", "link"]), label="how")
        if how == "remove":
            rel = data.draw(st.sampled_from(names), label="removed")
            (copy / rel).unlink()
        else:
            folder = data.draw(st.sampled_from(folders), label="folder")
            name = data.draw(st.from_regex(r"[a-z][a-z0-9_.-]{0,12}", fullmatch=True), label="name")
            rel = str(Path(folder) / name) if folder != "." else name
            if (copy / rel).exists():
                return
            if how == "add":
                (copy / rel).write_bytes(data.draw(st.binary(max_size=32), label="content"))
            else:
                (copy / rel).symlink_to(copy / "bundle.json")
        with pytest.raises(BundleError) as refused:
            open_bundle(copy, REG)
        assert str(copy / rel) in str(refused.value), (rel, how, str(refused.value))


def cache_corpus(root: Path, n: int):
    from emoframe.data.manifest import Manifest

    rows = []
    for i in range(n):
        path = write_wav(root / "wav" / f"u{i}.wav", tone(0.3 + 0.05 * i, freq=120 + 60 * i, amp=0.1 + 0.08 * i))
        rows.append({"id": f"u{i}", "audio": str(path), "text": "", "label": "ab"[i % 2], "speaker": f"s{i}"})
    return Manifest.from_frame(pd.DataFrame(rows))


@FUZZ
@given(order=st.permutations(range(6)))
def test_cache_entries_swapped_among_keys_are_each_a_miss(order):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        m = cache_corpus(root, 6)
        clean = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(root / "cache")).matrix()
        entries = sorted((root / "cache").rglob("*.efc"))
        blobs = [e.read_bytes() for e in entries]
        for entry, k in zip(entries, order):
            entry.write_bytes(blobs[k])
        moved = sum(i != k for i, k in enumerate(order))
        again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(root / "cache"))
        assert (again.hits, again.corrupt) == (6 - moved, moved)
        np.testing.assert_array_equal(again.matrix(), clean)


@FUZZ
@given(data=st.data())
def test_synth_never_replaces_a_corpus_file_whose_content_changed(corpus, data):
    from emoframe.data.synth import generate

    names = [n for n in files_of(corpus) if n != ".emoframe-owned"]
    rel = data.draw(st.sampled_from(names), label="file")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(shutil.copytree(corpus, Path(tmp) / "c"))  # the marker comes along, as in a copied folder
        blob = bytearray((copy / rel).read_bytes())
        at = data.draw(st.integers(0, len(blob) - 1), label="byte")
        blob[at] ^= data.draw(st.integers(1, 255), label="xor")
        (copy / rel).write_bytes(bytes(blob))
        before = {n: (copy / n).read_bytes() for n in files_of(copy)}
        with pytest.raises(OwnershipError, match=rf"{rel} \(changed since emoframe wrote it\)"):
            generate(copy, seed=3, speakers=2, per_class=1)
        assert {n: (copy / n).read_bytes() for n in files_of(copy)} == before


@FUZZ
@given(data=st.data())
def test_an_edited_report_is_never_redrawn_without_force(data):
    from emoframe.errors import EmoframeError
    from emoframe.results.report import check_report_target, report_owner

    body = b"<html><body>" + data.draw(st.binary(min_size=1, max_size=200), label="body") + b"</body></html>"
    key = "0123456789abcdef" * 2
    digest = hashlib.sha256(key.encode() + b"\n" + body).hexdigest()
    head = f"<!doctype html><!-- emoframe report {key} {digest} -->\n".encode()
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "index.html"
        page.write_bytes(head + body)
        assert report_owner(page) == (True, key)
        check_report_target(tmp)
        blob = bytearray(page.read_bytes())
        in_head = data.draw(st.booleans(), label="in the first line")  # the key and digest are covered too
        at = data.draw(
            st.integers(0, len(head) - 1) if in_head else st.integers(len(head), len(blob) - 1), label="byte"
        )
        blob[at] ^= data.draw(st.integers(1, 255), label="xor")
        page.write_bytes(bytes(blob))
        assert not report_owner(page)[0]
        with pytest.raises(EmoframeError, match="emoframe did not write it"):
            check_report_target(tmp)
        check_report_target(tmp, force=True)


# -- code changed without a version bump ------------------------------------------------------------------

CLOSURES = {  # module of the code plugin → the components whose code it is
    "extractors.py": {"cc.energy"},
    "features.py": {"cc.energy"},
    "models.py": {"cc.centroid"},
    "scoring.py": {"cc.centroid"},
    "__init__.py": set(),  # registers both, but neither's code imports it
}


@FUZZ
@given(data=st.data())
def test_an_edit_to_any_module_changes_exactly_the_digests_of_the_components_it_is_code_of(code_plugin, data):
    from emoframe.code_digest import code_digest

    from . import code_plugin as cp

    module = data.draw(st.sampled_from(sorted(CLOSURES)), label="module")
    edit = data.draw(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=40), label="comment")
    cp.write(code_plugin)
    before = {n: code_digest(cp.registry(code_plugin).get(n).cls) for n in ("cc.energy", "cc.centroid")}
    path = code_plugin / cp.PACKAGE / module
    path.write_text(path.read_text() + f"\n# edited {edit!r}\n")  # behaviour-neutral: still a new digest
    after = {n: code_digest(cp.registry(code_plugin).get(n).cls) for n in ("cc.energy", "cc.centroid")}
    assert {n for n in before if before[n] != after[n]} == CLOSURES[module]


@settings(max_examples=max(3, EXAMPLES // 10), deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(module=st.sampled_from(["features.py", "scoring.py"]), value=st.sampled_from(["0.5", "2.0", "3.0"]))
def test_a_benchmark_reruns_exactly_the_pipelines_whose_code_changed(corpus, code_plugin, tmp_path, module, value):
    """The fault class end to end: the edit changes behaviour, the version stays, the figures follow the code."""
    from emoframe.bench.events import RunPlanned
    from emoframe.bench.runner import run_benchmark
    from emoframe.spec import parse_spec

    from . import code_plugin as cp

    spec = parse_spec(
        {
            "name": "fuzz-code",
            "kind": "benchmark",
            "data": {"manifest": str(corpus / "manifest.csv")},
            "evaluation": {"protocol": "loso", "bootstrap": 10},
            "branches": {"audio": {"extractor": "cc.energy", "model": ["cc.centroid", "toy.centroid"]}},
        }
    )
    cp.write(code_plugin)
    with tempfile.TemporaryDirectory(dir=tmp_path) as wd:
        first = run_benchmark(spec, cp.registry(code_plugin), wd, jobs=1)
        cp.write(code_plugin, **({"extra": f"{value} * e.min()"} if module == "features.py" else {"sharpness": value}))
        planned: list = []
        again = run_benchmark(spec, cp.registry(code_plugin), wd, jobs=1, events=planned.append)
        event = next(e for e in planned if isinstance(e, RunPlanned))
    component = "cc.energy" if module == "features.py" else "cc.centroid"
    pipelines = 2 if component == "cc.energy" else 1
    assert again.run_id == first.run_id and again.ran == pipelines * first.n_folds
    assert event.code_changes == (
        f"{component}'s code changed since run {first.run_id[:12]} was stored (version 1 unchanged): "
        f"rerunning {pipelines * first.n_folds} pipeline-fold(s) of {pipelines} pipeline(s)",
    )
