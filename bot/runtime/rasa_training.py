"""``rasa train`` without the CRF decoding that only feeds a progress-bar figure (launcher fix 11).

At every training step, Rasa 3.6's DIET decodes the best entity tags of the batch (``crf_decode``, a loop
over the tokens) for one purpose: the ``e_f1`` shown beside the progress bar. The loss, hence every
gradient and every trained weight, comes from the CRF's log-likelihood alone. In the profile of a training
step the decoding was 11 % of the op time (docs/performance.md). Leaving it out saves about 8 s of graph
building at the first epoch, but only 0.1 to 0.2 s per epoch: on a whole training, less than this machine's
noise.

The training step here computes the same loss without the decoding; the CRF's transition weights are still
built on the first step, as Rasa's call built them. tests/unit/runtime/test_rasa_training.py trains the
same small model both ways and checks that every weight and every optimizer slot is bitwise the same; only
the F1 counters differ, so ``e_f1`` is left out of the progress bar. Prediction (``batch_predict``) still
decodes, as shipped. Installed by the launcher for ``rasa train`` only.
"""

from __future__ import annotations


def install() -> None:
    import tensorflow as tf
    from rasa.nlu.classifiers.diet_classifier import DIET
    from rasa.utils.tensorflow.models import TransformerRasaModel

    shipped_metrics_to_log = DIET._update_metrics_to_log

    def entity_loss_without_decoding(self: TransformerRasaModel, inputs: tf.Tensor, tag_ids: tf.Tensor,
                                     mask: tf.Tensor, sequence_lengths: tf.Tensor, tag_name: str,
                                     entity_tags: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        tag_ids = tf.cast(tag_ids[:, :, 0], tf.int32)
        if entity_tags is not None:  # the role and group CRFs also see the entity tags, as in Rasa's step
            inputs = tf.concat([inputs, self._tf_layers[f"embed.{tag_name}.tags"](entity_tags)], axis=-1)
        logits = self._tf_layers[f"embed.{tag_name}.logits"](inputs)
        crf = self._tf_layers[f"crf.{tag_name}"]
        if not crf.built:  # Rasa's decoding call built the transition weights; build them at the same point
            crf._maybe_build(logits)
        no_f1 = tf.constant(0.0)
        return crf.loss(logits, tag_ids, sequence_lengths), no_f1, logits

    def metrics_to_log_without_f1(self: DIET) -> None:
        shipped_metrics_to_log(self)
        self.metrics_to_log[:] = [name for name in self.metrics_to_log if not name.endswith("_f1")]

    TransformerRasaModel._calculate_entity_loss = entity_loss_without_decoding  # type: ignore[method-assign]
    DIET._update_metrics_to_log = metrics_to_log_without_f1  # type: ignore[method-assign]
