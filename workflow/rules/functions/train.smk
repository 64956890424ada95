# Input and params functions of the rules in workflow/rules/train.smk.

# A fold's benchmark file: the training cost of the leaderboard (sonoflow.evaluation.cost).
TRAIN_BENCHMARK = "benchmarks/train_fold/{experiment}.fold{fold}.tsv"


def train_inputs(wildcards):
    inputs = experiment_data(wildcards)
    if is_tuned(wildcards.experiment):
        inputs["best_params"] = (
            f"results/tuning/{wildcards.experiment}/best_params.json"
        )
    return inputs


def fold_checkpoint(wildcards, output):
    """Outside the rule's outputs, so that a failed or killed job's progress survives:
    results/checkpoints/, found from results/models/{experiment}/fold{fold}/model.pt."""
    results = Path(output.model).parents[3]
    fold = f"fold{wildcards.fold}.pt"
    return str(results / "checkpoints" / wildcards.experiment / fold)
