# One rule per figure; each reads only the tables it needs.


rule learning_curves:
    input:
        "results/tables/returns.parquet",
        "reference/published_returns.csv",
    output:
        pdf="figures/learning_curves.pdf",
        png=report(
            "figures/learning_curves.png",
            caption="../report/learning_curves.rst",
            category="Figures",
        ),
    log:
        "logs/figures/learning_curves.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots learning_curves {input} {output.pdf} {output.png} > {log} 2>&1"


rule model_error_vs_horizon:
    input:
        "results/tables/model_error.parquet",
    output:
        pdf="figures/model_error_vs_horizon.pdf",
        png=report(
            "figures/model_error_vs_horizon.png",
            caption="../report/model_error_vs_horizon.rst",
            category="Figures",
        ),
    log:
        "logs/figures/model_error_vs_horizon.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots model_error_vs_horizon {input} {output.pdf} {output.png} "
        "> {log} 2>&1"


rule decision_time_cost:
    input:
        timings="results/tables/timings.parquet",
        returns="results/tables/returns.parquet",
    output:
        pdf="figures/decision_time_cost.pdf",
        png=report(
            "figures/decision_time_cost.png",
            caption="../report/decision_time_cost.rst",
            category="Figures",
        ),
    log:
        "logs/figures/decision_time_cost.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots decision_time_cost {input.timings} {input.returns} "
        "{output.pdf} {output.png} > {log} 2>&1"


rule distribution_mismatch:
    input:
        "results/tables/metrics.parquet",
    output:
        pdf="figures/distribution_mismatch.pdf",
        png=report(
            "figures/distribution_mismatch.png",
            caption="../report/distribution_mismatch.rst",
            category="Figures",
        ),
    log:
        "logs/figures/distribution_mismatch.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots distribution_mismatch {input} {output.pdf} {output.png} "
        "> {log} 2>&1"


rule k_sweep:
    input:
        returns="results/tables/returns.parquet",
        runs="results/tables/runs.parquet",
    output:
        pdf="figures/k_sweep.pdf",
        png=report(
            "figures/k_sweep.png",
            caption="../report/k_sweep.rst",
            category="Figures",
        ),
    log:
        "logs/figures/k_sweep.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots k_sweep {input.returns} {input.runs} {output.pdf} "
        "{output.png} > {log} 2>&1"


rule final_performance:
    input:
        "results/tables/scores.parquet",
    output:
        pdf="figures/final_performance.pdf",
        png=report(
            "figures/final_performance.png",
            caption="../report/final_performance.rst",
            category="Figures",
        ),
    log:
        "logs/figures/final_performance.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots final_performance {input} {output.pdf} {output.png} > {log} 2>&1"


rule probability_of_improvement:
    input:
        "results/tables/scores.parquet",
    output:
        pdf="figures/probability_of_improvement.pdf",
        png=report(
            "figures/probability_of_improvement.png",
            caption="../report/probability_of_improvement.rst",
            category="Figures",
        ),
    log:
        "logs/figures/probability_of_improvement.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots probability_of_improvement {input} {output.pdf} {output.png} > {log} 2>&1"


rule dyna_exploitation:
    input:
        "results/tables/metrics.parquet",
    output:
        pdf="figures/dyna_exploitation.pdf",
        png=report(
            "figures/dyna_exploitation.png",
            caption="../report/dyna_exploitation.rst",
            category="Figures",
        ),
    log:
        "logs/figures/dyna_exploitation.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots dyna_exploitation {input} {output.pdf} {output.png} > {log} 2>&1"


rule bptt_gradient_vs_horizon:
    input:
        "results/tables/metrics.parquet",
        "results/tables/runs.parquet",
        "results/tables/chaos_gradient.parquet",
        "results/tables/chaos_divergence.parquet",
    output:
        pdf="figures/bptt_gradient_vs_horizon.pdf",
        png=report(
            "figures/bptt_gradient_vs_horizon.png",
            caption="../report/bptt_gradient_vs_horizon.rst",
            category="Figures",
        ),
    log:
        "logs/figures/bptt_gradient_vs_horizon.log",
    conda:
        "../envs/mbrl-spectrum.yaml"
    shell:
        "python -m analysis.plots bptt_gradient_vs_horizon {input} {output.pdf} {output.png} "
        "> {log} 2>&1"
