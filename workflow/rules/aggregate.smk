# Every run's CSVs -> tidy tables.


rule aggregate:
    input:
        returns=run_files("returns.csv"),
        metrics=run_files("metrics.csv"),
        timings=run_files("timings.csv"),
        meta=run_files("meta.json"),
    output:
        returns="results/tables/returns.parquet",
        metrics="results/tables/metrics.parquet",
        timings="results/tables/timings.parquet",
        runs="results/tables/runs.parquet",
    log:
        "logs/aggregate.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.aggregate --out-dir results/tables {input.meta} > {log} 2>&1"
