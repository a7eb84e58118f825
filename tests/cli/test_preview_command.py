"""`securestore preview`: the user-facing view of the offline graph."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from securestore.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_preview_prints_tree_counts_and_outputs(capsys, graphs):
    """Components with their children, protect flags, counts per type, outputs; exit 0."""
    assert main(["preview", "--stack", "prod"]) == 0
    out = capsys.readouterr().out
    assert "securestore:storage:SecureBucket  securestore-prod-storage" in out
    assert "aws:kms/key:Key  securestore-prod-key-cmk  [protected, retained]" in out
    counts = graphs["prod"].of_type("aws:s3/bucket:Bucket")
    assert f"{len(counts):>4} aws:s3/bucket:Bucket" in out
    assert "bucketName" in out and "kmsAliasName" in out
    # a child is drawn under its component
    lines = out.splitlines()
    component = next(i for i, l in enumerate(lines) if "securestore:encryption:EncryptionKey" in l)
    assert "aws:kms/" in lines[component + 1] and lines[component + 1].startswith("│  ")


def test_preview_json_matches_the_graph(capsys, graphs):
    assert main(["preview", "--stack", "dev", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stack"] == "dev"
    assert len(data["resources"]) == len(graphs["dev"].resources)
    assert sum(data["counts"].values()) == len(data["resources"])
    assert data["outputs"]["bucketName"] == graphs["dev"].exports["bucketName"]


def test_unknown_stack_exits_2(capsys):
    assert main(["preview", "--stack", "qa"]) == 2
    assert "Pulumi.qa.yaml" in capsys.readouterr().err


def test_bad_stack_config_exits_1_naming_the_key(tmp_path, capsys):
    """A stack whose config is invalid fails the preview with the key in the message."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "components", tmp_path / "components")
    (tmp_path / "Pulumi.bad.yaml").write_text(
        "config:\n  securestore:corsAllowedOrigins:\n    - '*'\n"
    )
    assert main(["preview", "--stack", "bad", "--project-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "securestore:corsAllowedOrigins" in err and "'*'" in err


def test_console_script_runs_from_another_directory(tmp_path):
    """The installed `securestore` finds this checkout's project even outside it."""
    exe = Path(sys.executable).with_name("securestore")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "securestore.cli"]
    result = subprocess.run(
        [*command, "preview", "--stack", "dev", "--project-dir", str(ROOT)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Resources:" in result.stdout


def _project_copy(tmp_path: Path) -> Path:
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "components", tmp_path / "components", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def test_a_config_key_in_a_misspelt_namespace_fails_naming_it(tmp_path, capsys):
    """Issue 21, config that lies: `securestor:environment: prod` configured nothing, so the
    prod stack previewed as dev with exit 0. A key in a namespace that is neither the project's
    nor a known provider's now fails the program, naming the key."""
    project = _project_copy(tmp_path)
    prod = (project / "Pulumi.prod.yaml").read_text()
    assert "  securestore:environment: prod\n" in prod
    (project / "Pulumi.typo.yaml").write_text(
        prod.replace("  securestore:environment: prod\n", "  securestor:environment: prod\n"))
    assert main(["preview", "--stack", "typo", "--project-dir", str(project)]) == 1
    err = capsys.readouterr().err
    assert "securestor:environment" in err and "namespace" in err


def test_known_namespaces_are_accepted():
    """aws:, pulumi: and the project's own keys pass; anything else is refused by name."""
    from components.settings import ForeignNamespaceError, check_namespaces

    check_namespaces({"aws:region": "eu-west-1", "pulumi:tags": "{}", "securestore:environment": "dev"})
    for key in ("securestor:environment", "aws-native:region", "environment", "Securestore:protect"):
        try:
            check_namespaces({"aws:region": "x", key: "prod"})
        except ForeignNamespaceError as exc:
            assert key in str(exc)
        else:
            raise AssertionError(f"{key} was accepted")


def test_policy_pack_directory_may_have_any_name(tmp_path, capsys):
    """`--policy-pack DIR` works for any directory name, as `pulumi preview --policy-pack` does
    (it worked only for a folder named policies). The copy's pack name is changed, so the
    report proves the copy ran, not this project's pack."""
    pack = tmp_path / "my-pack"
    shutil.copytree(ROOT / "policies", pack, ignore=shutil.ignore_patterns("__pycache__"))
    init = pack / "rules" / "__init__.py"
    init.write_text(init.read_text().replace('PACK_NAME = "securestore-storage"', 'PACK_NAME = "copied-pack"'))
    assert main(["preview", "--stack", "dev", "--json", "--policy-pack", str(pack)]) == 0
    report = json.loads(capsys.readouterr().out)["policy"]
    assert report["pack"] == "copied-pack" and report["policiesRun"] > 0, report


def test_policy_pack_directory_without_rules_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "empty-pack").mkdir()
    assert main(["preview", "--stack", "dev", "--policy-pack", str(tmp_path / "empty-pack")]) == 2
    assert "no policy pack in" in capsys.readouterr().err
