# One rule per figure; each reads only the tables it needs.


rule learning_curves:
    input:
        "results/tables/returns.parquet",
    output:
        pdf="figures/learning_curves.pdf",
        png="figures/learning_curves.png",
    log:
        "logs/figures/learning_curves.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots learning_curves {input} {output.pdf} {output.png} > {log} 2>&1"
