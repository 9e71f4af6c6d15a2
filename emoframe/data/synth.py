"""The built-in synthetic demo corpus: a source-filter voice with emotional prosody.

Each utterance is synthesised, offline and deterministically, from glottal pulses
(Rosenberg shape) at an F0 contour with jitter and shimmer, aspiration noise for
breathiness, a cascade of formant resonators per syllable (five vowels), fricative
consonants between syllables, a spectral-tilt filter and background noise. Emotions move
the acoustic correlates reported in the literature (Scherer 2003; Juslin & Laukka 2003):
F0 level and range, intensity, speaking rate, spectral tilt, voice quality. Speakers
differ in F0, vocal-tract length, tilt, breathiness, rate, loudness and in how strongly
they express emotion, so speaker-independent evaluation matters.

Transcripts come from templates: some carry lexical cues of the label, some are neutral
for every class, some are ambiguous and some contradict the voice (sarcasm), so neither
modality alone is perfect. THIS CORPUS IS SYNTHETIC: it exercises the framework; figures
on it say nothing about real speech.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..ownership import (
    MARKER,
    OwnershipError,
    foreign_files,
    is_empty_dir,
    mark,
    marker,
    recorded,
    remove_files,
    shown,
    still_as_written,
)

SR = 16000
CLASSES = ("neutral", "happy", "sad", "angry")

#: Emotion targets relative to a speaker's neutral voice.
PROSODY = {
    #          F0 ×   range st  level dB  rate syl/s  tilt dB  breath  jitter  open q.  slope st
    "neutral": (1.00, 2.5, 0.0, 4.3, 0.0, 0.10, 0.006, 0.60, -1.5),
    "happy": (1.22, 6.0, 3.0, 4.9, 2.0, 0.08, 0.008, 0.55, 1.0),
    "sad": (0.90, 1.3, -5.0, 3.3, -4.0, 0.28, 0.014, 0.70, -2.5),
    "angry": (1.18, 4.5, 5.0, 5.2, 5.0, 0.04, 0.010, 0.45, -3.0),
}
FIELDS = ("f0", "range", "level", "rate", "tilt", "breath", "jitter", "oq", "slope")
VOWELS = np.array(
    [(730, 1090, 2440), (530, 1840, 2480), (270, 2290, 3010), (570, 840, 2410), (300, 870, 2240)], dtype=float
)  # a e i o u (adult male, Peterson & Barney)
FRICATIVES = ((4000, 7500), (2000, 5000), (1200, 6500))  # s, sh, f-like bands


@dataclass(frozen=True)
class Speaker:
    id: str
    gender: str
    f0: float
    formant_scale: float
    tilt: float
    breath: float
    rate: float
    level: float
    expressiveness: float
    snr: float


def make_speakers(n: int, seed: int) -> list[Speaker]:
    rng = np.random.default_rng([seed, 7919])
    out = []
    for i in range(n):
        female = i % 2 == 1
        out.append(
            Speaker(
                id=f"spk{i + 1:02d}",
                gender="f" if female else "m",
                f0=float(rng.uniform(175, 235) if female else rng.uniform(95, 135)),
                formant_scale=float(rng.uniform(1.08, 1.18) if female else rng.uniform(0.92, 1.0)),
                tilt=float(rng.uniform(-2.5, 2.5)),
                breath=float(rng.uniform(0.0, 0.12)),
                rate=float(rng.uniform(0.88, 1.12)),
                level=float(rng.uniform(-3, 3)),
                expressiveness=float(rng.uniform(0.35, 1.0)),
                snr=float(rng.uniform(18, 35)),
            )
        )
    return out


def _targets(speaker: Speaker, emotion: str, rng: np.random.Generator) -> dict[str, float]:
    """The speaker's expression of an emotion: neutral + expressiveness × (emotion − neutral) + noise."""
    neutral = dict(zip(FIELDS, PROSODY["neutral"]))
    target = dict(zip(FIELDS, PROSODY[emotion]))
    # how strongly this utterance carries the emotion: some deliveries are nearly flat
    e = speaker.expressiveness * (rng.uniform(0.1, 0.4) if rng.random() < 0.15 else rng.uniform(0.5, 1.4))
    t = {k: neutral[k] + e * (target[k] - neutral[k]) for k in FIELDS}
    t["f0"] *= speaker.f0 * rng.uniform(0.9, 1.1)
    t["range"] *= rng.uniform(0.6, 1.4)
    t["level"] += speaker.level + rng.normal(0, 2.5)
    t["rate"] *= speaker.rate * rng.uniform(0.85, 1.15)
    t["tilt"] += speaker.tilt + rng.normal(0, 2.0)
    t["breath"] = max(0.0, t["breath"] + speaker.breath + rng.normal(0, 0.04))
    t["jitter"] = max(0.002, t["jitter"] * rng.uniform(0.6, 1.4))
    t["oq"] += rng.normal(0, 0.04)
    t["slope"] += rng.normal(0, 1.5)
    return t


def _resonator(freq: float, bw: float) -> tuple[np.ndarray, np.ndarray]:
    r = np.exp(-np.pi * bw / SR)
    theta = 2 * np.pi * freq / SR
    a = np.array([1.0, -2 * r * np.cos(theta), r * r])
    return np.array([a.sum()]), a  # unity gain at DC


# one piece: one recipe drawing from one seeded stream in order; a split would have to thread that order through
def synthesise(speaker: Speaker, emotion: str, rng: np.random.Generator) -> np.ndarray:
    """One utterance (float32, 16 kHz) of ``speaker`` in ``emotion``."""
    from scipy.signal import butter, lfilter

    t = _targets(speaker, emotion, rng)
    duration = rng.uniform(1.5, 3.5)
    lead, tail = rng.uniform(0.08, 0.18), rng.uniform(0.08, 0.18)
    speech = duration - lead - tail
    n_syll = max(3, int(round(speech * t["rate"])))
    weights = rng.uniform(0.8, 1.2, n_syll)
    syll_len = (weights / weights.sum() * speech * SR).astype(int)
    n = int(duration * SR)
    start = int(lead * SR)

    # F0 contour in semitones: declination + syllable accents, smoothed
    st = np.zeros(n)
    pos = start
    accents = rng.normal(0, t["range"] / 2.5, n_syll)
    if emotion == "happy":
        accents = np.abs(accents)
    for k in range(n_syll):
        st[pos : pos + syll_len[k]] = accents[k]
        pos += syll_len[k]
    kernel = np.hanning(int(0.08 * SR))
    st = np.convolve(st, kernel / kernel.sum(), mode="same")
    st += np.linspace(0, t["slope"], n)
    hold = int(0.005 * SR)
    jit = np.repeat(rng.normal(0, t["jitter"], n // hold + 1), hold)[:n]
    f0 = t["f0"] * 2 ** (st / 12) * (1 + jit)

    # Rosenberg glottal pulse train, differentiated, with shimmer
    phase = np.cumsum(f0 / SR)
    frac = phase % 1.0
    oq = float(np.clip(t["oq"], 0.3, 0.8))
    tp, tn = 0.6 * oq, 0.4 * oq
    g = np.where(
        frac < tp,
        0.5 * (1 - np.cos(np.pi * frac / tp)),
        np.where(frac < tp + tn, np.cos(np.pi * (frac - tp) / (2 * tn)), 0.0),
    )
    shimmer = 1 + rng.normal(0, 0.04 + t["jitter"] * 3, int(phase[-1]) + 2)
    source = np.diff(g, prepend=0.0) * shimmer[phase.astype(int)]
    source += t["breath"] * 0.15 * rng.normal(0, 1, n) * (0.3 + g)

    # syllables: consonant (fricative or silence) then vowel through formant resonators
    voiced = np.zeros(n)
    out = np.zeros(n)
    zi = [np.zeros(2) for _ in range(3)]
    pos = start
    bw_scale = 1.4 if emotion == "sad" else 1.0
    for k in range(n_syll):
        L = syll_len[k]
        cons = int(L * rng.uniform(0.25, 0.4))
        seg = slice(pos + cons, pos + L)
        vowel = VOWELS[rng.integers(len(VOWELS))] * speaker.formant_scale * rng.uniform(0.95, 1.05, 3)
        y = source[seg]
        for j, (freq, bw) in enumerate(zip(vowel, (80, 100, 150))):
            b, a = _resonator(freq, bw * bw_scale)
            y, zi[j] = lfilter(b, a, y, zi=zi[j])
        ramp = min(len(y) // 4, int(0.015 * SR))
        env = np.ones(len(y))
        if ramp > 0:
            env[:ramp] = np.linspace(0, 1, ramp)
            env[-ramp:] = np.linspace(1, 0, ramp)
        stress = 1.0 + 0.35 * accents[k] / (abs(accents).max() + 1e-9)
        out[seg] = y * env * stress
        voiced[seg] = env
        if rng.random() < 0.6 and cons > 8:  # fricative onset
            lo, hi = FRICATIVES[rng.integers(len(FRICATIVES))]
            bb, ab = butter(2, [lo / (SR / 2), min(hi, 7900) / (SR / 2)], btype="band")
            noise = lfilter(bb, ab, rng.normal(0, 1, cons)) * np.hanning(cons)
            out[pos : pos + cons] += noise * 0.02 * (1 + max(0.0, t["tilt"]) / 10)
        pos += L

    # spectral tilt: split at 1 kHz, scale the high band
    bl, al = butter(1, 1000 / (SR / 2), btype="low")
    low = lfilter(bl, al, out)
    out = low + (out - low) * 10 ** (t["tilt"] / 20)
    out *= 10 ** (t["level"] / 20)
    speech_rms = np.sqrt(np.mean(out[voiced > 0.5] ** 2)) if (voiced > 0.5).any() else 1e-3
    bn, an = butter(1, 2000 / (SR / 2), btype="low")
    noise = lfilter(bn, an, rng.normal(0, 1, n))
    noise *= speech_rms / (np.sqrt(np.mean(noise**2)) + 1e-12) * 10 ** (-speaker.snr / 20)
    signal = (out + noise) * 0.5  # one global gain: loudness differences are kept, not normalised
    return np.clip(signal, -0.99, 0.99).astype(np.float32)


# -- transcripts --------------------------------------------------------------------------
CUES = {
    "happy": [
        "I'm so {glad} we finally {did} it!",
        "This is the {best} news I've heard all year.",
        "Wow, I {love} it, thank you so much!",
        "We won, I can't stop smiling.",
        "What a {wonderful} surprise, I'm {glad} you came.",
    ],
    "sad": [
        "I miss her so much, it still hurts.",
        "Nothing feels right since he left.",
        "I'm so {sorry}, I really tried my best.",
        "It's over, and I feel so {alone}.",
        "I can't stop crying about what happened.",
    ],
    "angry": [
        "This is {outrageous}, who did this?",
        "I told you a hundred times, stop it now!",
        "I'm {furious}, you broke your promise again.",
        "Get out of my way, I've had enough!",
        "That's the {worst} excuse I've ever heard.",
    ],
    "neutral": [
        "The report is due on {day}.",
        "I'll take the {thing} to the office.",
        "The train usually leaves at {time}.",
        "Please check the numbers in the table.",
        "We need two more chairs for the {thing}.",
    ],
}
NEUTRAL_CONTENT = [
    "The meeting moved to {day} at {time}.",
    "I put the {thing} next to the door.",
    "She said the bus comes at {time}.",
    "Can you pass me the {thing}, please?",
    "We are going to the store on {day}.",
    "The {thing} is on the second shelf.",
]
AMBIGUOUS = [
    "I can't believe this is happening.",
    "Are you serious right now?",
    "Oh my god, look at that.",
    "I really didn't expect this today.",
]
SARCASM = {
    "angry": ["Oh {great}, just {wonderful}, exactly what I needed.", "Fantastic, thanks a lot."],
    "happy": ["I {hate} how much I {love} this.", "Stop it, you're killing me!"],
    "sad": ["Great, just great.", "Well, that's just {wonderful}."],
    "neutral": ["I'm {thrilled}, truly.", "This is the {best} day ever, obviously."],
}
FILL = {
    "glad": ["glad", "happy", "thrilled", "delighted"],
    "did": ["did", "made", "finished"],
    "best": ["best", "greatest", "nicest"],
    "love": ["love", "adore"],
    "wonderful": ["wonderful", "lovely", "great"],
    "sorry": ["sorry", "sad", "heartbroken"],
    "alone": ["alone", "empty", "lost"],
    "outrageous": ["outrageous", "ridiculous", "unacceptable"],
    "furious": ["furious", "angry", "livid"],
    "worst": ["worst", "stupidest", "lamest"],
    "day": ["Monday", "Tuesday", "Thursday", "Friday"],
    "thing": ["box", "laptop", "folder", "lamp"],
    "time": ["nine", "half past ten", "noon", "four"],
    "great": ["great", "perfect", "lovely"],
    "hate": ["hate", "resent"],
    "thrilled": ["thrilled", "overjoyed", "ecstatic"],
}
TEXT_MIX = (("cue", 0.45), ("neutral", 0.30), ("ambiguous", 0.13), ("sarcasm", 0.12))


def transcript(emotion: str, rng: np.random.Generator) -> tuple[str, str]:
    """(text, how it relates to the label: cue | neutral | ambiguous | sarcasm)."""
    kinds, probs = [k for k, _ in TEXT_MIX], [p for _, p in TEXT_MIX]
    kind = str(rng.choice(kinds, p=probs))
    pool = {"cue": CUES[emotion], "neutral": NEUTRAL_CONTENT, "ambiguous": AMBIGUOUS, "sarcasm": SARCASM[emotion]}[kind]
    text = str(rng.choice(pool))
    for slot, options in FILL.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", str(rng.choice(options)), 1)
    return text, kind


SYNTH_KIND = "corpus.synth"
GENERATOR = "1"  # bump when the generator's output changes: folders of another version are regenerated


def readme(seed: int, speakers: int, per_class: int) -> str:
    return (
        f"# emoframe synthetic demo corpus (seed {seed})\n\n"
        f"{speakers} synthetic speakers × {len(CLASSES)} classes × {per_class} utterances, 16 kHz.\n"
        "Generated by a source-filter voice model (emoframe.data.synth); NOT real speech.\n"
        "Transcripts are templated: cue, neutral, ambiguous or sarcastic (column text_kind).\n"
    )


def check_target(out: str | Path) -> None:
    """Refuse a target emoframe may not fill: a file, or a non-empty folder it did not create.

    An emoframe-made corpus folder holding files of someone else's is refused too: replacing it
    would delete them. "emoframe's" means listed in the folder's marker *with the content emoframe
    wrote* (its sha256): a marker copied beside a user's ``manifest.csv`` does not make it ours.
    """
    out = Path(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise OwnershipError(f"{out} exists and is not a folder; choose a new or empty folder for the corpus")
    if not out.exists() or is_empty_dir(out):
        return
    m = marker(out)
    if m is None or m.get("kind") != SYNTH_KIND:
        raise OwnershipError(
            f"refusing to write the synthetic corpus into {out}: the folder is not empty and "
            "emoframe did not create it; choose a new or empty folder"
        )
    foreign = foreign_files(out, recorded(m))
    if foreign:
        raise OwnershipError(
            f"refusing to replace the synthetic corpus in {out}: it holds files emoframe did not "
            f"write ({shown(foreign, 3)}); nothing was changed: move them or choose another folder"
        )


def shape_for(size: int) -> tuple[int, int]:
    """(speakers, utterances per class and speaker) for a corpus of about ``size`` utterances,
    growing both: 1,000 → 25 × 10, 4,000 → 50 × 20, 16,000 → 100 × 40 (× 4 classes)."""
    per_class = max(1, round((size / len(CLASSES) / 2.5) ** 0.5))
    return max(2, round(size / len(CLASSES) / per_class)), per_class


def generate(out: str | Path, seed: int = 0, speakers: int = 12, per_class: int = 10) -> Path:
    """Write ``out/manifest.csv``, ``out/wav/*.wav`` and ``out/README.md``; same seed → same bytes.

    ``out`` must be new, empty, or a corpus folder emoframe generated before (it is then
    replaced, deleting only the files the generator wrote); anything else is refused.
    """
    import soundfile as sf

    out = Path(out)
    check_target(out)
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".synth-", dir=parent))
    try:
        (tmp / "wav").mkdir()
        rows = []
        for si, spk in enumerate(make_speakers(speakers, seed)):
            for ci, emotion in enumerate(CLASSES):
                for k in range(per_class):
                    rng = np.random.default_rng([seed, si, ci, k])
                    audio = synthesise(spk, emotion, rng)
                    text, kind = transcript(emotion, rng)
                    uid = f"{spk.id}_{emotion}_{k:02d}"
                    sf.write(tmp / "wav" / f"{uid}.wav", audio, SR, subtype="PCM_16")
                    rows.append(
                        {
                            "id": uid,
                            "audio": f"wav/{uid}.wav",
                            "text": text,
                            "label": emotion,
                            "speaker": spk.id,
                            "gender": spk.gender,
                            "text_kind": kind,
                        }
                    )
        pd.DataFrame(rows).to_csv(tmp / "manifest.csv", index=False)
        (tmp / "README.md").write_text(readme(seed, speakers, per_class))
        files = sorted(["manifest.csv", "README.md", *(r["audio"] for r in rows)])
        mark(tmp, SYNTH_KIND, files=files, seed=seed, speakers=speakers, per_class=per_class, generator=GENERATOR)
        check_target(out)  # again: the folder may have changed while we generated
        if not out.exists():
            os.replace(tmp, out)
        else:
            if marker(out) is not None:
                remove_files(out, SYNTH_KIND, still_as_written(out, recorded(marker(out))))
                out.mkdir(exist_ok=True)
            # the marker first and manifest.csv last: a half-moved folder is still ours and incomplete
            for name in (MARKER, "wav", "README.md", "manifest.csv"):
                os.replace(tmp / name, out / name)
    finally:
        if tmp.exists():
            remove_files(tmp, SYNTH_KIND, lambda rel: True) if marker(tmp) else _remove_fresh(tmp)
    return out


def _remove_fresh(tmp: Path) -> None:
    """Delete a temporary folder this call created with mkdtemp (before its marker was written)."""
    for path in sorted(tmp.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    tmp.rmdir()
