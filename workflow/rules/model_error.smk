# Held-out real trajectories (a random policy, and a trained policy where the tier has one),
# each trained model's open-loop error vs horizon on them, the return gap of trained
# policies in the model vs the real env, and the chaos diagnostic per env and seed.


rule heldout:
    input:
        known_wildcards,
    output:
        f"{OUT}/heldout/{{env}}/random.npz",
    log:
        f"{LOGS}/heldout/{{env}}.log",
    benchmark:
        f"{BENCH}/heldout/{{env}}.tsv"
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
        f"{OUT}/heldout/{{env}}/policy.npz",
    log:
        f"{LOGS}/heldout/{{env}}_policy.log",
    benchmark:
        f"{BENCH}/heldout/{{env}}_policy.tsv"
    priority: 10  # a run's diagnostics before the next training job (handoff)
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
        meta=f"{RUN_DIR}/meta.json",
        heldout=lambda w: heldout_files(w.env),
        code=repo_file("analysis/model_error.py"),
    output:
        f"{OUT}/model_error/{{variant}}/{{env}}/s{{seed}}.csv",
    log:
        f"{LOGS}/model_error/{{variant}}/{{env}}/s{{seed}}.log",
    benchmark:
        f"{BENCH}/model_error/{{variant}}/{{env}}/s{{seed}}.tsv"
    priority: 10  # a run's diagnostics before the next training job (handoff)
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
        f"{OUT}/tables/model_error.parquet",
    log:
        f"{LOGS}/model_error_table.log",
    benchmark:
        f"{BENCH}/model_error_table.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.aggregate --per-run {output} {input} > {log} 2>&1"


rule return_gap:
    """J_model(H) and J_real(H) of a run's deterministic policy from the same real start
    states (claims 1 and 3)."""
    input:
        meta=f"{RUN_DIR}/meta.json",
        code=repo_file("methods/return_gap.py"),
    output:
        f"{OUT}/return_gap/{{variant}}/{{env}}/s{{seed}}.csv",
    log:
        f"{LOGS}/return_gap/{{variant}}/{{env}}/s{{seed}}.log",
    benchmark:
        f"{BENCH}/return_gap/{{variant}}/{{env}}/s{{seed}}.tsv"
    priority: 10  # a run's diagnostics before the next training job (handoff)
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        run=lambda w: RUN_DIR.format(**w),
        horizons=config["return_gap"]["horizons"],
        starts=config["return_gap"]["starts"],
        stride=config["return_gap"]["stride"],
        episodes=config["return_gap"]["episodes"],
    shell:
        "python -m methods return-gap --run {params.run} --out {output} "
        "--horizons {params.horizons} --starts {params.starts} --stride {params.stride} "
        "--episodes {params.episodes} --seed 0 --threads 1 --device cpu > {log} 2>&1"


rule return_gap_table:
    input:
        return_gap_files(),
    output:
        f"{OUT}/tables/return_gap.parquet",
    log:
        f"{LOGS}/return_gap_table.log",
    benchmark:
        f"{BENCH}/return_gap_table.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.aggregate --per-run {output} {input} > {log} 2>&1"


rule chaos:
    """True-simulator divergence and the BPTT gradient diagnostics vs H for one env and
    seed, with the chaos variant's model and policy of that seed."""
    input:
        chaos_inputs,
    output:
        divergence=f"{OUT}/chaos/{{env}}/s{{seed}}/divergence.csv",
        gradient=f"{OUT}/chaos/{{env}}/s{{seed}}/gradient_norm.csv",
        diagnostics=f"{OUT}/chaos/{{env}}/s{{seed}}/gradient_diagnostics.csv",
        summary=f"{OUT}/chaos/{{env}}/s{{seed}}/summary.csv",
    log:
        f"{LOGS}/chaos/{{env}}/s{{seed}}.log",
    benchmark:
        f"{BENCH}/chaos/{{env}}/s{{seed}}.tsv"
    priority: 10  # a run's diagnostics before the next training job (handoff)
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        run=chaos_run_option,
        out=lambda w: f"{OUT}/chaos/{w.env}/s{w.seed}",
        starts=config["chaos"]["starts"],
        steps=config["chaos"]["steps"],
        horizons=config["chaos"]["horizons"],
        random_steps=config["chaos"]["random_steps"],
    shell:
        "python -m methods chaos --env {wildcards.env} --seed {wildcards.seed} "
        "--out {params.out} {params.run} --starts {params.starts} --steps {params.steps} "
        "--horizons {params.horizons} --random-steps {params.random_steps} --threads 1 "
        "> {log} 2>&1"


CHAOS_TABLES = {
    "chaos_divergence": "divergence",
    "chaos_gradient": "gradient_norm",
    "chaos_gradient_diagnostics": "gradient_diagnostics",
    "chaos_summary": "summary",
}


rule chaos_tables:
    input:
        [chaos_files(name) for name in CHAOS_TABLES.values()],
    output:
        [f"{OUT}/tables/{table}.parquet" for table in CHAOS_TABLES],
    log:
        f"{LOGS}/chaos_tables.log",
    benchmark:
        f"{BENCH}/chaos_tables.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        commands=" && ".join(
            f"python -m analysis.aggregate --per-env {OUT}/tables/{table}.parquet "
            + " ".join(chaos_files(name))
            for table, name in CHAOS_TABLES.items()
        ),
    shell:
        "({params.commands}) > {log} 2>&1"
