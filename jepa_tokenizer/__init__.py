"""jepa-tokenizer: a SpeechBrain plugin for the JEPA + DAAM low-frame-rate speech tokenizer.

Every module can be built from hyperpyyaml as ``!new:jepa_tokenizer.<Name>``;
``jepa_tokenizer.JEPATokenizer`` (a trained model's interface) imports on first use.
"""

import importlib
import importlib.abc
import importlib.util
import sys

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

#: Where each module of the flat layout (before the layers) lives now; the old
#: names still import (YAML such as ``!new:jepa_tokenizer.tts.TokenTTS`` in
#: model folders exported before, and code of one's own).
MOVED_MODULES = {
    "activations": "nn.activations",
    "conformer": "nn.conformer",
    "daam": "nn.daam",
    "validation": "nn.validation",
    "fsq": "quantization.fsq",
    "packing": "quantization.packing",
    "encoder": "models.encoder",
    "predictor": "models.predictor",
    "decoder": "models.decoder",
    "discriminators": "models.discriminators",
    "codec": "models.codec",
    "tts": "models.tts",
    "asr": "models.asr",
    "config": "models.config",
    "jepa": "training.jepa",
    "losses": "training.losses",
    "train_log": "training.train_log",
    "audio": "data.audio",
    "text": "data.text",
    "token_file": "data.token_file",
    "extraction": "data.extraction",
    "embedded_corpus": "data.embedded_corpus",
    "export": "pretrained.export",
    "inference": "pretrained.inference",
    "tokenizers": "pretrained.tokenizers",
    "synthesis": "pretrained.synthesis",
    "metrics": "evaluation.metrics",
    "plots": "evaluation.plots",
    "cli": "apps.cli",
    "demo": "apps.demo",
    "summary": "apps.summary",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``jepa_tokenizer.<old name>`` as the module it became."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, name = fullname.partition(".")
        if prefix == __name__ and name in MOVED_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f"{__name__}.{MOVED_MODULES[spec.name.partition('.')[2]]}")

    def exec_module(self, module):
        """The module ran when it was imported under its own name."""


sys.meta_path.append(_MovedModuleFinder())

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
