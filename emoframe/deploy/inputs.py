"""What ``emoframe predict`` reads: audio files, folders of them, or a manifest, with their transcripts.

Transcripts come from a manifest's ``text`` column, else from a ``NAME.txt`` beside ``NAME.wav``,
else from ``--text``. Inputs that cannot be used (missing, not audio, unreadable manifest)
come back as problems, id → reason, and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.manifest import Manifest, read_text
from ..errors import DataError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")
MANIFEST_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class Inputs:
    manifest: Manifest | None
    problems: dict[str, str] = field(default_factory=dict)
    transcripts: dict[str, str] = field(default_factory=dict)  # id → where its transcript came from


def _sidecar(audio: Path) -> str | None:
    txt = audio.with_suffix(".txt")
    if txt.is_file():
        return read_text(txt).strip()
    return None


def _manifest_rows(path: Path) -> list[dict[str, str]]:
    try:
        df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path, dtype=str)
    except Exception as exc:  # noqa: BLE001 - any unreadable table is the same answer
        raise DataError(f"{path}: not a readable manifest ({type(exc).__name__}: {exc})") from None
    if "audio" not in df.columns and "text" not in df.columns:
        raise DataError(f"{path}: a manifest to predict needs an 'audio' or a 'text' column (optional: id, speaker)")
    rows = []
    for k, r in enumerate(df.fillna("").astype(str).to_dict("records")):
        audio = r.get("audio", "").strip()
        if audio and not Path(audio).is_absolute():
            audio = str((path.parent / audio).resolve())
        rows.append(
            {
                "id": r.get("id", "").strip() or (audio or f"{path.name}:{k + 1}"),
                "audio": audio,
                "text": r.get("text", ""),
                "speaker": r.get("speaker", "").strip(),
                **{c: r[c] for c in ("start", "end") if r.get(c, "").strip()},
                "_source": "text column" if r.get("text", "").strip() else "",
            }
        )
    return rows


def collect(paths: list[str | Path], text: str | None = None) -> Inputs:
    """Rows to predict from the command line's INPUT arguments."""
    rows: list[dict[str, str]] = []
    problems: dict[str, str] = {}
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES and f.is_file())
            if not found:
                problems[str(given)] = f"no audio files ({', '.join(AUDIO_SUFFIXES)}) in this folder"
            for f in found:
                rows.append({"id": str(f), "audio": str(f.resolve()), "text": "", "speaker": "", "_source": ""})
        elif not p.exists():
            problems[str(given)] = "file not found"
        elif p.suffix.lower() in MANIFEST_SUFFIXES:
            try:
                rows += _manifest_rows(p)
            except DataError as exc:
                problems[str(given)] = str(exc)
        elif p.suffix.lower() in AUDIO_SUFFIXES:
            rows.append({"id": str(given), "audio": str(p.resolve()), "text": "", "speaker": "", "_source": ""})
        else:
            problems[str(given)] = (
                f"not an audio file ({', '.join(AUDIO_SUFFIXES)}), a folder, or a manifest "
                f"({', '.join(MANIFEST_SUFFIXES)})"
            )
    seen: set[str] = set()
    unique = []
    for r in rows:
        if r["id"] in seen:
            continue
        seen.add(r["id"])
        if not r["text"].strip() and r["audio"]:
            try:
                side = _sidecar(Path(r["audio"]))
            except (DataError, OSError) as exc:  # an undecodable or unreadable sidecar costs that file only
                problems[r["id"]] = f"transcript {Path(r['audio']).with_suffix('.txt').name}: {exc}"
                continue
            if side:
                r["text"], r["_source"] = side, "sidecar .txt"
        if not r["text"].strip() and text is not None:
            r["text"], r["_source"] = text, "--text"
        r["speaker"] = r["speaker"] or r["id"]
        unique.append(r)
    if not unique:
        return Inputs(None, problems)
    frame = pd.DataFrame(unique)
    sources = dict(zip(frame["id"], frame.pop("_source")))
    frame["label"] = "?"
    return Inputs(Manifest.from_frame(frame, name="inputs", require_audio=False), problems, sources)
