"""`securestore preview`: the user-facing view of the offline graph."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from securestore.cli import main

ROOT = Path(__file__).resolve().parents[1]


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
