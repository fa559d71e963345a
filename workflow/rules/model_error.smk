# Held-out real trajectories (a random policy, and a trained policy where the tier has one)
# and each trained model's open-loop error vs horizon on them.


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


rule heldout_policy:
    """Trajectories of the trained policy (deterministic) of heldout.policy_variant, seed 0;
    reset seeds disjoint from training and from the random set."""
    input:
        lambda w: f"{policy_run_dir(w.env)}/meta.json",
    output:
        "results/heldout/{env}/policy.npz",
    log:
        "logs/heldout/{env}_policy.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        run=lambda w: policy_run_dir(w.env),
        episodes=config["heldout"]["episodes"],
        max_steps=config["heldout"]["max_steps"],
    shell:
        "python -m methods heldout --env {wildcards.env} --seed 1 --out {output} "
        "--policy-run {params.run} --episodes {params.episodes} "
        "--max-steps {params.max_steps} > {log} 2>&1"


rule model_error:
    input:
        meta="results/runs/{variant}/{env}/s{seed}/meta.json",
        heldout=lambda w: heldout_files(w.env),
    output:
        "results/model_error/{variant}/{env}/s{seed}.csv",
    log:
        "logs/model_error/{variant}/{env}/s{seed}.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        run=lambda w: RUN_DIR.format(**w),
        horizon=config["heldout"]["horizon"],
        heldout_args=lambda w: " ".join(f"--heldout {f}" for f in heldout_files(w.env)),
    shell:
        "python -m analysis.model_error --run {params.run} "
        "{params.heldout_args} "
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


rule chaos:
    """True-simulator divergence and the BPTT gradient norm vs H for one env."""
    input:
        chaos_inputs,
    output:
        divergence="results/chaos/{env}/divergence.csv",
        gradient="results/chaos/{env}/gradient_norm.csv",
        summary="results/chaos/{env}/summary.csv",
    log:
        "logs/chaos/{env}.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        run=lambda w: chaos_run_option(w.env),
        starts=config["chaos"]["starts"],
        steps=config["chaos"]["steps"],
        horizons=config["chaos"]["horizons"],
        random_steps=config["chaos"]["random_steps"],
    shell:
        "python -m methods chaos --env {wildcards.env} --seed 0 --out results/chaos/{wildcards.env} "
        "{params.run} --starts {params.starts} --steps {params.steps} "
        "--horizons {params.horizons} --random-steps {params.random_steps} --threads 1 "
        "> {log} 2>&1"


rule chaos_tables:
    input:
        divergence=expand("results/chaos/{env}/divergence.csv", env=config["envs"]),
        gradient=expand("results/chaos/{env}/gradient_norm.csv", env=config["envs"]),
    output:
        divergence="results/tables/chaos_divergence.parquet",
        gradient="results/tables/chaos_gradient.parquet",
    log:
        "logs/chaos_tables.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.aggregate --per-env {output.divergence} {input.divergence} "
        "> {log} 2>&1 && python -m analysis.aggregate --per-env {output.gradient} "
        "{input.gradient} >> {log} 2>&1"
