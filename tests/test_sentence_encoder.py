"""The MiniLM encoder: BERT tokenisation, the ONNX graph computing what BERT computes, and embeddings
that carry meaning."""
import logging
import unicodedata
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from safetensors.numpy import load_file
from scipy.special import erf

from clinic.sentence_encoder import (
    HEADS, LAYERS, MAX_TOKENS, SentenceEncoder, cache_dir, eight_bit_matrices, minilm_graph, model_dir, shared_encoder,
)


class HandWrittenWordPiece:
    """The tokenizer the encoder used before it took Hugging Face's `tokenizers` (issue 22), kept
    as written as the reference: the trained model's vectors depend on its ids."""

    def __init__(self, vocab_file: Path) -> None:
        tokens = vocab_file.read_text(encoding="utf-8").splitlines()
        self.vocab: Dict[str, int] = {token: index for index, token in enumerate(tokens)}
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]

    @staticmethod
    def words(text: str) -> List[str]:
        text = unicodedata.normalize("NFD", text.lower())
        words: List[str] = []
        current: List[str] = []
        for char in text:
            if unicodedata.category(char) == "Mn":
                continue
            if char.isspace() or unicodedata.category(char).startswith("C"):
                boundary = ""
            elif (33 <= ord(char) <= 47 or 58 <= ord(char) <= 64 or 91 <= ord(char) <= 96 or 123 <= ord(char) <= 126
                  or unicodedata.category(char).startswith("P") or 0x4E00 <= ord(char) <= 0x9FFF):
                boundary = char
            else:
                current.append(char)
                continue
            if current:
                words.append("".join(current))
                current = []
            if boundary:
                words.append(boundary)
        if current:
            words.append("".join(current))
        return words

    def word_pieces(self, word: str) -> List[int]:
        if len(word) > 100:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                candidate = word[start:end] if start == 0 else "##" + word[start:end]
                if candidate in self.vocab:
                    pieces.append(self.vocab[candidate])
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return pieces

    def ids(self, text: str) -> List[int]:
        pieces = [piece for word in self.words(text) for piece in self.word_pieces(word)]
        return [self.cls, *pieces[: MAX_TOKENS - 2], self.sep]


TRICKY = [
    "Café", "CAFÉ crème brûlée", "¿cuánto cuesta?", "¡Hola! ¿Qué tal?", "niño, año, mañana, ÑANDÚ", "I've", "ketamine's",
    "don’t ‘quoted’ “double”", "rock 'n' roll", "thanks 😀🥰 👍🏽 ❤️", "疼痛治疗 ketamine 的费用", "日本語のテキスト", "한국어 문장",
    "ＫＥＴＡＭＩＮＥ full width", "ﬁne ﬂow", "İstanbul", "Straße", "x\u0301 e\u0301", "مرحبا بالعيادة", "שלום",
    "x" * 100, "x" * 101, "pneumonoultramicroscopicsilicovolcanoconiosis" * 3, "pain " * 5000, "", "   ", "\n\t\r\n",
    "a\x01b\x7fc\x00d\x1b[31mred", "zero\u200bwidth\u200cnon\u200djoin\ufeffbom\u2060wj", "soft\u00adhyphen",
    "no\u00a0break\u2028line\u3000ideographic", "https://clinic.example.com/faq?q=1&x=%20#top", "mail me: a.b+c@example.org",
    "555-234-5678", "+1 (555) 234-5678", "$1,200.50 or 3.5mg/kg at 9:30am", "[CLS] [SEP] [UNK] [MASK] [PAD]",
    "<script>alert('x')</script>", "I've had CRPS in my foot for 3 years, would ketamin infussions help??",
]


def test_the_tokenizer_gives_the_hand_written_tokenizers_ids_on_tricky_text() -> None:
    reference, encoder = HandWrittenWordPiece(model_dir() / "vocab.txt"), shared_encoder()
    for text in TRICKY:
        assert encoder.token_ids(text) == reference.ids(text), text
    assert len(encoder.token_ids("pain " * 5000)) == MAX_TOKENS


def test_where_the_two_differ_the_model_s_own_tokenizer_decides() -> None:
    """Rare characters only, none in the content (next test): ones that the Unicode tables of Python
    3.11 and of `tokenizers` class differently (a 2022 emoji, a 2021 combining mark), CJK extension
    ideographs (BERT splits each one), a final capital sigma, U+FFFD (BERT deletes it). Asserted so
    that a change of either library shows here."""
    vocabulary = (model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    reference, encoder = HandWrittenWordPiece(model_dir() / "vocab.txt"), shared_encoder()
    differing = {"wow \U0001FAE8": "wow [UNK]", "ab\u0898cd": "[UNK]", "\u3400\u3401": "[UNK] [UNK]",
                 "ΟΔΟΣ": "ο ##δ ##ο ##σ", "bad\ufffdbyte": "bad ##by ##te"}
    for text, pieces in differing.items():
        assert " ".join(vocabulary[n] for n in encoder.token_ids(text)[1:-1]) == pieces, text
        assert encoder.token_ids(text) != reference.ids(text), text


def test_every_line_of_the_content_tokenizes_as_before() -> None:
    """The training data, bench questions and safety cases: the same ids give the same model."""
    reference, encoder = HandWrittenWordPiece(model_dir() / "vocab.txt"), shared_encoder()
    root = Path(__file__).parent.parent
    lines = {line for folder in ("data", "bench", "safety", "tests") for path in (root / folder).rglob("*.yml")
             for line in path.read_text(encoding="utf-8").splitlines()}
    assert len(lines) > 5000
    assert [line for line in lines if encoder.token_ids(line) != reference.ids(line)] == []


def bert_in_numpy(w: Dict[str, np.ndarray], ids: np.ndarray) -> np.ndarray:
    """BERT's forward pass + mean pooling + unit length written out plainly, as the reference."""
    def norm(x: np.ndarray, prefix: str) -> np.ndarray:
        centred = x - x.mean(-1, keepdims=True)
        return centred / np.sqrt((centred ** 2).mean(-1, keepdims=True) + 1e-12) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]

    def dense(x: np.ndarray, prefix: str) -> np.ndarray:
        return x @ w[f"{prefix}.weight"].T + w[f"{prefix}.bias"]

    n, size = len(ids), w["embeddings.word_embeddings.weight"].shape[1] // HEADS
    x = norm(w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}"
        q, k, v = (dense(x, f"{p}.attention.self.{m}").reshape(n, HEADS, size).transpose(1, 0, 2)
                   for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
        weights = np.exp(scores - scores.max(-1, keepdims=True))
        attended = ((weights / weights.sum(-1, keepdims=True)) @ v).transpose(1, 0, 2).reshape(n, -1)
        x = norm(dense(attended, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        hidden = dense(x, f"{p}.intermediate.dense")
        x = norm(dense(0.5 * hidden * (1 + erf(hidden / np.sqrt(2))), f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def test_the_onnx_graph_computes_what_bert_computes() -> None:
    encoder = SentenceEncoder(model_dir(), eight_bit=False)
    weights = load_file(str(model_dir() / "model.safetensors"))
    for text in ("is it safe?", "I've had CRPS in my foot for 3 years, would ketamin infussions help??", "pain " * 300):
        reference = bert_in_numpy(weights, np.array(encoder.token_ids(text)))
        assert np.abs(encoder.encode(text) - reference).max() < 1e-5, text


def test_tokenizer_lowercases_strips_accents_and_splits_word_pieces() -> None:
    vocabulary = (model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    encoder = shared_encoder()
    assert [vocabulary[n] for n in encoder.token_ids("Ketamine's effects, Café!")] == \
        ["[CLS]", "ke", "##tam", "##ine", "'", "s", "effects", ",", "cafe", "!", "[SEP]"]
    pieces = [vocabulary[n] for n in encoder.token_ids("fibromyalgia")]
    assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]"
    assert "".join(p.lstrip("#") for p in pieces[1:-1]) == "fibromyalgia" and len(pieces) > 3


def test_embeddings_are_unit_vectors_and_long_text_is_bounded() -> None:
    encoder = shared_encoder()
    vector = encoder.encode("is it safe?")
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert encoder.encode("pain " * 5000).shape == (384,)


def test_paraphrases_are_closer_than_unrelated_sentences() -> None:
    encoder = shared_encoder()
    relief = encoder.encode("How long does the pain relief last?")
    assert relief @ encoder.encode("how many weeks before it wears off") > relief @ encoder.encode("what is the weather tomorrow") + 0.3
    opioids = encoder.encode("is ketamine better than opioids")
    assert opioids @ encoder.encode("why use this instead of narcotics") > opioids @ encoder.encode("where can I park")


def test_eight_bit_weights_keep_the_meaning_of_sentences() -> None:
    full, served = SentenceEncoder(model_dir(), eight_bit=False), shared_encoder()
    for text in ("is it safe?", "how many infusions will i need", "my fibromyalgia flares every winter, could this help",
                 "whats the capital of australia"):
        assert float(full.encode(text) @ served.encode(text)) > 0.97, text


def test_the_eight_bit_conversion_keeps_the_server_log_readable(caplog: pytest.LogCaptureFixture) -> None:
    """ONNX Runtime's quantizer notes its progress on the root logger (about 150 lines); a server
    starting at the INFO level must not show them, and the root logger works as before afterwards."""
    caplog.set_level(logging.INFO)
    eight_bit_matrices(minilm_graph(model_dir()))
    logging.getLogger().warning("a warning after the conversion")
    assert [r.getMessage() for r in caplog.records if r.name == "root"] == ["a warning after the conversion"]


def test_the_eight_bit_graph_is_built_once_and_then_read_from_the_cache(tmp_path, monkeypatch) -> None:
    """A server start reads the converted graph instead of converting again (7-10 s of each start)."""
    monkeypatch.setenv("CLINIC_CACHE_DIR", str(tmp_path))
    first = SentenceEncoder(model_dir())
    cached = list(cache_dir().glob("minilm-8bit-*.onnx"))
    assert len(cached) == 1 and cache_dir().parent == tmp_path
    before = cached[0].stat().st_mtime_ns
    second = SentenceEncoder(model_dir())
    assert cached[0].stat().st_mtime_ns == before
    text = "how many infusions will i need"
    assert np.array_equal(first.encode(text), second.encode(text))
