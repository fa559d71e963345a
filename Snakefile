# mbrl-spectrum: one DAG from config to every figure.
#   snakemake --cores all all                          (default tier, config/config.yaml)
#   snakemake --cores all --configfile=config/smoke.yaml all   (outputs in results/smoke/)
#   snakemake --cores all figures/learning_curves.pdf   (only what that figure needs)
import sys

from snakemake.utils import min_version, validate

min_version("9.0")


# A tier given with --configfile replaces the default tier instead of merging into it
# (merging would add the default tier's variants to every other tier).
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# One note per invocation (the main process only, not the jobs' own Snakemake): a local
# run asking for more cores than the machine has oversubscribes it.
if getattr(workflow, "is_main_process", True) and workflow.nodes is None:
    import os

    machine_cores = len(os.sched_getaffinity(0))
    if (workflow._cores or 0) > machine_cores:
        print(
            f"note: --cores {workflow._cores} on a machine with {machine_cores} cores "
            f"runs {workflow._cores} single-thread jobs on {machine_cores} cores, each "
            f"slower; `--cores all` uses what this machine has",
            file=sys.stderr,
        )


onerror:
    print(
        "note: rerun the same command to continue: finished runs are kept and "
        "interrupted runs resume from their last checkpoint",
        file=sys.stderr,
    )


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/model_error.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"


localrules:
    all,
    aggregate,
    provenance,
    model_error_table,
    return_gap_table,
    claims,
    report,
    scores,
    chaos_tables,
    hopper_replication,
    learning_curves,
    model_error_vs_horizon,
    decision_time_cost,
    distribution_mismatch,
    k_sweep,
    final_performance,
    probability_of_improvement,
    dyna_exploitation,
    bptt_gradient_vs_horizon,


rule all:
    input:
        f"{OUT}/tables/returns.parquet",
        f"{OUT}/tables/metrics.parquet",
        f"{OUT}/tables/model_error.parquet",
        f"{OUT}/tables/provenance.csv",
        f"{OUT}/claims.csv",
        f"{OUT}/claims.md",
        expand(f"{FIG}/{{name}}.{{ext}}", name=FIGURES, ext=["pdf", "png"]),
