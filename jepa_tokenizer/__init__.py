"""jepa-tokenizer: a SpeechBrain plugin for the JEPA + DAAM low-frame-rate speech tokenizer.

Every module can be built from hyperpyyaml as ``!new:jepa_tokenizer.<Name>``;
``jepa_tokenizer.JEPATokenizer`` (a trained model's interface) imports on first use.
"""

import importlib

from jepa_tokenizer.models.codec import CodecOutput, JEPACodec
from jepa_tokenizer.models.decoder import HiFiGANDecoder, MRFBlock
from jepa_tokenizer.models.discriminators import (
    CodecDiscriminator,
    PeriodDiscriminator,
    ScaleDiscriminator,
)
from jepa_tokenizer.models.encoder import EncoderBlock, EncoderOutput, JEPAEncoder, ResidualUnit
from jepa_tokenizer.models.istft_decoder import ISTFTDecoder
from jepa_tokenizer.models.predictor import JEPAPredictor
from jepa_tokenizer.nn.activations import SnakeBeta
from jepa_tokenizer.nn.conformer import ConformerStack
from jepa_tokenizer.nn.convnext import ConvNeXtBlock
from jepa_tokenizer.nn.daam import DAAMGate
from jepa_tokenizer.quantization.fsq import FSQ, FSQOutput
from jepa_tokenizer.quantization.packing import MixedRadixPacker
from jepa_tokenizer.training.experiment import TrainingClock
from jepa_tokenizer.training.jepa import BlockMasker, EMAUpdater, MaskedPredictionLoss
from jepa_tokenizer.training.losses import (
    CodecGeneratorLoss,
    DiscriminatorLoss,
    MSEDLoss,
    MultiResolutionSTFTLoss,
)

#: Names imported on first use: the pretrained-model interface pulls in SpeechBrain's
#: inference stack and audio I/O, which building and training the modules do not need.
_LAZY = {"JEPATokenizer": "pretrained.inference"}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.2.0"

__all__ = [
    "SnakeBeta",
    "DAAMGate",
    "ResidualUnit",
    "EncoderBlock",
    "EncoderOutput",
    "JEPAEncoder",
    "JEPAPredictor",
    "BlockMasker",
    "EMAUpdater",
    "MaskedPredictionLoss",
    "ConformerStack",
    "FSQ",
    "FSQOutput",
    "MixedRadixPacker",
    "MRFBlock",
    "HiFiGANDecoder",
    "ISTFTDecoder",
    "ConvNeXtBlock",
    "CodecDiscriminator",
    "PeriodDiscriminator",
    "ScaleDiscriminator",
    "MultiResolutionSTFTLoss",
    "CodecGeneratorLoss",
    "DiscriminatorLoss",
    "MSEDLoss",
    "CodecOutput",
    "JEPACodec",
    "TrainingClock",
    "JEPATokenizer",
]
