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


class _UniqueKeyLoader(_Loader):  # type: ignore[misc, valid-type]
    """The safe loader, refusing a mapping that names a key twice.

    YAML loaders keep the last of two equal keys without a word, so a stack file with two
    ``securestore:protect:`` lines silently previews one of them; the Pulumi CLI refuses such a
    file, and so does this.
    """

    def construct_mapping(self, node, deep=False):  # noqa: D401 (PyYAML hook)
        seen: dict[object, object] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark,
                        f"found duplicate key {key!r} (first at line {seen[key].line + 1})", key_node.start_mark)
                seen[key] = key_node.start_mark
            except TypeError:  # an unhashable key: the base class reports it
                pass
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> object:
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)


def _aws_config_keys() -> frozenset[str]:
    """The config keys the pulumi-aws provider reads (``aws:region``, ``aws:profile``, ...),
    taken from the installed SDK's generated ``config/vars.py`` without importing it."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source = Path(list(spec.submodule_search_locations)[0]) / "config" / "vars.py"
    try:
        text = source.read_text()
    except OSError:
        return frozenset()
    return frozenset(re.findall(r"__config__\.get\w*\('([A-Za-z0-9]+)'", text))


def _aws_regions() -> frozenset[str]:
    """Every region botocore's endpoint data knows, in every partition (aws, aws-cn, aws-us-gov, ...).

    Read straight from botocore's ``data/endpoints.json`` (as ``botocore.loaders`` would find
    it) without importing botocore: its import pulls in urllib3 and awscrt, ~70 ms that every
    offline preview paid for one JSON file (``bench/preview_profile.py``)."""
    import gzip
    import importlib.util
    import re

    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()  # without botocore the check is skipped, not guessed
    data_dir = Path(list(spec.submodule_search_locations)[0]) / "data"
    try:
        if (data_dir / "endpoints.json").is_file():
            text = (data_dir / "endpoints.json").read_text()
        else:
            text = gzip.decompress((data_dir / "endpoints.json.gz").read_bytes()).decode()
    except OSError:
        return frozenset()
    # Only each partition's "regions" object is decoded (services name endpoints, never
    # "regions"): a full json.loads of the 1.2 MB file cost 20 ms of a 0.8 s preview.
    decoder = json.JSONDecoder()
    regions: set[str] = set()
    try:
        for match in re.finditer(r'"regions"\s*:\s*', text):
            block, _ = decoder.raw_decode(text, match.end())
            regions.update(block)
    except (ValueError, TypeError):
        return frozenset()
    return frozenset(regions)


def check_aws_config(config: Mapping[str, Any], path: Path) -> None:
    """Refuse ``aws:`` keys the provider does not read (``aws:regoin``) and unknown regions,
    as the real provider would at ``pulumi preview``."""
    import difflib

    known = _aws_config_keys()
    for key in config:
        if not key.startswith("aws:") or not known:
            continue
        name = key[len("aws:"):]
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean aws:{close[0]}?" if close else ""
            raise ProjectError(f"{path.name}: config key {key!r} is not a pulumi-aws setting{hint}")
    region = config.get("aws:region")
    skip = str(config.get("aws:skipRegionValidation", "false")).lower() == "true"
    regions = _aws_regions()
    if region is not None and not skip and regions and region not in regions:
        close = difflib.get_close_matches(str(region), sorted(regions), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ProjectError(f"{path.name}: aws:region {region!r} is not an AWS region{hint}")


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
    """The directory holding ``Pulumi.yaml``: ``start``, else the current directory or a parent.

    Like the Pulumi CLI, and never the installed checkout: outside a project this says so
    instead of previewing some other program.
    """
    if start is not None:
        directory = Path(start).resolve()
        if (directory / PROJECT_FILE).is_file():
            return directory
        raise ProjectError(f"--project-dir {str(start)!r} holds no {PROJECT_FILE}")
    cwd = Path.cwd().resolve()
    for directory in (cwd, *cwd.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    raise ProjectError(f"{cwd} is not inside a Pulumi project (no {PROJECT_FILE} here or in a parent "
                       "directory): cd into the project or pass --project-dir")


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
    check_aws_config(config, path)
    return config
