"""Where a tier's outputs live: each tier owns one folder, so that no command of one tier
rewrites another's runs, tables or figures. Pure Python (no torch): the Snakefile imports it
in every job."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from methods.common.errors import UserError

DEFAULT_CONFIG = "config/config.yaml"
# names of the folders inside results/: a tier may not take one of them
RESERVED = ("runs", "tables", "heldout", "model_error", "return_gap", "chaos", "random",
            "figures", "claims", "benchmarks")  # fmt: skip


@dataclass(frozen=True)
class TierPaths:
    """``results``: runs, tables and claims; ``figures``; ``logs``."""

    name: str
    results: str
    figures: str
    logs: str

    @property
    def runs(self) -> str:
        return f"{self.results}/runs"

    @property
    def benchmarks(self) -> str:
        """Snakemake's per-job wall time and peak memory of every rule but train (whose
        benchmark.tsv sits in its run directory)."""
        return f"{self.results}/benchmarks"


def tier_seeds(config: dict) -> list[int]:
    """The tier's seeds: ``seeds: 5`` means 0..4, a list is taken as it is."""
    seeds = config.get("seeds", 1)
    return list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]


def tier_name(config: dict, config_file: str | Path = DEFAULT_CONFIG) -> str:
    """The config's ``tier:``, else its file name (config/config.yaml: ``default``)."""
    name = config.get("tier") or Path(config_file).stem
    name = "default" if name == "config" else name
    if name in RESERVED:
        raise UserError(f"tier name '{name}' is a results folder; name the tier otherwise "
                        "(`tier:` in the config)")  # fmt: skip
    return name


def tier_paths(config: dict, config_file: str | Path = DEFAULT_CONFIG) -> TierPaths:
    """results/<tier>/, results/<tier>/figures/, logs/<tier>/; the default tier's are
    results/, figures/ and logs/ (what the README shows)."""
    name = tier_name(config, config_file)
    if name == "default":
        return TierPaths(name, "results", "figures", "logs")
    return TierPaths(name, f"results/{name}", f"results/{name}/figures", f"logs/{name}")
