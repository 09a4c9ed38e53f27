"""Discriminators of the codec's adversarial training.

SpeechBrain's HiFi-GAN discriminators match the notes exactly (periods 2, 3,
5, 7, 11; three scales, raw then average-pooled twice), so they are reused
as they are and re-exported here for ``!new:jepa_tokenizer.<name>``.

Authors
 * jepa-tokenizer team 2026
"""

from speechbrain.lobes.models.HifiGAN import (
    HifiganDiscriminator,
    MultiPeriodDiscriminator,
    MultiScaleDiscriminator,
)

__all__ = [
    "HifiganDiscriminator",
    "MultiPeriodDiscriminator",
    "MultiScaleDiscriminator",
]
