from __future__ import annotations

import json

import pytest
import yaml

from emoframe.errors import SpecError
from emoframe.spec import (
    BenchmarkSpec,
    PipelineSpec,
    check,
    json_schemas,
    load_spec,
    parse_spec,
    pipelines_of,
    validate,
)

VALID = {
    "name": "energy+words",
    "data": {"corpus": "toy.corpus"},
    "branches": {
        "audio": {"extractor": {"name": "toy.energy", "params": {"frame": 200}}, "model": "toy.centroid"},
        "text": {"extractor": "toy.words", "model": "toy.centroid"},
    },
    "fusion": {"name": "fusion.late", "params": {"weights": "learned"}},
    "evaluation": {"protocol": "loso", "seed": 3},
}


def problems(doc, registry, base_dir=None):
    return [str(p) for p in check(parse_spec(doc), registry, base_dir)]


def with_changes(**changes):
    doc = json.loads(json.dumps(VALID))
    for dotted, value in changes.items():
        node = doc
        *parents, last = dotted.split("__")
        for p in parents:
            node = node[p]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return doc


def test_valid_spec_has_no_problems(registry):
    assert problems(VALID, registry) == []


def test_unknown_component_names_path_and_close_match(registry):
    (p,) = problems(with_changes(branches__audio__model="toy.centriod"), registry)
    assert p.startswith("branches.audio.model: unknown model 'toy.centriod'") and "toy.centroid" in p


def test_component_of_the_wrong_kind(registry):
    (p,) = problems(with_changes(fusion="toy.centroid"), registry)
    assert p.startswith("fusion: 'toy.centroid' is a model, not a fusion")


def test_bad_param_type_names_the_field_and_value(registry):
    doc = with_changes(branches__audio__extractor={"name": "toy.energy", "params": {"frame": "big"}})
    (p,) = problems(doc, registry)
    assert p.startswith("branches.audio.extractor.params.frame: ") and "'big'" in p


def test_param_out_of_bounds_and_unknown_param(registry):
    doc = with_changes(
        branches__audio__extractor={"name": "toy.energy", "params": {"frame": 2}},
        branches__text__model={"name": "toy.centroid", "params": {"tempreture": 1}},
    )
    ps = problems(doc, registry)
    assert any(
        p.startswith("branches.audio.extractor.params.frame: Input should be greater than or equal to 16") for p in ps
    )
    assert any(p.startswith("branches.text.model.params.tempreture: unknown parameter") for p in ps)


def test_extractor_of_the_wrong_modality(registry):
    (p,) = problems(with_changes(branches__text__extractor="toy.energy"), registry)
    assert p.startswith("branches.text.extractor: 'toy.energy' is an audio extractor but branch 'text' is text")
    assert "toy.words" in p  # the text extractors that would fit


def test_sequence_model_fed_a_vector_extractor(registry):
    (p,) = problems(with_changes(branches__audio__model="toy.seqmean"), registry)
    assert p.startswith("branches.audio.model: 'toy.seqmean' takes sequence input but 'toy.energy'")
    assert "use a sequence extractor: toy.frames" in p


def test_vector_model_fed_a_sequence_extractor(registry):
    (p,) = problems(with_changes(branches__audio__extractor="toy.frames"), registry)
    assert p.startswith("branches.audio.model: 'toy.centroid' takes vector input but 'toy.frames'")
    assert "use a vector extractor: toy.energy" in p


def test_raw_model_without_extractor_is_fine_and_vector_model_without_one_is_not(registry):
    assert problems(with_changes(branches__text={"model": "toy.prior"}), registry) == []
    (p,) = problems(with_changes(branches__text={"model": "toy.centroid"}), registry)
    assert p.startswith("branches.text.model: 'toy.centroid' takes vector input but branch 'text' has no extractor")


def test_early_fusion_without_a_model(registry):
    doc = with_changes(fusion="fusion.early", branches__audio__model=None, branches__text__model=None)
    (p,) = problems(doc, registry)
    assert p.startswith("model: early fusion 'fusion.early' needs a model")
    doc["model"] = "toy.centroid"
    assert problems(doc, registry) == []


def test_early_fusion_of_sequences_is_refused(registry):
    doc = with_changes(
        fusion="fusion.early",
        model="toy.centroid",
        branches__audio={"extractor": "toy.frames"},
        branches__text__model=None,
    )
    (p,) = problems(doc, registry)
    assert p.startswith("branches.audio.extractor: early fusion concatenates vectors but 'toy.frames'")


def test_late_fusion_with_a_branch_lacking_a_model(registry):
    (p,) = problems(with_changes(branches__text__model=None), registry)
    assert p.startswith("branches.text.model: late fusion combines each branch's probabilities")


def test_two_branches_need_a_fusion(registry):
    (p,) = problems(with_changes(fusion=None), registry)
    assert p.startswith("fusion: 2 branches (audio, text) need a fusion strategy")


def test_every_problem_is_reported_at_once(registry):
    doc = with_changes(
        branches__audio__extractor="toy.enrgy",
        branches__text__extractor="toy.energy",
        branches__text__model={"name": "toy.centroid", "params": {"temperature": -1}},
        fusion="fusion.lat",
        data={"corpus": "toy.corpsu"},
    )
    paths = sorted(p.split(":")[0] for p in problems(doc, registry))
    assert paths == [
        "branches.audio.extractor",
        "branches.text.extractor",
        "branches.text.model.params.temperature",
        "data.corpus",
        "fusion",
    ]


def test_structural_errors_are_all_reported_with_paths():
    doc = with_changes(evaluation={"protocol": "random", "folds": 1}, branches__audio__extractr="x")
    with pytest.raises(SpecError) as e:
        parse_spec(doc)
    paths = sorted(p.path for p in e.value.problems)
    assert paths == ["branches.audio.extractr", "evaluation.folds", "evaluation.protocol"]


def test_data_needs_exactly_one_source_and_manifest_must_exist(registry, tmp_path):
    with pytest.raises(SpecError) as e:
        parse_spec(with_changes(data={}))
    assert e.value.problems[0].path == "data" and "exactly one" in e.value.problems[0].message
    (p,) = problems(with_changes(data={"manifest": "nowhere.csv"}), registry, base_dir=tmp_path)
    assert p.startswith("data.manifest: manifest file not found: nowhere.csv")
    (tmp_path / "m.csv").write_text("id\n")
    assert problems(with_changes(data={"manifest": "m.csv"}), registry, base_dir=tmp_path) == []


def test_cross_corpus_needs_test_data():
    with pytest.raises(SpecError) as e:
        parse_spec(with_changes(evaluation={"protocol": "cross_corpus"}))
    assert "needs 'test' data" in str(e.value)


def test_yaml_round_trip(registry, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(VALID))
    spec = load_spec(path, registry)
    assert isinstance(spec, PipelineSpec)
    again = parse_spec(yaml.safe_load(spec.to_yaml()))
    assert again == spec and again.to_yaml() == spec.to_yaml()
    dumped = yaml.safe_load(spec.to_yaml())
    assert dumped["branches"]["audio"]["model"] == "toy.centroid"  # short form stays short
    assert dumped["branches"]["audio"]["extractor"] == {"name": "toy.energy", "params": {"frame": 200}}


def test_json_spec_loads(registry, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(VALID))
    assert load_spec(path, registry).branches["audio"].extractor.params == {"frame": 200}


def test_unreadable_and_malformed_files_are_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="cannot read spec file"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("branches: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(bad)


BENCH = {
    "name": "grid",
    "data": {"corpus": "toy.corpus"},
    "branches": {
        "audio": {
            "extractor": ["toy.energy", {"name": "toy.energy", "params": {"frame": 800}}],
            "model": "toy.centroid",
        },
        "text": {"extractor": "toy.words", "model": "toy.centroid"},
    },
    "fusion": ["fusion.late", {"name": "fusion.late", "params": {"weights": "learned"}}, "fusion.early"],
    "model": "toy.centroid",
}


def test_benchmark_grid_expands_with_baselines(registry):
    spec = parse_spec(BENCH)
    assert isinstance(spec, BenchmarkSpec)
    assert check(spec, registry) == []
    pipelines = pipelines_of(spec, registry)
    fused = [p for p in pipelines if p.is_fused]
    unimodal = [p for p in pipelines if not p.is_fused]
    assert len(fused) == 2 * 3  # 2 audio alternatives × 3 fusions
    # baselines: audio alternatives × model, text × model — shared between late and early fusion
    assert len(unimodal) == 3
    assert len({p.digest() for p in pipelines}) == len(pipelines)
    early = [p for p in fused if p.fusion.name == "fusion.early"]
    assert all(p.model.name == "toy.centroid" and all(b.model is None for b in p.branches.values()) for p in early)
    for p in pipelines:
        validate(p, registry)  # every expanded pipeline is itself valid


def test_benchmark_alternative_paths_carry_indices(registry):
    doc = json.loads(json.dumps(BENCH))
    doc["branches"]["audio"]["extractor"][1]["params"]["frame"] = "x"
    doc["fusion"][2] = "fusion.erly"
    ps = [str(p) for p in check(parse_spec(doc), registry)]
    assert any(p.startswith("branches.audio.extractor[1].params.frame:") for p in ps)
    assert any(p.startswith("fusion[2]: unknown fusion 'fusion.erly'") for p in ps)


def test_benchmark_yaml_round_trip():
    spec = parse_spec(BENCH)
    again = parse_spec(yaml.safe_load(spec.to_yaml()))
    assert again == spec
    assert yaml.safe_load(spec.to_yaml())["branches"]["text"]["model"] == "toy.centroid"


def test_json_schema_covers_both_specs():
    schemas = json_schemas()
    assert set(schemas) == {"PipelineSpec", "BenchmarkSpec"}
    props = schemas["PipelineSpec"]["properties"]
    assert {"data", "branches", "fusion", "model", "evaluation"} <= set(props)
