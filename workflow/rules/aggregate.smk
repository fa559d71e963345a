# Every run's CSVs -> tidy tables.


rule aggregate:
    input:
        returns=run_files("returns.csv"),
        metrics=run_files("metrics.csv"),
        timings=run_files("timings.csv"),
        meta=run_files("meta.json"),
        code=repo_file("analysis/aggregate.py"),
    output:
        returns=f"{OUT}/tables/returns.parquet",
        metrics=f"{OUT}/tables/metrics.parquet",
        timings=f"{OUT}/tables/timings.parquet",
        runs=f"{OUT}/tables/runs.parquet",
    log:
        f"{LOGS}/aggregate.log",
    benchmark:
        f"{BENCH}/aggregate.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        out=lambda w, output: str(Path(output.returns).parent),
    shell:
        "python -m analysis.aggregate --out-dir {params.out} {input.meta} > {log} 2>&1"


rule provenance:
    """Per run: commit, host, packages, attempts, wall seconds and peak memory."""
    input:
        meta=run_files("meta.json"),  # benchmark.tsv is read where it exists (a run
        # trained by hand has none; as an input it would retrain the run)
        code=repo_file("analysis/provenance.py"),
    output:
        f"{OUT}/tables/provenance.csv",
    log:
        f"{LOGS}/provenance.log",
    benchmark:
        f"{BENCH}/provenance.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.provenance --out {output} {input.meta} > {log} 2>&1"


rule random_returns:
    """Returns of a uniformly random policy: the 0 of normalised scores."""
    input:
        known_wildcards,
    output:
        f"{OUT}/random/{{env}}.csv",
    log:
        f"{LOGS}/random/{{env}}.log",
    benchmark:
        f"{BENCH}/random/{{env}}.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.scores random --env {wildcards.env} --out {output} > {log} 2>&1"


rule scores:
    """Normalised final score and AUC of every run (reference/normalization.csv or the tier's
    best variant as 1)."""
    input:
        returns=f"{OUT}/tables/returns.parquet",
        random=expand(f"{OUT}/random/{{env}}.csv", env=config["envs"]),
        reference=repo_file("reference/normalization.csv"),
        code=repo_file("analysis/scores.py"),
    output:
        f"{OUT}/tables/scores.parquet",
    log:
        f"{LOGS}/scores.log",
    benchmark:
        f"{BENCH}/scores.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.scores table --returns {input.returns} --random {input.random} "
        "--reference {input.reference} --out {output} > {log} 2>&1"
