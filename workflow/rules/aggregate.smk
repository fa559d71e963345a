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


rule random_returns:
    """Returns of a uniformly random policy: the 0 of normalised scores."""
    output:
        "results/random/{env}.csv",
    log:
        "logs/random/{env}.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.scores random --env {wildcards.env} --out {output} > {log} 2>&1"


rule scores:
    """Normalised final score and AUC of every run (reference/normalization.csv or the tier's
    best variant as 1)."""
    input:
        returns="results/tables/returns.parquet",
        random=expand("results/random/{env}.csv", env=config["envs"]),
        reference="reference/normalization.csv",
    output:
        "results/tables/scores.parquet",
    log:
        "logs/scores.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.scores table --returns {input.returns} --random {input.random} "
        "--reference {input.reference} --out {output} > {log} 2>&1"
