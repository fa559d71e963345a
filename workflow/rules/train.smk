# Train one variant on one env with one seed -> the run-output contract.


rule train:
    output:
        returns=RUN_DIR + "/returns.csv",
        metrics=RUN_DIR + "/metrics.csv",
        meta=RUN_DIR + "/meta.json",
    log:
        "logs/train/{variant}/{env}/s{seed}.log",
    benchmark:
        RUN_DIR + "/benchmark.tsv"
    params:
        config_file=CONFIG_FILE,
        fingerprint=settings_fingerprint,
        device=config.get("device", "auto"),
        out=lambda w: RUN_DIR.format(**w),
    threads: config.get("threads", 1)
    resources:
        mem_mb=4000,
        runtime=lambda w: config.get("runtime_minutes", 600),
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "rm -f {params.out}/meta.json && "
        "python -m methods train --variant {wildcards.variant} --env {wildcards.env} "
        "--seed {wildcards.seed} --config {params.config_file} --out {params.out} "
        "--device {params.device} --threads {threads} > {log} 2>&1"
