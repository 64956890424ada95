# Input and params functions of the rules in workflow/rules/cache.smk.

from sonoflow.features.kinds import model_files


def cache_audio_params():
    corpus = config["corpus"]
    return {"channel": corpus["channel"], "bad_audio": corpus["bad_audio"]}


def frontend_files(wildcards):
    """The model files a front-end reads (VGGish weights, an ONNX model): replacing one
    reruns its cache and what depends on it."""
    features = resolved_features(config["features"], wildcards.features)
    return [local(path) for path in model_files(features)]


def features_params(wildcards):
    return resolved_features(config["features"], wildcards.features)


# --- the sampled recordings of a review, for datasets with `reviewed` -------------------


def reviewed_cache_inputs(wildcards):
    """The review's sample (which recordings) and the front-end's model files: verdicts
    are not inputs, so adding one never recomputes spectrograms."""
    return {
        "sample": f"results/review/{wildcards.name}/sample.csv",
        "models": frontend_files(wildcards),
    }
