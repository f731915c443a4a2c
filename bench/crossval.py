"""Cross-validation of the NLU with and without the spaCy word vectors.

Runs ``rasa test nlu --cross-validation`` on ``data/rasa/nlu`` twice: with
``config.yml`` as it is, and with the same pipeline minus ``SpacyFeaturizer``
(the tokenizer stays, so only the dense word-vector features differ). Prints
intent accuracy / weighted F1 and entity weighted F1 for both, and writes them
to ``bench/results/crossval-<timestamp>.json``.

Usage: ``python -m bench.crossval [--folds 3]`` (about 2 × folds trainings).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
RASA = Path(sys.executable).parent / "rasa"


def config_without_spacy_features(source: Path, target: Path) -> None:
    config = yaml.safe_load(source.read_text(encoding="utf-8"))
    config["pipeline"] = [step for step in config["pipeline"] if step["name"] != "SpacyFeaturizer"]
    target.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run_crossval(config: Path, out: Path, folds: int) -> dict[str, float]:
    started = time.monotonic()
    subprocess.run(
        [str(RASA), "test", "nlu", "--nlu", "data/rasa/nlu", "--config", str(config), "--cross-validation",
         "--folds", str(folds), "--out", str(out), "--no-plot"],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    intents = json.loads((out / "intent_report.json").read_text())
    entities = json.loads((out / "DIETClassifier_report.json").read_text())
    return {
        "intent_accuracy": round(intents["accuracy"], 4),
        "intent_weighted_f1": round(intents["weighted avg"]["f1-score"], 4),
        "entity_weighted_f1": round(entities["weighted avg"]["f1-score"], 4),
        "seconds": round(time.monotonic() - started),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    work = RESULTS / f"crossval-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    without = work / "config_without_spacy_features.yml"
    config_without_spacy_features(ROOT / "config.yml", without)
    figures = {
        "with_spacy_vectors": run_crossval(ROOT / "config.yml", work / "with", args.folds),
        "without_spacy_vectors": run_crossval(without, work / "without", args.folds),
    }
    report = {"date": stamp, "folds": args.folds, **figures}
    (RESULTS / f"crossval-{stamp}.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("| pipeline | intent accuracy | intent weighted F1 | entity weighted F1 | time |\n|---|---|---|---|---|")
    for name, values in figures.items():
        print(f"| {name} | {values['intent_accuracy']:.3f} | {values['intent_weighted_f1']:.3f} "
              f"| {values['entity_weighted_f1']:.3f} | {values['seconds']} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
