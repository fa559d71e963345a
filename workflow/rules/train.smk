# Train one variant on one env with one seed -> the run-output contract.


rule train:
    output:
        returns="results/runs/{variant}/{env}/s{seed}/returns.csv",
        metrics="results/runs/{variant}/{env}/s{seed}/metrics.csv",
        timings="results/runs/{variant}/{env}/s{seed}/timings.csv",
        meta="results/runs/{variant}/{env}/s{seed}/meta.json",
    log:
        "logs/train/{variant}/{env}/s{seed}.log",
    benchmark:
        "results/runs/{variant}/{env}/s{seed}/benchmark.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    threads: config.get("threads", 1)
    resources:
        mem_mb=4000,
        runtime=lambda w: config.get("runtime_minutes", 600),
    params:
        config_file=CONFIG_FILE,
        fingerprint=settings_fingerprint,
        device=config.get("device", "auto"),
        out=lambda w: RUN_DIR.format(**w),
    shell:
        "rm -f {params.out}/meta.json {params.out}/.*.tmp && "
        "python -m methods train --variant {wildcards.variant} --env {wildcards.env} "
        "--seed {wildcards.seed} --config {params.config_file} --out {params.out} "
        "--device {params.device} --threads {threads} --restart-stale-checkpoint > {log} 2>&1"
