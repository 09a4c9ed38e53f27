"""Layer 2, the models: encoder, predictor, HiFi-GAN decoder, discriminators, the codec, the TTS and ASR
front-ends, and the packaged model configurations (``config``). Imports ``nn`` and ``quantization``.
"""
