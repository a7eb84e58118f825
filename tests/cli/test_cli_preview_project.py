"""`securestore preview` finds its project honestly and refuses input the real CLI would.

Class: configuration that is silently ignored or silently replaced (previewing another
checkout, a misspelt provider key, a duplicate YAML key where the last one wins, a policy
config naming a rule that does not exist so the real rule stays at its default).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from securestore.cli import main
from securestore.offline.project import ProjectError, find_project_dir, load_project, stack_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project's YAML files (enough for config assembly)."""
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def test_outside_a_project_preview_says_so(tmp_path, monkeypatch, capsys):
    """Before: it silently previewed the installed checkout."""
    monkeypatch.chdir(tmp_path)
    assert main(["preview", "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert "is not inside a Pulumi project" in err and "--project-dir" in err
    with pytest.raises(ProjectError, match="holds no Pulumi.yaml"):
        find_project_dir(tmp_path)


def test_misspelt_aws_key_is_refused_with_a_suggestion(project):
    path = project / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("config:\n", "config:\n  aws:regoin: eu-west-1\n", 1))
    with pytest.raises(ProjectError, match=r"'aws:regoin' is not a pulumi-aws setting; did you mean aws:region\?"):
        stack_config(load_project(project), "dev")


def test_unknown_region_is_refused(project):
    path = project / "Pulumi.dev.yaml"
    text = path.read_text()
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("aws:region"))
    path.write_text(text.replace("config:\n", "config:\n  aws:region: eu-centrl-1\n", 1) + "\n")
    with pytest.raises(ProjectError, match="aws:region 'eu-centrl-1' is not an AWS region; did you mean eu-central-1"):
        stack_config(load_project(project), "dev")


def test_region_list_is_every_region_botocore_knows():
    """The preview reads only the partitions' "regions" objects of botocore's endpoint data
    (speed); the set must be exactly what botocore's own loader returns, in every partition."""
    import botocore.loaders

    from securestore.offline.project import _aws_regions

    data = botocore.loaders.create_loader().load_data("endpoints")
    expected = {region for partition in data["partitions"] for region in partition.get("regions", {})}
    assert _aws_regions() == expected
    assert {"us-east-1", "cn-north-1", "us-gov-west-1"} <= expected


def test_known_region_and_keys_pass(project):
    config = stack_config(load_project(project), "prod")
    assert config  # the shipped stack files stay valid


def test_duplicate_yaml_key_is_refused(project):
    path = project / "Pulumi.dev.yaml"
    path.write_text(path.read_text().replace("config:\n", "config:\n  securestore:protect: true\n"
                                             "  securestore:protect: false\n", 1))
    with pytest.raises(ProjectError, match="found duplicate key 'securestore:protect'"):
        stack_config(load_project(project), "dev")


def test_unknown_rule_name_in_pack_config_is_refused(dev_graph, tmp_path):
    from securestore.offline.policy_runner import check_stack_policies

    config = tmp_path / "pack.json"
    config.write_text('{"s3-public-acess-block-all-flags": "mandatory", "all": "mandatory"}')
    with pytest.raises(ValueError, match="did you mean 's3-public-access-block-all-flags'"):
        check_stack_policies(dev_graph, REPO, config)


def test_preview_does_not_import_botocore():
    """Speed (issue 17): the region check reads botocore's endpoint data without importing
    botocore, whose import (urllib3, awscrt) was ~70 ms of a 0.9 s offline preview."""
    import subprocess
    import sys

    code = (
        "import contextlib, io, sys\n"
        "from securestore.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    status = main(['preview', '--stack', 'prod', '--json'])\n"
        "print(status, 'botocore' in sys.modules, 'pulumi_aws.s3' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=REPO)
    assert out.stdout.split() == ["0", "False", "True"], out.stderr
