# The claims table: every verdict computed from the aggregated tables by a stated rule.


rule claims:
    input:
        returns="results/tables/returns.parquet",
        metrics="results/tables/metrics.parquet",
        timings="results/tables/timings.parquet",
        runs="results/tables/runs.parquet",
        model_error="results/tables/model_error.parquet",
    output:
        csv="results/claims.csv",
        md="results/claims.md",
    log:
        "logs/claims.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.claims --tables results/tables --out results/claims > {log} 2>&1"
