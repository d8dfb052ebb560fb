"""The numpy MiniLM encoder: BERT tokenisation and embeddings that carry meaning."""
import numpy as np

from clinic.sentence_encoder import WordPieceTokenizer, model_dir, shared_encoder


def test_tokenizer_lowercases_strips_accents_and_splits_word_pieces() -> None:
    tokenizer = WordPieceTokenizer(model_dir() / "vocab.txt")
    assert tokenizer.words("Ketamine's effects, Café!") == ["ketamine", "'", "s", "effects", ",", "cafe", "!"]
    ids = tokenizer.ids("fibromyalgia")
    pieces = [next(t for t, i in tokenizer.vocab.items() if i == n) for n in ids]
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
