"""Resolve the configuration of one run: defaults -> env -> config file -> variant ->
the variant's env_settings -> --set.

Config file layout (workflow/schemas/config.schema.yaml; the Snakefile and load_config_file
check it, and check_names checks its env ids and method names against the registries)::

    envs: [gym-Hopper-v5, ...]
    seeds: 5                      # or an explicit list
    defaults: {eval_episodes: 5}  # applied to every method that has the key
    env_settings: {gym-Hopper-v5: {env_steps: 50000}}
    variants: {mbpo-k5: {method: mbpo, rollout_length: 5},
               mpc-cem: {method: mpc, horizon: 15,       # a variant's own per-env settings
                         env_settings: {gym-InvertedPendulum-v5: {horizon: 45}}}}
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any

import yaml

from methods.common.envs import get_spec
from methods.common.errors import UserError

# The one schema of a config file: the DAG validates with it (workflow/rules/common.smk),
# and so does every command that reads a config file.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow/schemas/config.schema.yaml"
TIER_KEYS = ("envs", "seeds")  # required by the DAG only: a command is given its env and seed


def load_config_file(path: str | Path) -> dict:
    """Read a YAML config and check its shape against the config schema (the DAG's) and its
    env ids and method names against the registries (check_names); a missing file, bad YAML,
    a malformed config or an unknown env or method -> UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"config file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"config file {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(data, dict):
        raise UserError(f"config file {path} must hold a mapping at the top level")
    problem = schema_problem(data, SCHEMA_PATH, optional=TIER_KEYS)
    if problem:
        raise UserError(problem)
    check_names(data)
    return data


def check_names(tier: dict) -> None:
    """The tier's env ids (``envs``) must be registered in methods/common/envs.py and each
    variant's ``method`` in methods/registry.py: the schema checks only that they are
    strings, so that a new env or method is registered in one place. The first unknown name
    -> the registry's UserError, prefixed with the variant for a method."""
    from methods.registry import check_method_name

    for env_id in tier.get("envs") or []:
        get_spec(env_id)
    for variant, settings in (tier.get("variants") or {}).items():
        method = settings.get("method") if isinstance(settings, dict) else None
        if not isinstance(method, str):
            continue  # the schema or variant_settings refuses it
        try:
            check_method_name(method)
        except UserError as exc:
            raise UserError(f"variant '{variant}': {exc}") from None


def field_types(config_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(config_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(config_cls)}


def coerce(key: str, expected: Any, value: Any, source: str) -> Any:
    """Check ``value`` against the field type; ints are accepted for floats, lists for tuples."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(expected)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return coerce(key, option, value, source)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[0])
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise UserError(f"{source}: '{key}' must be a list, got {value!r}")
        args = [a for a in typing.get_args(expected) if a is not Ellipsis]
        item_type = args[0] if args else Any
        items = [coerce(key, item_type, v, source) for v in value]
        return tuple(items) if origin is tuple else items
    if expected is Any:
        return value
    if expected is bool:
        if not isinstance(value, bool):
            raise UserError(f"{source}: '{key}' must be true or false, got {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise UserError(f"{source}: '{key}' must be an integer, got {value!r}")
        return value
    if expected is float:
        if isinstance(value, str):  # YAML 1.1 reads 3e-4 (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UserError(f"{source}: '{key}' must be a number, got {value!r}")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise UserError(f"{source}: '{key}' must be a string, got {value!r}")
        return value
    return value


def parse_set_options(options: list[str]) -> dict[str, Any]:
    """``["env_steps=5000", "lr=1e-3"]`` -> values parsed as YAML scalars."""
    parsed = {}
    for option in options:
        key, sep, raw = option.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects KEY=VALUE, got {option!r}")
        try:
            parsed[key.strip()] = yaml.safe_load(raw)
        except yaml.YAMLError:
            raise UserError(f"--set {key}: cannot parse value {raw!r}") from None
    return parsed


def variant_settings(file_cfg: dict, variant: str) -> dict:
    variants = file_cfg.get("variants") or {}
    if variant not in variants:
        known = ", ".join(sorted(variants)) or "(none)"
        raise UserError(f"unknown variant '{variant}'; variants in this config: {known}")
    settings = dict(variants[variant] or {})
    if "method" not in settings:
        raise UserError(f"variant '{variant}' does not name its 'method'")
    return settings


def resolve(
    config_cls: type,
    env_id: str,
    variant: str,
    file_cfg: dict,
    overrides: dict[str, Any],
    all_known_keys: set[str],
) -> Any:
    """Build the method's Config dataclass for one run, checking every key and type."""
    spec = get_spec(env_id)
    types_ = field_types(config_cls)
    values: dict[str, Any] = dict(config_cls.env_defaults(spec))

    def apply(layer: dict, source: str, strict: bool) -> None:
        for key, value in (layer or {}).items():
            if key in ("method", "envs", "env_settings"):
                continue
            if key not in types_:
                if strict or key not in all_known_keys:
                    hint = f"known keys: {', '.join(sorted(types_))}"
                    raise UserError(f"{source}: unknown key '{key}' ({hint})")
                continue
            values[key] = coerce(key, types_[key], value, source)

    apply(file_cfg.get("defaults"), "config 'defaults'", strict=False)
    apply((file_cfg.get("env_settings") or {}).get(env_id), f"env_settings[{env_id}]", False)
    settings = variant_settings(file_cfg, variant)
    apply(settings, f"variant '{variant}'", strict=True)
    variant_env = settings.get("env_settings") or {}
    if not isinstance(variant_env, dict):
        raise UserError(f"variant '{variant}': 'env_settings' must map env ids to settings")
    for env_key in variant_env:  # a typo in an env id is an error, not an unused entry
        try:
            get_spec(env_key)
        except UserError as exc:
            raise UserError(f"variant '{variant}' env_settings: {exc}") from None
    apply(variant_env.get(env_id), f"variant '{variant}' env_settings[{env_id}]", strict=True)
    apply(overrides, "--set", strict=True)
    cfg = config_cls(**values)
    cfg.validate(spec)
    return cfg


def schema_problem(
    tier: dict, schema_path: str | Path, optional: tuple[str, ...] = ()
) -> str | None:
    """The first violation of the tier schema as one line (where, what), or None.
    ``optional``: top-level keys the schema requires that this caller does not need."""
    import jsonschema

    schema_path = Path(schema_path)
    if not schema_path.is_file():  # e.g. a non-editable install without the workflow
        raise UserError(f"the config schema {schema_path} is missing; install the suite from "
                        "its repository (pip install -e .)")  # fmt: skip
    schema = yaml.safe_load(schema_path.read_text())
    schema["required"] = [k for k in schema.get("required", []) if k not in optional]
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors(tier)
    )
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "top level"
    return f"invalid config at '{where}': {error.message}"


# Keys that only derive other keys at validation (paper_schedule -> rollout_schedule,
# full_episode_rollouts -> rollout_length): two runs that differ only in them are one run.
DERIVING_KEYS = ("paper_schedule", "full_episode_rollouts")


def behaviour(cfg: Any) -> str:
    """What a resolved Config computes, as one canonical string: its settings without the
    deriving keys, with a k schedule that never changes k written as that fixed k."""
    values = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in DERIVING_KEYS}
    schedule = values.get("rollout_schedule")
    if schedule is not None and schedule[2] == schedule[3]:
        values["rollout_schedule"], values["rollout_length"] = None, schedule[2]
    return json.dumps(values, sort_keys=True, default=str)


def check_tier(tier: dict) -> int:
    """Resolve every (variant, env) run of a tier as ``methods train`` will, before any job
    starts; the first problem (unknown env, typo in a key, wrong type, invalid value) is a
    UserError naming the variant and env. Returns the number of (variant, env) pairs."""
    from methods.registry import all_config_keys, get_method

    check_names(tier)
    for env_id in tier.get("env_settings") or {}:
        get_spec(env_id)
    if not tier.get("variants"):
        raise UserError("the config defines no variants")
    chaos_variant = (tier.get("chaos") or {}).get("variant")
    if chaos_variant is not None and chaos_variant not in tier["variants"]:
        raise UserError(f"chaos variant '{chaos_variant}' is not a variant of this config")
    policy_variant = (tier.get("heldout") or {}).get("policy_variant")
    if policy_variant is not None and policy_variant not in tier["variants"]:
        raise UserError(f"heldout policy_variant '{policy_variant}' is not a variant of this "
                        "config")  # fmt: skip
    known_keys = all_config_keys()
    pairs = 0
    seen: dict[tuple[str, str], str] = {}  # (env, what the run computes) -> first variant
    for variant in tier["variants"]:
        settings = variant_settings(tier, variant)
        method = get_method(settings["method"])
        only = settings.get("envs")
        for env_id in only or []:
            get_spec(env_id)
        for env_id in tier["envs"]:
            if only is not None and env_id not in only:
                continue
            try:
                cfg = resolve(method.Config, env_id, variant, tier, {}, known_keys)
            except UserError as exc:
                if f"variant '{variant}'" in str(exc):
                    raise UserError(f"{exc} (on {env_id})") from None
                raise UserError(f"variant '{variant}' on {env_id}: {exc}") from None
            key = (env_id, f"{settings['method']} {behaviour(cfg)}")
            if key in seen:
                raise UserError(
                    f"variants '{seen[key]}' and '{variant}' resolve to the same run on "
                    f"{env_id} (identical settings): drop one, or list the envs where they "
                    f"differ in the variant's `envs:`"
                )
            seen[key] = variant
            pairs += 1
    return pairs
