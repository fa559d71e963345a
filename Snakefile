# mbrl-spectrum: one DAG from config to every figure.
#   snakemake --cores 8 all                          (default tier, config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml all
#   snakemake --cores 8 figures/learning_curves.pdf   (only what that figure needs)
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


# A tier given with --configfile replaces the default tier instead of merging into it
# (merging would add the default tier's variants to every other tier).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


def refuse(message):
    """A bad config stops Snakemake before any job starts, with one line naming the problem."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


try:
    from methods.common.config import check_tier, schema_problem
    from methods.common.errors import UserError
except ImportError:  # the suite is not installed here (e.g. conda-only deployment)
    check_tier = schema_problem = None
if schema_problem is not None:
    problem = schema_problem(
        config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml"
    )
    if problem:
        refuse(problem)
validate(config, "workflow/schemas/config.schema.yaml")  # fills the schema's defaults
if (
    check_tier is not None
):  # resolve every run as its train job will (typos, types, values)
    try:
        check_tier(config)
    except UserError as exc:
        refuse(exc)


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/model_error.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"


localrules:
    all,
    aggregate,
    model_error_table,
    learning_curves,
    model_error_vs_horizon,
    decision_time_cost,
    distribution_mismatch,
    k_sweep,
    claims,


FIGURES = [
    "learning_curves",
    "model_error_vs_horizon",
    "decision_time_cost",
    "distribution_mismatch",
    "k_sweep",
]


rule all:
    input:
        "results/tables/returns.parquet",
        "results/tables/metrics.parquet",
        "results/tables/model_error.parquet",
        "results/claims.csv",
        "results/claims.md",
        expand("figures/{name}.{ext}", name=FIGURES, ext=["pdf", "png"]),
