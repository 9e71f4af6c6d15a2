"""The manifest: one row per utterance (id, audio, text, label, speaker[, split, start, end]).

Loading validates it and reports every problem at once, naming the file: missing columns,
duplicate ids, empty labels or speakers, missing audio files, paths escaping the corpus
folder, bad segments. Relative audio paths resolve against the manifest's folder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError

REQUIRED = ("id", "audio", "text", "label", "speaker")
OPTIONAL = ("split", "start", "end")
#: The common emotion vocabulary every loader maps its labels to ("bored" is EmoDB's extra class).
EMOTIONS = ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised", "calm", "bored")
FOUR_CLASSES = ("neutral", "happy", "sad", "angry")
#: the column speech recognition fills beside ``text`` (see emoframe.features.transcripts)
ASR_COLUMN = "asr_text"


def shown_examples(values: Iterable[object], n: int = 5) -> str:
    values = list(values)
    shown = ", ".join(str(v) for v in values[:n])
    return shown + (f" … (+{len(values) - n} more)" if len(values) > n else "")


@dataclass
class Manifest:
    """A validated table of utterances; audio paths are absolute ('' in text-only corpora)."""

    frame: pd.DataFrame
    name: str = "manifest"
    root: Path | None = None
    warnings: list[str] = field(default_factory=list)
    #: where ``text`` came from: gold (the manifest's) or asr (a transcriber's, see :meth:`with_asr_text`)
    text_source: str = "gold"

    @classmethod
    def from_frame(
        cls, df: pd.DataFrame, name: str = "manifest", root: str | Path | None = None, require_audio: bool = True
    ) -> Manifest:
        """Validate and normalise a DataFrame; DataError lists every problem found."""
        root = Path(root).resolve() if root is not None else None
        problems: list[str] = []
        missing = [c for c in REQUIRED if c not in df.columns and not (c == "audio" and not require_audio)]
        if missing:
            raise DataError(
                f"{name}: missing column(s) {', '.join(missing)}; a manifest needs "
                f"{', '.join(REQUIRED)} (optional: {', '.join(OPTIONAL)})"
            )
        df = df.copy()
        if "audio" not in df.columns:
            df["audio"] = ""
        for col in ("id", "audio", "text", "label", "speaker"):
            df[col] = df[col].fillna("").astype(str).str.strip() if col != "text" else df[col].fillna("").astype(str)
        dup = df["id"][df["id"].duplicated()].unique()
        if len(dup):
            problems.append(f"duplicate id(s): {shown_examples(dup)}; ids must be unique")
        if (df["id"] == "").any():
            problems.append(f"{int((df['id'] == '').sum())} row(s) with an empty id")
        for col in ("label", "speaker"):
            empty = df["id"][df[col] == ""]
            if len(empty):
                problems.append(
                    f"empty {col} in {len(empty)} row(s): {shown_examples(empty)}; every utterance needs a {col}"
                )
        df["audio"] = [_resolve(p, root, problems, i) for i, p in zip(df["id"], df["audio"])]
        if require_audio:
            no_audio = df["id"][df["audio"] == ""]
            if len(no_audio):
                problems.append(f"no audio path in {len(no_audio)} row(s): {shown_examples(no_audio)}")
        # one check for every command: a missing file is the odd bad row (like a corrupt one), reported
        # with its path here and as that row's reason when it is left out, never a reason to stop
        absent = df["audio"][(df["audio"] != "") & ~df["audio"].map(lambda p: Path(p).is_file())]
        missing_note = (
            f"{name}: audio file not found for {len(absent)} row(s): {shown_examples(absent)}; those rows are left "
            "out of audio branches"
            if len(absent)
            else None
        )
        _check_segments(df, problems)
        if problems:
            raise DataError(
                f"{name}: " + "; ".join(problems)
                if len(problems) == 1
                else f"{name}: {len(problems)} problems:\n" + "\n".join(f"  - {p}" for p in problems)
            )
        # empty transcripts are not a warning here: only a text branch reads them (data.source.transcript_warnings)
        warnings = [missing_note] if missing_note else []
        columns = [c for c in (*REQUIRED, *OPTIONAL) if c in df.columns]
        extra = [c for c in df.columns if c not in columns]
        return cls(df[columns + extra].reset_index(drop=True), name=name, root=root, warnings=warnings)

    # -- views ---------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.frame)

    @property
    def ids(self) -> np.ndarray:
        return self.frame["id"].to_numpy()

    @property
    def labels(self) -> np.ndarray:
        return self.frame["label"].to_numpy()

    @property
    def speakers(self) -> np.ndarray:
        return self.frame["speaker"].to_numpy()

    @property
    def texts(self) -> list[str]:
        return self.frame["text"].tolist()

    @property
    def empty_transcripts(self) -> list[str]:
        """Ids of the rows whose transcript is empty (or only white space)."""
        return self.frame["id"][self.frame["text"].astype(str).str.strip() == ""].astype(str).tolist()

    @property
    def has_audio(self) -> bool:
        return bool((self.frame["audio"] != "").all()) and len(self.frame) > 0

    def segments(self) -> list[tuple[float | None, float | None]]:
        """Every row's (start, end) in seconds, None where unset: :meth:`segment` for all rows at once."""
        n = len(self.frame)

        def column(name: str) -> list[float | None]:
            if name not in self.frame:
                return [None] * n
            values = pd.to_numeric(self.frame[name], errors="coerce").to_numpy(dtype=float)
            return [None if np.isnan(v) else float(v) for v in values]

        return list(zip(column("start"), column("end")))

    def segment(self, i: int) -> tuple[float | None, float | None]:
        row = self.frame.iloc[i]
        start = row.get("start") if "start" in self.frame else None
        end = row.get("end") if "end" in self.frame else None
        return (
            None if start is None or pd.isna(start) else float(start),
            None if end is None or pd.isna(end) else float(end),
        )

    def subset(self, mask: np.ndarray | list[bool] | pd.Series) -> Manifest:
        return Manifest(
            self.frame[np.asarray(mask)].reset_index(drop=True), self.name, self.root, self.warnings, self.text_source
        )

    def with_asr_text(self) -> Manifest:
        """These rows with the transcriber's text as ``text`` (the gold text kept as ``gold_text``)."""
        if self.text_source == "asr":
            return self
        if ASR_COLUMN not in self.frame:
            raise DataError(
                f"{self.name}: a branch reads ASR transcripts but none were made for these rows "
                "(set data.transcriber in the spec)"
            )
        frame = self.frame.assign(gold_text=self.frame["text"], text=self.frame[ASR_COLUMN].fillna("").astype(str))
        return Manifest(frame, self.name, self.root, self.warnings, "asr")

    def take(self, idx: np.ndarray | list[int]) -> Manifest:
        """The rows at these positions, in manifest order (what a fold's index arrays select)."""
        mask = np.zeros(len(self), dtype=bool)
        mask[np.asarray(idx, dtype=int)] = True
        return self.subset(mask)

    def keep_classes(self, classes: Iterable[str]) -> Manifest:
        """Only the utterances of these labels (e.g. the 4-class neutral/happy/sad/angry setup)."""
        classes = list(classes)
        present = set(self.frame["label"])
        absent = [c for c in classes if c not in present]
        if absent:
            raise DataError(
                f"{self.name}: class(es) {', '.join(absent)} not in the corpus; it has {', '.join(sorted(present))}"
            )
        return self.subset(self.frame["label"].isin(classes))

    def to_csv(self, path: str | Path) -> None:
        self.frame.to_csv(path, index=False)


def _resolve(path: str, root: Path | None, problems: list[str], row_id: str) -> str:
    """An absolute path as written; a relative one resolved against ``root`` (symlinks followed to where
    they point), refused when that is outside ``root``."""
    if not path:
        return ""
    if "\x00" in path:
        problems.append(f"row {row_id}: audio path {path!r} holds a NUL character; no file can have that name")
        return ""
    p = Path(path)
    if p.is_absolute() or root is None:
        return str(p)
    try:
        full = (root / p).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before Python 3.13)
        problems.append(f"row {row_id}: audio path '{path}' cannot be resolved ({exc})")
        return ""
    if not full.is_relative_to(root):
        problems.append(
            f"row {row_id}: audio path '{path}' escapes the corpus folder {root} (a symlink counts where it "
            "points); keep audio inside the manifest's folder or use an absolute path"
        )
        return ""
    return str(full)


def _check_segments(df: pd.DataFrame, problems: list[str]) -> None:
    for col in ("start", "end"):
        if col in df.columns:
            values = pd.to_numeric(df[col], errors="coerce")
            bad = df["id"][df[col].notna() & (values.isna() | (values < 0))]
            if len(bad):
                problems.append(f"column '{col}' must be seconds ≥ 0; bad in row(s) {shown_examples(bad)}")
            df[col] = values
    if "start" in df.columns and "end" in df.columns:
        bad = df["id"][df["start"].notna() & df["end"].notna() & (df["end"] <= df["start"])]
        if len(bad):
            problems.append(f"segment end ≤ start in row(s) {shown_examples(bad)}")


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """A text file decoded strictly: an undecodable byte is an error naming its line, never a '�'."""
    raw = path.read_bytes()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = sum(1 for ln in raw.splitlines() if _undecodable(ln, encoding))
        raise DataError(
            f"{path}: line {line} is not valid {encoding} (byte 0x{raw[exc.start]:02x}); {bad} line(s) "
            f"cannot be decoded — set the file's encoding (data.encoding in the spec, e.g. latin-1) or "
            "save it as UTF-8"
        ) from None
    except LookupError:
        raise DataError(f"{path}: unknown encoding '{encoding}'") from None


def _undecodable(line: bytes, encoding: str) -> bool:
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return True
    return False


def load_manifest(path: str | Path, require_audio: bool = False, encoding: str = "utf-8") -> Manifest:
    """Read a CSV or Parquet manifest; relative audio paths resolve against its folder.

    Rows without audio (an empty ``audio`` cell, or no ``audio`` column) make a text-only corpus;
    ``require_audio`` refuses them. An audio branch over such rows is refused by the runner.

    CSV text is decoded strictly with ``encoding`` (UTF-8 by default).
    """
    import io

    path = Path(path)
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(io.StringIO(read_text(path, encoding)), dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"{path}: manifest not found") from None
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 — pandas raises many parser errors
        raise DataError(f"{path}: cannot read manifest ({exc})") from None
    for col in ("start", "end"):
        if col in df.columns:
            df[col] = df[col].replace("", np.nan)
    # emoframe's own column (a row's test-time noise) never comes from a user's file
    df = df.drop(columns=[c for c in df.columns if str(c).startswith("emoframe:")])
    return Manifest.from_frame(df, name=str(path), root=path.parent, require_audio=require_audio)
