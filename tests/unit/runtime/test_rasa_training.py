"""Launcher fix 11 (bot/runtime/rasa_training.py): DIET trained without the metric-only CRF decoding has the
same weights as DIET trained by Rasa as shipped.

A small NLU model (whitespace tokens, word counts, DIET with entities) is trained twice in this process, by
Rasa as shipped and with the fix, from the same data and seed; every variable of the two checkpoints is
compared: the layers' weights and the optimizer's slots must be bitwise the same.
"""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from rasa.model_training import train_nlu
from rasa.nlu.classifiers.diet_classifier import DIET
from rasa.utils.tensorflow.models import TransformerRasaModel

from bot.runtime import rasa_training

CONFIG = """recipe: default.v1
language: fr
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 3
    number_of_transformer_layers: 1
    transformer_size: 32
    random_seed: 7
"""
NLU = """version: "3.1"
nlu:
- intent: inform_actor
  examples: |
    - nous sommes une [association](actor_type)
    - je représente une [entreprise](actor_type)
    - on est une [collectivité](actor_type) du coin
    - c'est pour une [fondation](actor_type)
    - une petite [association](actor_type) de quartier
    - notre [entreprise](actor_type) de dix salariés
- intent: ask_door
  examples: |
    - c'est quoi la porte innovation
    - expliquez-moi les portes d'entrée
    - quelle porte me conseillez-vous
    - que veut dire co-construction territoriale
- intent: greet
  examples: |
    - bonjour
    - salut
    - bonsoir à vous
    - hello
"""


def train(folder: Path) -> tf.train.CheckpointReader:
    folder.mkdir()
    (folder / "config.yml").write_text(CONFIG, encoding="utf-8")
    (folder / "nlu.yml").write_text(NLU, encoding="utf-8")
    train_nlu(str(folder / "config.yml"), str(folder / "nlu.yml"), str(folder / "out"), fixed_model_name="small")
    with tarfile.open(folder / "out" / "small.tar.gz") as archive:
        archive.extractall(folder / "model")
    (checkpoint,) = (folder / "model").glob("components/train_DIETClassifier*/DIETClassifier.tf_model.index")
    return tf.train.load_checkpoint(str(checkpoint.with_suffix("")))


def test_training_without_the_decoding_gives_the_same_weights(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # Rasa's training cache (.rasa/) goes here, and is off anyway
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", "0")
    shipped = train(tmp_path / "shipped")
    with monkeypatch.context() as patch:  # the fix is undone after this block
        patch.setattr(TransformerRasaModel, "_calculate_entity_loss", TransformerRasaModel._calculate_entity_loss)
        patch.setattr(DIET, "_update_metrics_to_log", DIET._update_metrics_to_log)
        rasa_training.install()
        fixed = train(tmp_path / "fixed")

    names = set(shipped.get_variable_to_shape_map())
    assert names == set(fixed.get_variable_to_shape_map())
    # The layers' weights and the optimizer's slots; not the progress bar's running means (model/total_loss…),
    # whose sums may round differently in the last bit, nor the F1 counters the decoding fed.
    weights = [name for name in names if name.startswith(("model/_tf_layers/", "model/optimizer/"))
               and "f1_score_metric" not in name]
    assert any("crf" in name and "transition" in name for name in weights)
    assert sum(name.startswith("model/optimizer/") for name in weights) > 10
    for name in weights:
        assert np.array_equal(shipped.get_tensor(name), fixed.get_tensor(name)), name
    # And the fix did run: the shipped training decoded (its F1 counted tags), the fixed one did not.
    counters = [name for name in names if "f1_score_metric/" in name and "weights_intermediate" not in name]
    assert len(counters) == 3
    assert sum(shipped.get_tensor(name).sum() for name in counters) > 0
    assert sum(fixed.get_tensor(name).sum() for name in counters) == 0
