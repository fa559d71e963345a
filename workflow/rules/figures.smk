# One rule per figure, each reading only the tables it needs (and the code that draws it,
# so that editing analysis/plots.py redraws the figures and nothing else).

for figure, tables in FIGURE_TABLES.items():

    rule:
        name:
            figure
        input:
            tables=[table_path(t) for t in tables],
            code=repo_file("analysis/plots.py"),
        output:
            pdf=f"{FIG}/{figure}.pdf",
            png=report(
                f"{FIG}/{figure}.png",
                caption=f"../report/{figure}.rst",
                category="Figures",
            ),
        log:
            f"{LOGS}/figures/{figure}.log",
        benchmark:
            f"{BENCH}/figures/{figure}.tsv"
        conda:
            "../envs/mbrl-spectrum.yaml"
        params:
            figure=figure,
        shell:
            "python -m analysis.plots {params.figure} {input.tables} {output.pdf} "
            "{output.png} > {log} 2>&1"


rule hopper_replication:
    """Our MBPO and SAC on Hopper beside the published curves (config/hopper.yaml)."""
    input:
        # meta.json is written last: a run stopped at a checkpoint has returns.csv too
        expand(
            f"{OUT}/runs/{{variant}}/gym-Hopper-v5/s{{seed}}/{{name}}",
            variant=["mbpo-sched", "sac"],
            seed=SEEDS,
            name=["returns.csv", "metrics.csv", "timings.csv", "meta.json"],
        ),
        code=repo_file("analysis/replication.py"),
        diagnostics_code=repo_file("analysis/replication_diagnostics.py"),
        published_diagnostics=repo_file("reference/diagnostics_hopper_x35f_mbpo.csv"),
    output:
        png="figures/hopper_replication.png",
        pdf="figures/hopper_replication.pdf",
        diagnostics_png="figures/hopper_replication_diagnostics.png",
        diagnostics_pdf="figures/hopper_replication_diagnostics.pdf",
        summary=f"{OUT}/hopper_replication.md",
    log:
        f"{LOGS}/hopper_replication.log",
    benchmark:
        f"{BENCH}/hopper_replication.tsv"
    conda:
        "../envs/mbrl-spectrum.yaml"
    params:
        runs=lambda w, input: str(Path(input[0]).parents[3]),
        prefix=lambda w, output: output.summary.removesuffix(".md"),
        reference=lambda w, input: str(Path(input.published_diagnostics).parent),
    shell:
        "python -m analysis.replication --runs {params.runs} --reference {params.reference} "
        "--out {params.prefix} > {log} 2>&1 && cp {params.prefix}.png {output.png} && "
        "cp {params.prefix}.pdf {output.pdf} && "
        "cp {params.prefix}_diagnostics.png {output.diagnostics_png} && "
        "cp {params.prefix}_diagnostics.pdf {output.diagnostics_pdf}"
