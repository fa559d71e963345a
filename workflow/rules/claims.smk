# The claims table: every verdict computed from the aggregated tables by a stated rule.


rule claims:
    input:
        returns=f"{OUT}/tables/returns.parquet",
        metrics=f"{OUT}/tables/metrics.parquet",
        timings=f"{OUT}/tables/timings.parquet",
        runs=f"{OUT}/tables/runs.parquet",
        model_error=f"{OUT}/tables/model_error.parquet",
        return_gap=f"{OUT}/tables/return_gap.parquet",
        chaos=[f"{OUT}/tables/{table}.parquet" for table in CHAOS_TABLES],
        code=[repo_file("analysis/claims.py"), repo_file("analysis/verdicts.py")],
        config=CONFIG_FILE,
    output:
        csv=f"{OUT}/claims.csv",
        md=f"{OUT}/claims.md",
        html=report(
            f"{OUT}/claims.html", caption="../report/claims.rst", category="Claims"
        ),
    log:
        f"{LOGS}/claims.log",
    benchmark:
        f"{BENCH}/claims.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        tables=lambda w, input: str(Path(input.returns).parent),
        prefix=lambda w, output: output.csv.removesuffix(".csv"),
    shell:
        "python -m analysis.claims --tables {params.tables} --out {params.prefix} "
        "--config {input.config} > {log} 2>&1"


rule report:
    """The Snakemake HTML report: every figure and the claims table, with captions."""
    input:
        expand(f"{FIG}/{{name}}.png", name=FIGURES),
        f"{OUT}/claims.html",
    output:
        f"{OUT}/report.html",
    log:
        f"{LOGS}/report.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        snakefile=workflow.main_snakefile,
        config_file=CONFIG_FILE,
    shell:
        "snakemake --snakefile {params.snakefile} --configfile={params.config_file} "
        "--nolock --report {output} > {log} 2>&1"
