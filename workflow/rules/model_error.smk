# Held-out real trajectories and each trained model's open-loop error vs horizon.


rule heldout:
    output:
        "results/heldout/{env}/random.npz",
    log:
        "logs/heldout/{env}.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        episodes=config["heldout"]["episodes"],
        max_steps=config["heldout"]["max_steps"],
    shell:
        "python -m methods heldout --env {wildcards.env} --seed 0 --out {output} "
        "--episodes {params.episodes} --max-steps {params.max_steps} > {log} 2>&1"


rule model_error:
    input:
        meta="results/runs/{variant}/{env}/s{seed}/meta.json",
        heldout="results/heldout/{env}/random.npz",
    output:
        "results/model_error/{variant}/{env}/s{seed}.csv",
    log:
        "logs/model_error/{variant}/{env}/s{seed}.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        run=lambda w: RUN_DIR.format(**w),
        horizon=config["heldout"]["horizon"],
    shell:
        "python -m analysis.model_error --run {params.run} --heldout {input.heldout} "
        "--out {output} --horizon {params.horizon} > {log} 2>&1"


rule model_error_table:
    input:
        model_error_files(),
    output:
        "results/tables/model_error.parquet",
    log:
        "logs/model_error_table.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.aggregate --model-error {output} {input} > {log} 2>&1"
