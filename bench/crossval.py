"""Cross-validation of the NLU with and without the spaCy word vectors.

Stratified k-fold over ``data/rasa/nlu`` (synonyms and lookup tables kept in
every training part). Each fold trains the pipeline of ``config.yml`` as it is,
and the same pipeline minus ``SpacyFeaturizer`` (the tokenizer stays, so only
the dense word-vector features differ), then parses the held-out examples.
Reports intent accuracy and weighted F1 of the classifier's best intent, the
share of messages under the fallback threshold, and entity F1 (exact entity
type and value), written to ``bench/results/crossval-<timestamp>.json``.

Rasa's own ``rasa test nlu --cross-validation`` also re-parses every training
example of every fold, which took over an hour on two cores; this keeps to the
held-out parts.

Usage: ``python -m bench.crossval [--folds 3]`` (2 × folds trainings).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RASA = Path(sys.executable).parent / "rasa"


def config_without_spacy_features(source: Path, target: Path) -> None:
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config["pipeline"] = [step for step in config["pipeline"] if step["name"] != "SpacyFeaturizer"]
    target.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def entity_set(entities: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(entity["entity"], str(entity.get("value"))) for entity in entities}


async def parse_all(model: Path, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    return [await agent.parse_message(text) for text in texts]


def evaluate(gold: list[Any], parsed: list[dict[str, Any]]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    expected = [example.get("intent") for example in gold]
    # The classifier's best intent: FallbackClassifier's « nlu_fallback » is a threshold, not a class.
    predicted = [next((entry["name"] for entry in result.get("intent_ranking") or [] if entry["name"] != "nlu_fallback"),
                      result["intent"]["name"]) for result in parsed]
    below_threshold = sum(result["intent"]["name"] == "nlu_fallback" for result in parsed) / len(parsed)
    true_positive = false_positive = false_negative = 0
    for example, result in zip(gold, parsed):
        wanted = entity_set(example.get("entities") or [])
        found = entity_set(result.get("entities") or [])
        true_positive += len(wanted & found)
        false_positive += len(found - wanted)
        false_negative += len(wanted - found)
    precision = true_positive / (true_positive + false_positive) if true_positive + false_positive else 0.0
    recall = true_positive / (true_positive + false_negative) if true_positive + false_negative else 0.0
    return {
        "intent_accuracy": accuracy_score(expected, predicted),
        "intent_weighted_f1": f1_score(expected, predicted, average="weighted", zero_division=0),
        "entity_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "below_fallback_threshold": below_threshold,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    data = load_data(str(ROOT / "data" / "rasa" / "nlu"))
    examples = [example for example in data.training_examples if example.get("intent")]
    intents = [example.get("intent") for example in examples]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    figures: dict[str, list[dict[str, float]]] = {"with_spacy_vectors": [], "without_spacy_vectors": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        configs = {"with_spacy_vectors": ROOT / "config.yml", "without_spacy_vectors": work / "config_without.yml"}
        config_without_spacy_features(ROOT / "config.yml", configs["without_spacy_vectors"])
        splitter = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=42)
        for fold, (train_index, test_index) in enumerate(splitter.split(examples, intents)):
            train = TrainingData([examples[i] for i in train_index], entity_synonyms=data.entity_synonyms,
                                 lookup_tables=data.lookup_tables)
            train_file = work / f"fold{fold}.yml"
            train_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
            held_out = [examples[i] for i in test_index]
            for name, config in configs.items():
                started = time.monotonic()
                out = work / f"{name}-{fold}"
                subprocess.run([str(RASA), "train", "nlu", "--config", str(config), "--nlu", str(train_file),
                                "--out", str(out), "--fixed-model-name", "fold"],
                               cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                parsed = asyncio.run(parse_all(out / "fold.tar.gz", [example.get("text") for example in held_out]))
                result = {**evaluate(held_out, parsed), "seconds": round(time.monotonic() - started)}
                figures[name].append(result)
                print(f"fold {fold + 1}/{args.folds} {name}: {result}", flush=True)
    summary = {name: {key: round(sum(fold[key] for fold in folds) / len(folds), 4) for key in folds[0]}
               for name, folds in figures.items()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {"date": stamp, "folds": args.folds, "examples": len(examples), "mean": summary, "per_fold": figures}
    (RESULTS / f"crossval-{stamp}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("| pipeline | intent accuracy | intent weighted F1 | entity F1 |\n|---|---|---|---|")
    for name, values in summary.items():
        print(f"| {name} | {values['intent_accuracy']:.3f} | {values['intent_weighted_f1']:.3f} "
              f"| {values['entity_f1']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
