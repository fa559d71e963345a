# Train one variant on one env with one seed -> the run-output contract.


rule train:
    output:
        returns=f"{RUN_DIR}/returns.csv",
        metrics=f"{RUN_DIR}/metrics.csv",
        timings=f"{RUN_DIR}/timings.csv",
        meta=f"{RUN_DIR}/meta.json",
    log:
        f"{LOGS}/train/{{variant}}/{{env}}/s{{seed}}.log",
    benchmark:
        f"{RUN_DIR}/benchmark.tsv"
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
