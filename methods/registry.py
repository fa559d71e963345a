"""Method name -> module. Each module has a ``Config`` dataclass and ``train(cfg, ctx)``."""

from __future__ import annotations

import dataclasses
import importlib
from types import ModuleType

from methods.common.errors import UserError

METHOD_MODULES = {
    "sac": "methods.sac",
    "mbpo": "methods.mbpo",
    "dyna": "methods.dyna",
    "mpc": "methods.mpc",
    "bptt": "methods.bptt",
}


def check_method_name(name: str) -> None:
    """An unregistered name raises a UserError listing the known ones (without importing)."""
    if name not in METHOD_MODULES:
        raise UserError(f"unknown method '{name}'; known methods: {', '.join(METHOD_MODULES)}")


def get_method(name: str) -> ModuleType:
    check_method_name(name)
    return importlib.import_module(METHOD_MODULES[name])


def all_config_keys() -> set[str]:
    """Every key any method accepts (config 'defaults' may name keys of other methods)."""
    keys: set[str] = set()
    for name in METHOD_MODULES:
        keys |= {f.name for f in dataclasses.fields(get_method(name).Config)}
    return keys
