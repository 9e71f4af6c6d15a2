"""A tiny random RoBERTa and a tokenizer trained on the fly: no network, no downloaded weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def make_tiny_roberta(folder: Path, texts: list[str]) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        PreTrainedTokenizerFast,
        RobertaConfig,
        RobertaForSequenceClassification,
    )

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=specials))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        cls_token="<s>",
        sep_token="</s>",
    )
    config = RobertaConfig(
        vocab_size=fast.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=80,
        pad_token_id=fast.pad_token_id,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        type_vocab_size=1,
    )
    folder.mkdir(parents=True, exist_ok=True)
    RobertaForSequenceClassification(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


#: the speech encoder families the audio components support, as tiny random-weight configs
AUDIO_FAMILIES = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "whisper")


def tiny_whisper_config(**overrides: Any) -> Any:
    """Whisper's layout (80 mel bins, 30 s = 1500 encoder frames) at 16 wide and two encoder layers."""
    import transformers as tf

    values = {
        "d_model": 16,
        "encoder_layers": 2,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "decoder_attention_heads": 2,
        "encoder_ffn_dim": 32,
        "decoder_ffn_dim": 32,
        "num_mel_bins": 80,
        "max_source_positions": 1500,
        "max_target_positions": 64,
    }
    return tf.WhisperConfig(**{**values, **overrides})


def make_tiny_audio(folder: Path, family: str, norm: str = "layer", seed: int = 0) -> Path:
    """A 2-layer random-weight speech encoder of ``family`` with its feature extractor, saved like a
    downloaded model (config.json, preprocessor_config.json, model.safetensors)."""
    import torch
    import transformers as tf

    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    if family == "whisper":
        tf.WhisperForConditionalGeneration(tiny_whisper_config(vocab_size=51865)).save_pretrained(folder)
        tf.WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
        return folder
    common = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "conv_dim": (16,) * 7,
        "num_conv_pos_embeddings": 16,
        "num_conv_pos_embedding_groups": 2,
        "feat_extract_norm": norm,
        "do_stable_layer_norm": norm == "layer",
        "vocab_size": 12,
    }
    config_cls, model_cls = {
        "wav2vec2": (tf.Wav2Vec2Config, tf.Wav2Vec2Model),
        "hubert": (tf.HubertConfig, tf.HubertModel),
        "wavlm": (tf.WavLMConfig, tf.WavLMModel),
        "data2vec-audio": (tf.Data2VecAudioConfig, tf.Data2VecAudioModel),
    }[family]
    if family == "data2vec-audio":
        common.pop("feat_extract_norm")
        common.pop("do_stable_layer_norm")
        common["conv_pos_kernel_size"] = 5
        common["num_conv_pos_embeddings"] = 5
    if family == "wavlm":
        common["num_buckets"] = 16
        common["max_bucket_distance"] = 50
    model_cls(config_cls(**common)).save_pretrained(folder)
    tf.Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True, return_attention_mask=norm == "layer"
    ).save_pretrained(folder)
    return folder


def make_tiny_whisper_asr(folder: Path, seed: int = 0) -> Path:
    """A tiny random-weight Whisper with a byte-level BPE tokenizer, Whisper's special tokens and a generation
    config: everything transformers' speech-recognition pipeline loads from a downloaded Whisper folder."""
    import json

    import torch
    import transformers as tf
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    torch.manual_seed(seed)
    folder.mkdir(parents=True, exist_ok=True)
    langs = ["en", "de"]
    specials = [
        "<|endoftext|>",
        "<|startoftranscript|>",
        *[f"<|{code}|>" for code in langs],
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nospeech|>",
        "<|notimestamps|>",
        *[f"<|{i * 0.02:.2f}|>" for i in range(1501)],
    ]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    texts = ["i am so happy today", "this is terrible", "what a wonderful day", "leave me alone"] * 5
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    eot = "<|endoftext|>"
    fast = tf.WhisperTokenizerFast(tokenizer_object=tok, unk_token=eot, bos_token=eot, eos_token=eot, pad_token=eot)
    ids = {s: fast.convert_tokens_to_ids(s) for s in specials[:10]}
    config = tiny_whisper_config(
        vocab_size=len(fast),
        max_target_positions=448,
        pad_token_id=ids[eot],
        bos_token_id=ids[eot],
        eos_token_id=ids[eot],
        decoder_start_token_id=ids["<|startoftranscript|>"],
        suppress_tokens=[],
        begin_suppress_tokens=[],
    )
    model = tf.WhisperForConditionalGeneration(config)
    with torch.no_grad():  # it "hears" whole words: pieces of words get no weight in the (tied) output layer
        emb = model.model.decoder.embed_tokens.weight
        for token, i in fast.get_vocab().items():
            if i < tok.get_vocab_size() - len(specials) and len(token.lstrip("Ġ")) < 3:
                emb[i] = 0.0
    model.save_pretrained(folder)
    gen = {
        "_from_model_config": False,
        "decoder_start_token_id": ids["<|startoftranscript|>"],
        "bos_token_id": ids[eot],
        "eos_token_id": ids[eot],
        "pad_token_id": ids[eot],
        "no_timestamps_token_id": ids["<|notimestamps|>"],
        "lang_to_id": {f"<|{code}|>": ids[f"<|{code}|>"] for code in langs},
        "task_to_id": {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        "is_multilingual": True,
        "max_initial_timestamp_index": 50,
        "max_length": 448,
        "suppress_tokens": [],
        "begin_suppress_tokens": [],
    }
    (folder / "generation_config.json").write_text(json.dumps(gen, indent=1))
    tf.WhisperProcessor(tf.WhisperFeatureExtractor(feature_size=80), fast).save_pretrained(folder)
    return folder
