"""Find the Pulumi project and assemble a stack's config the way the Pulumi CLI would.

The CLI hands a program its config as strings: stack values from ``Pulumi.<stack>.yaml``
over the defaults declared in ``Pulumi.yaml``; lists and maps as JSON, booleans as
``true``/``false``. Doing the same here means the program sees identical input offline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

import yaml

PROJECT_FILE = "Pulumi.yaml"


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when present: a tenth of the pure-Python loader's time."""


def _load_yaml(text: str) -> object:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)


class ProjectError(ValueError):
    """The project or stack files are missing or malformed."""


@dataclass(frozen=True)
class Project:
    directory: Path
    name: str
    config_schema: dict[str, dict[str, Any]]
    """Key without namespace -> its declaration (type, description, default)."""

    def stack_file(self, stack: str) -> Path:
        return self.directory / f"Pulumi.{stack}.yaml"

    def stacks(self) -> list[str]:
        return sorted(
            p.name[len("Pulumi.") : -len(".yaml")]
            for p in self.directory.glob("Pulumi.*.yaml")
        )


def find_project_dir(start: Optional[Path] = None) -> Path:
    """The directory holding ``Pulumi.yaml``: ``start`` or a parent, else this checkout."""
    candidates = []
    if start is not None:
        candidates.append(Path(start).resolve())
    else:
        cwd = Path.cwd().resolve()
        candidates.extend([cwd, *cwd.parents])
        candidates.append(Path(__file__).resolve().parents[2])
    for directory in candidates:
        if (directory / PROJECT_FILE).is_file():
            return directory
    where = candidates[0] if start is not None else Path.cwd()
    raise ProjectError(f"no {PROJECT_FILE} in {where} or its parents; pass --project-dir")


def load_project(directory: Path) -> Project:
    path = directory / PROJECT_FILE
    try:
        data = _load_yaml(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProjectError(f"cannot read {path}: {exc}") from exc
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ProjectError(f"{path}: 'name' is missing")
    schema: dict[str, dict[str, Any]] = {}
    for key, declaration in (data.get("config") or {}).items():
        short = key.split(":", 1)[1] if key.startswith(f"{name}:") else key
        schema[short] = declaration if isinstance(declaration, dict) else {"default": declaration}
    return Project(directory=directory, name=name, config_schema=schema)


def _as_config_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def stack_config(
    project: Project, stack: str, overrides: Optional[Mapping[str, Any]] = None
) -> dict[str, str]:
    """Full-key config (``ns:key`` -> string) for ``stack``: defaults, stack file, overrides.

    ``overrides`` use keys without the project namespace (or full ``ns:key``), python values.
    """
    path = project.stack_file(stack)
    if not path.is_file():
        known = ", ".join(project.stacks()) or "none"
        raise ProjectError(f"stack {stack!r} has no {path.name} (stacks here: {known})")
    try:
        data = _load_yaml(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ProjectError(f"cannot parse {path}: {exc}") from exc

    def full(key: str) -> str:
        return key if ":" in key else f"{project.name}:{key}"

    config: dict[str, str] = {}
    for key, declaration in project.config_schema.items():
        if "default" in declaration:
            config[full(key)] = _as_config_string(declaration["default"])
        elif "value" in declaration:
            config[full(key)] = _as_config_string(declaration["value"])
    for key, value in (data.get("config") or {}).items():
        config[full(key)] = _as_config_string(value)
    for key, value in (overrides or {}).items():
        config[full(key)] = _as_config_string(value)
    return config
