from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from emoframe.cli import main
from emoframe.plugin import registry as registry_module

from .test_spec import BENCH, VALID


@pytest.fixture
def cli(registry, monkeypatch):
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(main, list(args))

    return invoke


def write(tmp_path, doc, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_validate_ok(cli, tmp_path):
    result = cli("validate", write(tmp_path, VALID))
    assert result.exit_code == 0, result.output
    assert "ok pipeline: energy+words" in result.output


def test_validate_benchmark_expands(cli, tmp_path):
    result = cli("validate", "--expand", write(tmp_path, BENCH))
    assert result.exit_code == 0, result.output
    assert "9 pipelines (6 fused, 3 unimodal)" in result.output
    assert result.output.count("\n") == 10


def test_validate_reports_one_line_per_problem_with_exit_2(cli, tmp_path):
    doc = json.loads(json.dumps(VALID))
    doc["branches"]["audio"]["model"] = "toy.seqmean"
    doc["fusion"] = "fusion.lat"
    path = write(tmp_path, doc)
    result = cli("validate", path)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 2, result.output
    assert "Traceback" not in result.output
    assert any(f"{path}: branches.audio.model: 'toy.seqmean' takes sequence input" in line for line in lines)
    assert any(f"{path}: fusion: unknown fusion 'fusion.lat'" in line for line in lines)


def test_debug_shows_the_traceback(cli, tmp_path):
    doc = json.loads(json.dumps(VALID))
    doc["fusion"] = "fusion.lat"
    result = cli("--debug", "validate", write(tmp_path, doc))
    assert result.exit_code != 0 and result.exc_info and result.exc_info[0].__name__ == "SpecError"


def test_missing_spec_file_is_bad_input(cli, tmp_path):
    result = cli("validate", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "cannot read spec file" in result.output


def test_plugins_table_json_and_show(cli):
    table = cli("plugins")
    assert table.exit_code == 0 and "toy.energy" in table.output and "fusion.late" in table.output
    data = json.loads(cli("plugins", "--json").output)
    energy = next(c for c in data["components"] if c["name"] == "toy.energy")
    assert energy["modality"] == "audio" and energy["params"]["frame"]["default"] == 400
    shown = cli("plugins", "--show", "toy.energy")
    assert shown.exit_code == 0 and "frame" in shown.output and "400" in shown.output
    unknown = cli("plugins", "--show", "toy.enrgy")
    assert unknown.exit_code == 2 and "did you mean toy.energy" in unknown.output


def test_schema_is_json(cli):
    out = cli("schema", "--kind", "benchmark")
    assert out.exit_code == 0
    assert json.loads(out.output)["title"] == "BenchmarkSpec"
