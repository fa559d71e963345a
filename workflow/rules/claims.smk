# The claims table: every verdict computed from the aggregated tables by a stated rule.


rule claims:
    input:
        returns="results/tables/returns.parquet",
        metrics="results/tables/metrics.parquet",
        timings="results/tables/timings.parquet",
        runs="results/tables/runs.parquet",
        model_error="results/tables/model_error.parquet",
    output:
        csv=report(
            "results/claims.csv", caption="../report/claims.rst", category="Claims"
        ),
        md="results/claims.md",
    log:
        "logs/claims.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.claims --tables results/tables --out results/claims > {log} 2>&1"


rule report:
    """The Snakemake HTML report: every figure and the claims table, with captions."""
    input:
        expand("figures/{name}.png", name=FIGURES),
        "results/claims.csv",
    output:
        "results/report.html",
    log:
        "logs/report.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        snakefile=workflow.main_snakefile,
        config_file=CONFIG_FILE,
    shell:
        "snakemake --snakefile {params.snakefile} --configfile={params.config_file} "
        "--nolock --report {output} > {log} 2>&1"
