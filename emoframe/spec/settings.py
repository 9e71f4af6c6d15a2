"""The settings a spec carries beside its pipelines: how a run is executed (limits), nested tuning's budget,
and the test-time perturbations of a robustness sweep. Re-exported by :mod:`emoframe.spec.models`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SEED_MAX = 2**32 - 1  # numpy's seeds


class ExecutionSpec(BaseModel):
    """How a run is executed: limits that protect it from a misbehaving plugin. Not part of what a
    result means, so not part of a run's key."""

    model_config = ConfigDict(extra="forbid")
    timeout: float | None = Field(
        7200.0,
        gt=0,
        le=7 * 24 * 3600,
        description="seconds one fold task (or one "
        "extraction chunk) may run before its worker is stopped; null: no limit",
    )
    worker_max_tasks: int | None = Field(
        50, ge=1, description="tasks after which a worker process is replaced; null: never"
    )
    worker_max_memory_mb: float | None = Field(
        None,
        gt=0,
        description="resident memory above which a worker process is replaced after its task; null: no ceiling",
    )

    @model_validator(mode="before")
    @classmethod
    def _none_words(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (None if isinstance(v, str) and v.strip().lower() in ("none", "null", "off") else v)
                for k, v in value.items()
            }
        return value


TRIALS_MAX = 1000  # a trial budget above this is refused: a search that size is a study of its own


class TuningSpec(BaseModel):
    """Nested tuning: how every component ``search`` is run inside each outer training fold."""

    model_config = ConfigDict(extra="forbid")
    trials: int = Field(20, ge=1, description="trials per outer fold (a grid smaller than this: every point once)")
    inner_folds: int = Field(3, ge=2, le=20, description="speaker-grouped inner folds of the outer training fold")
    metric: Literal["uar", "wa", "macro_f1"] = Field("uar", description="inner score: mean over the inner folds")
    sampler: Literal["auto", "grid", "random", "tpe"] = Field(
        "auto", description="Optuna sampler; auto: grid when every searched parameter is a list, else tpe"
    )
    pruner: Literal["none", "median"] = Field(
        "none", description="median: stop a trial after an inner fold whose running score is below the median"
    )
    seed: int = Field(0, ge=0, le=SEED_MAX, description="seed of the inner folds and the sampler")
    default: bool = Field(
        True, description="also evaluate each tuned pipeline untuned (its defaults) on the same folds, to compare"
    )

    @field_validator("trials")
    @classmethod
    def _trials_bounded(cls, value: int) -> int:
        if value > TRIALS_MAX:
            raise ValueError(
                f"{value} trials per outer fold is over the limit of {TRIALS_MAX}; lower tuning.trials "
                "(a sampler such as tpe finds good values in tens of trials)"
            )
        return value


Noise = Literal["white", "babble"]
NOISES: tuple[Noise, ...] = ("white", "babble")


@dataclass(frozen=True)
class Condition:
    """One perturbation: ``modality`` audio (white/babble noise at ``level`` dB SNR) or text
    (dropout/substitution rate)."""

    modality: str
    kind: str
    level: float

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.level:g}{'dB' if self.modality == 'audio' else ''}"


class RobustnessSpec(BaseModel):
    """Test-time perturbations: models train on clean folds, test rows are perturbed."""

    model_config = ConfigDict(extra="forbid")
    snr_db: list[Annotated[float, Field(ge=-30, le=100, allow_inf_nan=False)]] = Field(
        default_factory=list, description="audio noise levels (dB SNR), e.g. [20, 10, 0]"
    )
    noise: list[Noise] = Field(
        default_factory=lambda: list(NOISES), description="noise kinds; babble is made from other speakers"
    )
    word_dropout: list[float] = Field(default_factory=list, description="rates of dropping each transcript word")
    word_substitution: list[float] = Field(
        default_factory=list, description="rates of replacing each word by a random corpus word"
    )
    seed: int = Field(0, ge=0, le=SEED_MAX, description="seed of every perturbation")

    @model_validator(mode="after")
    def _rates(self) -> RobustnessSpec:
        for rate in (*self.word_dropout, *self.word_substitution):
            if not 0 <= rate <= 1:
                raise ValueError(f"word rates must be within [0, 1], got {rate}")
        return self

    def conditions(self) -> list[Condition]:
        out = [Condition("audio", kind, float(s)) for kind in self.noise for s in self.snr_db]
        out += [Condition("text", "dropout", float(r)) for r in self.word_dropout]
        out += [Condition("text", "substitution", float(r)) for r in self.word_substitution]
        return out
