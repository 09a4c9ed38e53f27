"""jepa-tokenizer: a SpeechBrain plugin for the JEPA + DAAM low-frame-rate speech tokenizer.

Every module can be built from hyperpyyaml as ``!new:jepa_tokenizer.<Name>``.
"""

from jepa_tokenizer.activations import SnakeBeta
from jepa_tokenizer.codec import CodecOutput, JEPACodec
from jepa_tokenizer.conformer import ConformerStack
from jepa_tokenizer.daam import DAAMGate
from jepa_tokenizer.decoder import HiFiGANDecoder, MRFBlock
from jepa_tokenizer.discriminators import (
    CodecDiscriminator,
    PeriodDiscriminator,
    ScaleDiscriminator,
)
from jepa_tokenizer.encoder import EncoderBlock, EncoderOutput, JEPAEncoder, ResidualUnit
from jepa_tokenizer.fsq import FSQ, FSQOutput
from jepa_tokenizer.jepa import BlockMasker, EMAUpdater, MaskedPredictionLoss
from jepa_tokenizer.losses import (
    CodecGeneratorLoss,
    DiscriminatorLoss,
    MSEDLoss,
    MultiResolutionSTFTLoss,
)
from jepa_tokenizer.packing import MixedRadixPacker
from jepa_tokenizer.predictor import JEPAPredictor
from jepa_tokenizer.training import TrainingClock

__version__ = "0.1.0"

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
]
