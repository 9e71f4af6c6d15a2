from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pandas as pd
import pytest

from emoframe.data.manifest import Manifest
from emoframe.features import FeatureCache, extract_features
from emoframe.features.cache import decode_entry, encode_entry

from . import toy_plugin
from .audio_files import tone, write_wav


def corpus(tmp_path, n=6):
    rows = []
    for i in range(n):
        path = write_wav(tmp_path / "wav" / f"u{i}.wav", tone(0.4 + 0.1 * i, freq=150 + 40 * i))
        rows.append(
            {
                "id": f"u{i}",
                "audio": str(path),
                "text": f"text {i}",
                "label": "a" if i % 2 else "b",
                "speaker": f"s{i % 3}",
            }
        )
    return Manifest.from_frame(pd.DataFrame(rows))


def test_hit_and_miss(tmp_path):
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    cold = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    warm = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    assert (cold.hits, cold.misses) == (0, 6) and (warm.hits, warm.misses) == (6, 0)
    np.testing.assert_array_equal(cold.matrix(), warm.matrix())
    assert cache.info() == {"toy.energy": {"entries": 6, "bytes": cache.info()["toy.energy"]["bytes"]}}


def test_params_change_invalidates(tmp_path):
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    other = extract_features(toy_plugin.Energy(frame=200), m, jobs=1, cache=cache)
    assert other.misses == 6


def test_audio_change_invalidates_only_that_sample(tmp_path):
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    write_wav(tmp_path / "wav" / "u2.wav", tone(0.7, freq=900, amp=0.8))
    again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    assert (again.hits, again.misses) == (5, 1)
    assert not np.allclose(first.matrix()[2], again.matrix()[2])


def test_segment_is_part_of_the_key(tmp_path):
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    seg = Manifest.from_frame(m.frame.assign(start=0.0, end=0.2))
    assert extract_features(toy_plugin.Energy(), seg, jobs=1, cache=cache).misses == 6


def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path):
    m = corpus(tmp_path, n=1)
    cache = FeatureCache(tmp_path / "cache")
    extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    (entry,) = (tmp_path / "cache").rglob("*.efc")
    entry.write_bytes(b"garbage")
    again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    assert (again.misses, again.corrupt) == (1, 1)
    assert decode_entry(entry.read_bytes(), entry.stem).shape == (4,)


def _writer(root, key, value, n):
    cache = FeatureCache(root)
    for _ in range(n):
        cache.put("x.y", key, np.full(5000, value, dtype=np.float32))


def test_concurrent_writers_never_tear_or_duplicate(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), "ab" + "0" * 62, 1.0, 200)) for _ in range(3)]
    for p in procs:
        p.start()
    reader = FeatureCache(tmp_path)
    seen = 0
    while any(p.is_alive() for p in procs):
        value = reader.get("x.y", "ab" + "0" * 62)
        if value is not None:
            assert value.shape == (5000,) and (value == 1.0).all()
            seen += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    files = list(tmp_path.rglob("*.efc"))
    assert len(files) == 1 and not list(tmp_path.rglob(".tmp-*"))


def test_clear_one_extractor_or_all(tmp_path):
    m = corpus(tmp_path, n=2)
    cache = FeatureCache(tmp_path / "cache")
    extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    extract_features(toy_plugin.Frames(), m, jobs=1, cache=cache)
    assert cache.clear("toy.frames") == 2 and set(cache.info()) == {"toy.energy"}
    assert cache.clear() == 2 and cache.info() == {}


def test_fitted_extractor_is_not_extracted_per_sample(tmp_path):
    from emoframe.errors import ComponentError

    with pytest.raises(ComponentError, match="fitted per fold"):
        extract_features(toy_plugin.Words(), corpus(tmp_path, n=1))


def _entries(root):
    return sorted(root.rglob("*.efc"))


def test_flipped_bytes_are_detected_recomputed_and_counted(tmp_path):
    """Issue 9 §2: a flipped byte in an entry must never reach a model."""
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    clean = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache).matrix()
    for entry in _entries(tmp_path / "cache")[:3]:
        blob = bytearray(entry.read_bytes())
        blob[-3] ^= 0x40  # inside the float data: still a loadable .npy, but not what was stored
        entry.write_bytes(bytes(blob))
    again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache"))
    assert (again.hits, again.misses, again.corrupt) == (3, 3, 3)
    np.testing.assert_array_equal(again.matrix(), clean)
    third = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache"))
    assert (third.hits, third.corrupt) == (6, 0)  # rewritten


@pytest.mark.parametrize("bad", [np.full(4, np.nan, dtype=np.float32), np.zeros(7, dtype=np.float32)])
def test_valid_but_wrong_entries_fail_the_output_checks(tmp_path, bad):
    """A well-formed entry holding NaN or the wrong width is a miss, like a damaged one."""
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    clean = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache).matrix()
    entry = _entries(tmp_path / "cache")[0]
    entry.write_bytes(encode_entry(bad, entry.stem))
    again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache"))
    assert again.corrupt == 1 and again.misses == 1
    np.testing.assert_array_equal(again.matrix(), clean)


def test_a_plain_npy_swapped_in_is_not_an_entry(tmp_path):
    m = corpus(tmp_path, n=2)
    cache = FeatureCache(tmp_path / "cache")
    extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache)
    entry = _entries(tmp_path / "cache")[0]
    with open(entry, "wb") as f:
        np.save(f, np.ones(4, dtype=np.float32))
    assert extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache")).corrupt == 1


def test_read_only_cache_runs_without_caching_and_says_so(tmp_path):
    import os

    if os.geteuid() == 0:  # root ignores permission bits: make the cache root a file instead
        (tmp_path / "cache").write_text("not a folder")
    else:
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache").chmod(0o500)
    m = corpus(tmp_path, n=3)
    result = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache"))
    assert len(result.ids) == 3 and "cannot write the feature cache" in result.cache_warning


def test_an_extractor_edited_in_place_is_re_extracted(tmp_path, monkeypatch):
    """Issue 12 §6: the key follows the code, not only the declared version."""
    import importlib
    import sys

    src = tmp_path / "src"
    src.mkdir()
    module = src / "edited_plugin.py"
    body = (
        "import numpy as np\nimport emoframe\n\n"
        "class Level(emoframe.FeatureExtractor):\n"
        "    name = 'edited.level'\n    version = '1'\n    modality = 'audio'\n    output = 'vector'\n\n"
        "    def extract(self, x):\n        return np.array([FACTOR * float(np.abs(x).max())])\n"
    )
    module.write_text("FACTOR = 1.0\n" + body)
    monkeypatch.syspath_prepend(str(src))
    mod = importlib.import_module("edited_plugin")
    m = corpus(tmp_path, n=3)
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(mod.Level(), m, jobs=1, cache=cache)
    assert extract_features(mod.Level(), m, jobs=1, cache=cache).hits == 3
    module.write_text("FACTOR = 2.0\n" + body)  # the author changes the code, forgets the version
    mod = importlib.reload(mod)
    again = extract_features(mod.Level(), m, jobs=1, cache=cache)
    assert again.misses == 3 and np.allclose(again.matrix(), 2 * first.matrix())
    sys.modules.pop("edited_plugin", None)


def test_entries_rotated_among_keys_are_misses(tmp_path):
    """Issue 26 §3: each entry is internally valid, but sits under another sample's key: a miss, never a feature."""
    m = corpus(tmp_path)
    cache = FeatureCache(tmp_path / "cache")
    clean = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache).matrix()
    entries = _entries(tmp_path / "cache")
    blobs = [e.read_bytes() for e in entries]
    for entry, blob in zip(entries, blobs[1:] + blobs[:1]):
        entry.write_bytes(blob)
    again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache"))
    assert (again.hits, again.misses, again.corrupt) == (0, 6, 6)
    np.testing.assert_array_equal(again.matrix(), clean)
    assert extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache")).hits == 6


def test_an_entry_is_valid_only_under_its_own_key():
    value = np.arange(4, dtype=np.float32)
    blob = encode_entry(value, "a" * 64)
    np.testing.assert_array_equal(decode_entry(blob, "a" * 64), value)
    assert decode_entry(blob, "b" * 64) is None


def test_entries_of_an_older_emoframe_are_recomputed_not_reported_as_damage(tmp_path):
    """Entries written before the key was bound into the checksum (EFC1) are plain misses, then rewritten."""
    import hashlib
    import io

    m = corpus(tmp_path, n=2)
    cache = FeatureCache(tmp_path / "cache")
    clean = extract_features(toy_plugin.Energy(), m, jobs=1, cache=cache).matrix()
    for entry in _entries(tmp_path / "cache"):
        buf = io.BytesIO()
        np.save(buf, np.zeros(4, dtype=np.float32), allow_pickle=False)
        payload = buf.getvalue()
        entry.write_bytes(b"EFC1\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    again = extract_features(toy_plugin.Energy(), m, jobs=1, cache=FeatureCache(tmp_path / "cache"))
    assert (again.hits, again.misses, again.corrupt) == (0, 2, 0)
    np.testing.assert_array_equal(again.matrix(), clean)


def test_an_extractor_whose_helper_module_is_edited_is_re_extracted(tmp_path, monkeypatch):
    """Issue 26 §2: the code is the defining module and the modules of its own package it imports."""
    import importlib
    import sys

    pkg = tmp_path / "src" / "helped_plugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def level(x):\n    return float(abs(x).max())\n")
    (pkg / "extractors.py").write_text(
        "import numpy as np\nimport emoframe\nfrom .helpers import level\n\n"
        "class Level(emoframe.FeatureExtractor):\n"
        "    name = 'helped.level'\n    version = '1'\n    modality = 'audio'\n    output = 'vector'\n\n"
        "    def extract(self, x):\n        return np.array([level(x)])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    mod = importlib.import_module("helped_plugin.extractors")
    m = corpus(tmp_path, n=3)
    cache = FeatureCache(tmp_path / "cache")
    first = extract_features(mod.Level(), m, jobs=1, cache=cache)
    assert extract_features(mod.Level(), m, jobs=1, cache=cache).hits == 3
    (pkg / "helpers.py").write_text("def level(x):\n    return 3.0 * float(abs(x).max())\n")  # version untouched
    for name in ("helped_plugin.extractors", "helped_plugin.helpers", "helped_plugin"):
        sys.modules.pop(name, None)
    mod = importlib.import_module("helped_plugin.extractors")
    again = extract_features(mod.Level(), m, jobs=1, cache=cache)
    assert again.misses == 3 and np.allclose(again.matrix(), 3 * first.matrix())
    for name in ("helped_plugin.extractors", "helped_plugin.helpers", "helped_plugin"):
        sys.modules.pop(name, None)


def test_a_loose_helper_module_that_no_version_covers_is_part_of_the_code(tmp_path, monkeypatch):
    """A helper beside the plugin on PYTHONPATH, in no distribution: its edits change the digest too."""
    import importlib
    import sys

    from emoframe.code_digest import _UNVERSIONED, code_digest, unversioned

    src = tmp_path / "src"
    (src / "loose_plugin").mkdir(parents=True)
    (src / "loose_plugin" / "__init__.py").write_text("")
    (src / "exhelp_loose.py").write_text("def feats(x):\n    return [float(abs(x).max())]\n")
    (src / "loose_plugin" / "extractors.py").write_text(
        "import numpy as np\nimport emoframe\nimport exhelp_loose\n\n"
        "class Level(emoframe.FeatureExtractor):\n"
        "    name = 'loose.level'\n    version = '1'\n    modality = 'audio'\n    output = 'vector'\n\n"
        "    def extract(self, x):\n        return np.array(exhelp_loose.feats(x))\n"
    )
    monkeypatch.syspath_prepend(str(src))
    names = ("loose_plugin.extractors", "loose_plugin", "exhelp_loose")
    try:
        mod = importlib.import_module("loose_plugin.extractors")
        assert unversioned("exhelp_loose") and not unversioned("numpy") and not unversioned("emoframe")
        assert not unversioned("json")  # the standard library
        before = code_digest(mod.Level)
        (src / "exhelp_loose.py").write_text("def feats(x):\n    return [0.0]\n")  # the plugin's files untouched
        assert code_digest(mod.Level) != before
    finally:
        for name in names:
            sys.modules.pop(name, None)
        _UNVERSIONED.pop("exhelp_loose", None)


def test_no_cache_neither_reads_nor_writes(tmp_path):
    from click.testing import CliRunner

    from emoframe.cli import main

    m = corpus(tmp_path, n=2)
    m.to_csv(tmp_path / "m.csv")
    result = CliRunner().invoke(
        main,
        [
            "extract",
            "opensmile.egemaps",
            "--manifest",
            str(tmp_path / "m.csv"),
            "--no-cache",
            "-j",
            "1",
            "--workdir",
            str(tmp_path / "wd"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "wd" / "cache").exists()
