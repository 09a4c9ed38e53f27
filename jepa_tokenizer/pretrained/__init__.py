"""Layer 4, pretrained models: export of a trained codec, the SpeechBrain interfaces, the DASB-interface
adapters for ours and peer codecs, text-to-speech. Imports the layers below it.
"""
