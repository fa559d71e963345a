# mbrl-spectrum: one DAG from config to every figure.
#   snakemake --cores 8 all                          (default tier, config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml all
#   snakemake --cores 8 figures/learning_curves.pdf   (only what that figure needs)
from snakemake.utils import min_version, validate

min_version("9.0")


# A tier given with --configfile replaces the default tier instead of merging into it
# (merging would add the default tier's variants to every other tier).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


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
    report,
    scores,
    final_performance,
    probability_of_improvement,
    dyna_exploitation,
    bptt_gradient_vs_horizon,
    chaos_tables,


rule all:
    input:
        "results/tables/returns.parquet",
        "results/tables/metrics.parquet",
        "results/tables/model_error.parquet",
        "results/claims.csv",
        "results/claims.md",
        expand("figures/{name}.{ext}", name=FIGURES, ext=["pdf", "png"]),
