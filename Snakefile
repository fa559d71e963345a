# mbrl-spectrum: one DAG from config to every figure.
#   snakemake --cores 8 all                          (default tier, config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml all
#   snakemake --cores 8 figures/learning_curves.pdf   (only what that figure needs)
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/figures.smk"


localrules:
    all,
    aggregate,
    learning_curves,


rule all:
    input:
        "results/tables/returns.parquet",
        "results/tables/metrics.parquet",
        expand("figures/learning_curves.{ext}", ext=["pdf", "png"]),
