from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from emoframe.errors import NameConflictError, PluginError, UnknownComponentError
from emoframe.plugin.registry import Registry

GOOD_PLUGIN = """
    import numpy as np
    import emoframe

    class Loud(emoframe.FeatureExtractor):
        '''Peak amplitude.'''
        name = "acme.loud"
        version = "2.1"
        modality = "audio"
        output = "vector"
        def extract(self, x):
            return np.array([np.abs(x).max()])

    @emoframe.hookimpl
    def register_extractors(register):
        register(Loud)
"""


def test_builtins_load_through_the_core_entry_point():
    reg = Registry.from_entry_points(allow=[])
    assert {"fusion.early", "fusion.late"} <= set(reg.names("fusion"))
    late = reg.get("fusion.late")
    assert late.plugin == "emoframe" and late.distribution == "emoframe" and late.fusion_kind == "late"
    assert not reg.broken


def test_third_party_distribution_is_found_by_entry_point(make_dist):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    reg = Registry.from_entry_points()
    info = reg.get("acme.loud")
    assert (info.kind, info.modality, info.output, info.version) == ("extractor", "audio", "vector", "2.1")
    assert info.distribution == "acme-emo"
    assert info.create().extract([0.1, -0.5]).tolist() == [0.5]


def test_allow_list_env_skips_other_plugins(make_dist, monkeypatch):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    make_dist("other-emo", "other_emo", GOOD_PLUGIN.replace("acme.loud", "other.loud"))
    monkeypatch.setenv("EMOFRAME_PLUGINS", "other_emo")
    reg = Registry.from_entry_points()
    assert "acme.loud" not in reg and "other.loud" in reg and "fusion.late" in reg  # the core built-ins always load
    assert "sklearn.svc" not in reg  # a first-party plugin is a plugin like any other: filtered too
    assert reg.plugin_filter is not None and {"acme_emo", "sklearn"} <= set(reg.plugin_filter.skipped)


# -- EMOFRAME_PLUGINS (issue 26 §4): never a silent filter --------------------------------------------------


@pytest.mark.parametrize(
    "value, message",
    [
        ("nosuch", "EMOFRAME_PLUGINS=nosuch names 'nosuch': no installed plugin has that name"),
        ("acme_emo,acme_em", "names 'acme_em' (did you mean acme_emo?)"),
        ("", "EMOFRAME_PLUGINS is set but empty"),
        ("  ", "EMOFRAME_PLUGINS is set but empty"),
        ("acme_emo,,sklearn", "EMOFRAME_PLUGINS='acme_emo,,sklearn': entry 2 is empty"),
        ("acme_emo,", "entry 2 is empty"),
    ],
)
def test_an_unknown_or_empty_entry_is_an_error_naming_it(make_dist, monkeypatch, value, message):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    monkeypatch.setenv("EMOFRAME_PLUGINS", value)
    with pytest.raises(PluginError) as e:
        Registry.from_entry_points()
    assert message in str(e.value) and "acme_emo" in str(e.value)  # the installed names are listed


def test_an_unknown_name_in_an_allow_list_given_in_code_is_an_error_too():
    with pytest.raises(PluginError, match="allow=\\['nosuch'\\] names 'nosuch'"):
        Registry.from_entry_points(allow=["nosuch"])


def test_an_unknown_component_under_a_filter_names_the_filter(make_dist, monkeypatch):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    monkeypatch.setenv("EMOFRAME_PLUGINS", "acme_emo")
    reg = Registry.from_entry_points()
    with pytest.raises(UnknownComponentError) as e:
        reg.get("opensmile.egemaps", "extractor")
    message = str(e.value)
    assert message.startswith("unknown extractor 'opensmile.egemaps'")
    assert "EMOFRAME_PLUGINS=acme_emo is set: only plugins emoframe, acme_emo are loaded; not loaded:" in message
    assert "opensmile" in message.split("not loaded:")[1] and "unset EMOFRAME_PLUGINS" in message
    monkeypatch.delenv("EMOFRAME_PLUGINS")
    with pytest.raises(UnknownComponentError) as e:
        Registry.from_entry_points().get("nosuch.thing")
    assert "EMOFRAME_PLUGINS" not in str(e.value)  # no filter, no word about one


def test_spec_validation_names_the_filter(make_dist, monkeypatch, tmp_path):
    from emoframe.errors import SpecError
    from emoframe.spec import load_spec

    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    monkeypatch.setenv("EMOFRAME_PLUGINS", "acme_emo")
    spec = tmp_path / "s.yaml"
    spec.write_text("branches:\n  audio: {extractor: opensmile.egemaps, model: sklearn.svc}\ndata: {manifest: m.csv}\n")
    with pytest.raises(SpecError) as e:
        load_spec(spec, registry=Registry.from_entry_points())
    message = str(e.value)
    assert "unknown extractor 'opensmile.egemaps'" in message and "EMOFRAME_PLUGINS=acme_emo is set" in message


def test_a_bundle_needing_a_filtered_out_plugin_names_the_filter_not_pip(make_dist, monkeypatch):
    from emoframe.deploy.bundle import check_compatible
    from emoframe.errors import BundleError

    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    meta = {
        "components": [
            {"kind": "extractor", "name": "opensmile.egemaps", "version": "1", "distribution": "emoframe-opensmile"}
        ]
    }
    monkeypatch.setenv("EMOFRAME_PLUGINS", "acme_emo")
    with pytest.raises(BundleError) as e:
        check_compatible(meta, Registry.from_entry_points())
    message = str(e.value)
    assert "extractor 'opensmile.egemaps' is not loaded: EMOFRAME_PLUGINS=acme_emo is set" in message
    assert "pip install" not in message


def test_cli_plugins_states_the_filter_while_it_is_set(make_dist, monkeypatch):
    from click.testing import CliRunner

    from emoframe.cli import main
    from emoframe.plugin import registry as registry_module

    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    runner = CliRunner()

    def plugins(*args, env=None):
        monkeypatch.setattr(registry_module, "_default", None)  # the next command loads plugins afresh
        return runner.invoke(main, ["plugins", *args], env=env)

    table = plugins(env={"EMOFRAME_PLUGINS": "acme_emo"})
    assert table.exit_code == 0, table.output
    assert table.output.startswith("plugin filter: EMOFRAME_PLUGINS=acme_emo is set: only plugins emoframe, acme_emo")
    listing = json.loads(plugins("--json", env={"EMOFRAME_PLUGINS": "acme_emo"}).output)
    assert listing["filter"]["source"] == "EMOFRAME_PLUGINS=acme_emo" and "sklearn" in listing["filter"]["skipped"]
    unfiltered = plugins("--json", env={"EMOFRAME_PLUGINS": None})
    assert json.loads(unfiltered.output)["filter"] is None
    assert "plugin filter" not in plugins(env={"EMOFRAME_PLUGINS": None}).output
    bad = plugins(env={"EMOFRAME_PLUGINS": "nosuch"})
    assert bad.exit_code == 2 and "names 'nosuch': no installed plugin has that name" in bad.output


def test_import_error_is_reported_and_others_load(make_dist):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    make_dist("broken-emo", "broken_emo", "import not_a_module_xyz\n")
    reg = Registry.from_entry_points()
    assert "acme.loud" in reg and "fusion.late" in reg
    (bad,) = [p for p in reg.broken]
    assert bad.name == "broken_emo" and bad.distribution == "broken-emo" and bad.status == "broken"
    assert "ModuleNotFoundError" in bad.problems[0] and "not_a_module_xyz" in bad.problems[0]


def test_duplicate_name_is_reported_with_both_distributions(make_dist):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    make_dist(
        "zz-copycat",
        "zz_copycat",
        (
            textwrap.dedent(GOOD_PLUGIN)
            + textwrap.dedent("""
        class Other(emoframe.FeatureExtractor):
            '''Another, not a duplicate: it still loads.'''
            name = "zz.other"
            modality = "text"
            output = "vector"

        @emoframe.hookimpl
        def register_corpora(register):
            pass
        """)
        ).replace("    register(Loud)", "    register(Loud)\n    register(Other)"),
    )
    reg = Registry.from_entry_points()
    # issue 12 §1: no silent winner — the bare name is a conflict, both are listed and choosable
    assert "acme.loud" in reg.conflicts and "acme.loud" not in reg
    with pytest.raises(NameConflictError, match="acme-emo.*zz-copycat|zz-copycat.*acme-emo"):
        reg.get("acme.loud")
    assert reg.get("acme-emo:acme.loud").distribution == "acme-emo"
    assert reg.get("zz-copycat:acme.loud").distribution == "zz-copycat"
    assert reg.get("zz.other").distribution == "zz-copycat"  # the rest of the plugin loads
    assert {p.distribution for p in reg.broken} == {"acme-emo", "zz-copycat"}  # both are told
    assert all("write 'acme-emo:acme.loud' or 'zz-copycat:acme.loud'" in p.problems[-1] for p in reg.broken)


def test_a_conflicting_name_fails_validation_naming_both(make_dist, tmp_path):
    from emoframe.spec import check, parse_spec

    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    make_dist("zz-copycat", "zz_copycat", GOOD_PLUGIN)
    reg = Registry.from_entry_points()
    doc = {"data": {"corpus": "demo"}, "branches": {"audio": {"extractor": "acme.loud", "model": "sklearn.logreg"}}}
    (problem,) = check(parse_spec(doc), reg)
    assert problem.path == "branches.audio.extractor"
    assert "acme-emo" in problem.message and "zz-copycat" in problem.message
    assert "'acme-emo:acme.loud' or 'zz-copycat:acme.loud'" in problem.fix
    doc["branches"]["audio"]["extractor"] = "zz-copycat:acme.loud"
    assert check(parse_spec(doc), reg) == []  # the qualified name chooses
    cli = subprocess.run(
        [sys.executable, "-m", "emoframe", "plugins"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert "name conflicts" in cli.stdout and "zz-copycat:acme.loud" in cli.stdout


def test_registration_goes_through_pluggy_so_wrappers_apply():
    import types

    import emoframe

    mod = types.ModuleType("wrapping")
    calls = []

    class Loud(emoframe.FeatureExtractor):
        name = "wrap.loud"
        modality = "audio"
        output = "vector"

    Loud.__qualname__ = "Loud"  # as if defined at module level

    @emoframe.hookimpl(wrapper=True)
    def register_extractors(register):
        calls.append("before")
        result = yield
        calls.append("after")
        return result

    mod.register_extractors = register_extractors
    reg = Registry()
    info = reg.add_plugin(mod, name="wrapping")
    assert calls == ["before", "after"] and not info.problems


def test_a_class_defined_in_a_function_is_refused_with_the_reason():
    import types

    import emoframe

    class Local(emoframe.FeatureExtractor):
        name = "local.thing"
        modality = "audio"
        output = "vector"

    mod = types.ModuleType("local_plugin")
    mod.register_extractors = emoframe.hookimpl(lambda register: register(Local))
    mod.register_extractors.__name__ = "register_extractors"
    info = Registry().add_plugin(mod, name="local")
    assert "local.thing" not in info.components
    assert any("defined inside a function" in p and "module level" in p for p in info.problems), info.problems


def test_raising_hook_breaks_only_that_plugin_and_registers_nothing_of_it(make_dist):
    make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    make_dist(
        "raiser-emo",
        "raiser_emo",
        GOOD_PLUGIN.replace("acme.loud", "raiser.loud").replace(
            "        register(Loud)", "        register(Loud)\n        raise RuntimeError('no licence file')"
        ),
    )
    reg = Registry.from_entry_points()
    assert "acme.loud" in reg
    assert "raiser.loud" not in reg  # staged registrations of a failed hook are dropped
    (bad,) = reg.broken
    assert bad.name == "raiser_emo" and "RuntimeError: no licence file" in bad.problems[0]


@pytest.mark.parametrize(
    "body, expected",
    [
        ("class X:\n    name = 'a.b'\n", "not a FeatureExtractor subclass"),
        (
            "class X(emoframe.FeatureExtractor):\n    name = 'NoDots'\n    modality = 'audio'\n    output = 'vector'\n",
            "invalid name 'NoDots'",
        ),
        (
            "class X(emoframe.FeatureExtractor):\n    name = 'a.b'\n    modality = 'video'\n    output = 'vector'\n",
            "modality must be 'audio' or 'text'",
        ),
        (
            "class X(emoframe.FeatureExtractor):\n    name = 'a.b'\n    modality = 'audio'\n    output = 'vector'\n"
            "    class Params(emoframe.Params):\n        n: int\n",
            "Params must give every field a default",
        ),
    ],
)
def test_invalid_component_is_rejected_with_reason(registry, body, expected):
    import types

    import emoframe

    mod = types.ModuleType("badmod")
    exec("import emoframe\n" + body, mod.__dict__)

    @emoframe.hookimpl
    def register_extractors(register):
        register(mod.X)

    mod.register_extractors = register_extractors
    info = registry.add_plugin(mod, name="badmod")
    assert info.status == "broken" and expected in info.problems[0]


def test_misspelt_hook_is_reported(registry):
    import types

    import emoframe

    mod = types.ModuleType("typo")

    @emoframe.hookimpl
    def register_model(register):
        pass

    mod.register_model = register_model
    info = registry.add_plugin(mod, name="typo")
    assert info.problems and "unknown hook 'register_model'" in info.problems[0]
    assert "register_models" in info.problems[0]


def test_unknown_component_suggests_close_matches(registry):
    with pytest.raises(UnknownComponentError) as e:
        registry.get("toy.centriod")
    assert "toy.centroid" in str(e.value)
    with pytest.raises(UnknownComponentError) as e:
        registry.get("toy.centroid", kind="extractor")
    assert "unknown extractor 'toy.centroid'" in str(e.value)


def test_programmatic_registration_and_queries(registry):
    assert registry.get("toy.energy").plugin == "toy"
    assert [c.name for c in registry.components("extractor", modality="text")] == ["toy.words"]
    assert registry.get("toy.words").stateless is False
    assert registry.get("toy.seqmean").accepts == ["sequence"]
    assert registry.create("toy.centroid", {"temperature": 2.0}).params.temperature == 2.0


def test_cli_lists_third_party_and_broken_plugins_as_json(make_dist):
    site = make_dist("acme-emo", "acme_emo", GOOD_PLUGIN)
    make_dist("broken-emo", "broken_emo", "raise ImportError('needs libfoo')\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    out = subprocess.run(
        [sys.executable, "-m", "emoframe", "plugins", "--json"], env=env, capture_output=True, text=True, check=True
    )
    data = json.loads(out.stdout)
    names = {c["name"] for c in data["components"]}
    assert {"acme.loud", "fusion.late"} <= names
    broken = {p["name"]: p for p in data["plugins"] if p["status"] != "ok"}
    assert "needs libfoo" in broken["broken_emo"]["problems"][0]
