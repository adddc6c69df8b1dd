"""The suite's plumbing: table and summary against the targets, thread settings reaching both
sessions, scripted models that are missing, the streaming VAD. No timing assertions, no torch."""

import numpy as np
import pytest

from onnxrun.bench import memory, report
from onnxrun.bench.models import scripted
from onnxrun.bench.runner import Result
from onnxrun.bench.suite import SUITE, SuiteModel, select
from onnxrun.cli.bench import thread_settings
from onnxrun.cli.main import main


def _result(name, ours, theirs, threads=0, **kw):
    r = Result(name, "", runs=1, threads=threads, ours=[ours], theirs=[theirs], **kw)
    return r


def _entry(name, ratios, stream=False, **kw):
    m = SuiteModel(name, lambda log=None: "", 1, "generated",
                   stream=object() if stream else None, **kw)
    return report.Entry(m, {t: _result(name, r, 1.0, t, init_ours=0.3, init_theirs=0.1,
                                       peak_ours=100, peak_theirs=100)
                            for t, r in ratios.items()})


def test_summary_geomean_worst_and_targets_per_setting():
    entries = [_entry("a", {0: 2.0, 1: 1.0}), _entry("b", {0: 8.0, 1: 1.0}),
               _entry("s", {0: 3.0, 1: 1.5}, stream=True)]
    lines = report.summary(entries, [0, 1])
    text = "\n".join(lines)
    # geomean over all three (stream models included), per setting
    assert "[user, default threads] geometric mean of latency ratios (onnxrun/onnxruntime) " \
           "over 3 models: 3.63  (target <= 1.5: not met)" in text
    assert "[user, 1 thread] geometric mean of latency ratios (onnxrun/onnxruntime) over 3 " \
           "models: 1.14  (target <= 1.5: met)" in text
    # worst is over non-stream models, which are held to 2.5; stream models to 2.0 per call
    assert "worst ratio: b 8.00  (target: none above 2.5; above: b 8.00)" in text
    assert "[user, 1 thread] worst ratio: a 1.00  (target: none above 2.5; above: none)" in text
    assert "per-call ratio of stream models: s 3.00  (target <= 2.0; above: s 3.00)" in text
    assert "per-call ratio of stream models: s 1.50  (target <= 2.0; above: none)" in text
    assert "[user] init time ratio (default threads), geometric mean: 3.00  (target <= 2.0 " \
           "per model; above: a 3.00, b 3.00, s 3.00)" in text


def test_summary_leaves_out_failures_skips_and_diagnostics():
    failing = _entry("q", {})
    failing.model.expect_fail = "needs com.microsoft kernels"
    failing.results[0] = Result("q", "", error="onnxrun init: NotImplemented: QLinearMul")
    skipped = _entry("m", {})
    skipped.skipped = "m_s1.onnx is not built; run `python scripts/models/x.py m`"
    diag = _entry("d", {0: 50.0}, diagnostic=True)
    lines = report.summary([_entry("a", {0: 2.0}), failing, skipped, diag], [0])
    text = "\n".join(lines)
    assert "over 1 models: 2.00" in text
    assert "q (default threads): onnxrun init: NotImplemented: QLinearMul (expected: needs " \
           "com.microsoft kernels)" in text
    assert "m: skipped: m_s1.onnx is not built; run `python scripts/models/x.py m`" in text
    table = report.suite_table([failing, skipped], [0])
    assert "fails (expected)" in table and "| m " in table and "skipped" in table


def test_table_columns_name_the_thread_setting():
    head = report.header([0, 1])
    assert head[2:8] == ["onnxrun ms @default", "ort ms @default", "ratio @default",
                         "onnxrun ms @1 thread", "ort ms @1 thread", "ratio @1 thread"]
    assert "init onnxrun ms @default" in head and "peak ort MB @default" in head
    assert report.header([4])[2] == "onnxrun ms @4 threads"
    row = report.row(_entry("a", {0: 2.0, 1: 1.5}, stream=True), [0, 1])
    assert row[:8] == ["a", "1 calls", "2000.0", "1000.0", "2.00", "1500.0", "1000.0", "1.50"]
    assert "intra_op_num_threads=1 on both" in report.legend([0, 1])


def test_thread_settings():
    assert thread_settings(None, suite=True) == [0, 1]
    assert thread_settings(None, suite=False) == [0]
    assert thread_settings("1", suite=True) == [1]
    assert thread_settings("default", suite=True) == [0]
    assert thread_settings("0", suite=True) == [0]
    with pytest.raises(ValueError):
        thread_settings("many", suite=True)


@pytest.mark.parametrize("runtime", ["onnxrun", "onnxruntime"])
def test_sessions_get_intra_op_only_when_set(runtime, tmp_path):
    from onnxrun.bench.models import sequence
    import onnx
    path = str(tmp_path / "chain.onnx")
    onnx.save(sequence.elementwise_chain(nodes=3), path)
    one = memory.make_session(runtime, path, threads=1)
    default = memory.make_session(runtime, path, threads=0)
    assert one.get_session_options().intra_op_num_threads == 1
    assert default.get_session_options().intra_op_num_threads == 0


def test_suite_runs_both_settings_and_streams(tmp_path, monkeypatch, capsys):
    """--threads both: each runtime's session at default (nothing set) then at 1; the VAD
    stream runs frame by frame with its state fed back, and both runtimes agree."""
    monkeypatch.setenv("ONNXRUN_BENCH_CACHE", str(tmp_path))
    made = []
    real = memory.make_session

    def spy(runtime, model, threads=0, level="all"):
        sess = real(runtime, model, threads, level)
        made.append((runtime, threads, sess.get_session_options().intra_op_num_threads))
        return sess

    monkeypatch.setattr(memory, "make_session", spy)
    assert main(["bench", "--suite", "--only", "vad", "--runs", "3", "--no-memory"]) == 0
    out = capsys.readouterr().out
    assert {(rt, t, t) for rt in ("onnxrun", "onnxruntime") for t in (0, 1)} == set(made)
    first_one = next(i for i, m in enumerate(made) if m[1] == 1)
    assert all(m[1] == 0 for m in made[:first_one])
    line = next(ln for ln in out.splitlines() if ln.startswith("| vad "))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1] == "3 calls"
    assert float(cells[-1]) < 1e-4  # max abs diff after 4 calls with the state fed back
    assert "[user, default threads]" in out and "[user, 1 thread]" in out


def test_missing_scripted_model_is_skipped_with_the_script_to_run(tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.setenv("ONNXRUN_BENCH_CACHE", str(tmp_path))
    monkeypatch.setattr(scripted, "_can_build", lambda entry: False)  # as without torch
    with pytest.raises(scripted.ModelMissing,
                       match=r"ocr_rec_s1.onnx is not built; run `python "
                             r"scripts/models/ocr.py ocr_rec` \(needs torch\)"):
        scripted.ensure("ocr_rec")
    assert main(["bench", "--suite", "--only", "ocr_rec", "yolo_det", "--no-memory"]) == 0
    out = capsys.readouterr().out
    assert "ocr_rec: skipped: ocr_rec_s1.onnx is not built; run `python " \
           "scripts/models/ocr.py ocr_rec` (needs torch)" in out
    assert "yolo_det: skipped: yolo_det_s1.onnx is not built; run `python " \
           "scripts/models/yolo.py yolo_det` (needs torch)" in out
    assert main(["bench", "ocr_cls", "--no-memory"]) == 1  # one model: an error, same words
    assert "run `python scripts/models/ocr.py ocr_cls` (needs torch)" in capsys.readouterr().err


def test_scripted_models_name_existing_scripts():
    root = scripted.repo_root()
    assert root is not None
    import os
    for name, entry in scripted.SCRIPTED.items():
        assert os.path.exists(os.path.join(root, entry.script)), name
    assert {m.name for m in SUITE if m.kind == "scripted"} == set(scripted.SCRIPTED)


def test_select_groups_and_quick():
    user = select(group="user")
    assert user and all(m.group == "user" for m in user)
    assert {m.name for m in select(group="classic")} >= {"resnet50", "elementwise_1000"}
    assert len(select(group="all")) == len(SUITE)
    assert [m.name for m in select(quick=True)] == ["ocr_rec", "vad", "minilm_b4",
                                                     "magika_like", "cnn_qdq"]
    with pytest.raises(ValueError, match="unknown suite models"):
        select(["nope"])


def test_token_feeds_are_in_vocabulary_with_padded_masks():
    from onnxrun.bench.models.feeds import tokens

    class Arg:
        def __init__(self, name, shape):
            self.name, self.shape = name, shape

    args = [Arg("input_ids", ["batch", "sequence"]), Arg("attention_mask", ["batch", "sequence"]),
            Arg("token_type_ids", ["batch", "sequence"])]
    out = tokens(30522, {"batch": 4, "sequence": 128})(args, np.random.default_rng(0))
    assert out["input_ids"].shape == (4, 128) and out["input_ids"].max() < 30522
    mask = out["attention_mask"]
    assert set(np.unique(mask)) == {0, 1} and mask[0].all() and mask[2].all()
    assert 0 < mask[1].sum() < 128 and 0 < mask[3].sum() < 128
    assert not out["token_type_ids"].any()


def test_interleaved_feeds_state_back_and_new_frames_each_call():
    from onnxrun.bench.runner import interleaved

    class Out:
        def __init__(self, name):
            self.name = name

    class Counter:
        """Outputs state + frame; records what it was fed."""

        def __init__(self):
            self.seen = []

        def get_outputs(self):
            return [Out("y"), Out("stateN")]

        def run(self, names, feeds):
            self.seen.append((float(feeds["state"]), float(feeds["x"])))
            return [feeds["x"], feeds["state"] + feeds["x"]]

    a, b = Counter(), Counter()
    frames = [{"x": np.float32(i + 1)} for i in range(4)]
    times = [[], []]
    outs = interleaved([a, b], {"state": np.float32(0), "x": np.float32(0)}, frames,
                       {"stateN": "state"}, 1, 3, times)
    assert a.seen == b.seen == [(0, 1), (1, 2), (3, 3), (6, 4)]
    assert len(times[0]) == len(times[1]) == 3
    assert float(outs[0][1]) == 10


def test_profile_lists_subgraph_nodes_only_when_nested(tmp_path):
    import onnx
    from onnxrun.bench.models.vad import stream_feeds, vad
    from onnxrun.bench.profile import profile
    path = str(tmp_path / "vad.onnx")
    onnx.save(vad(), path)
    sess = memory.make_session("onnxrun", path)
    first, frames = stream_feeds(sess.get_inputs(), np.random.default_rng(0), 1)
    feeds = {**first, **frames[0]}
    flat = {k for k, _, _ in profile(sess, feeds, runs=1)["types"]}
    nested = {k for k, _, _ in profile(sess, feeds, runs=1, nested=True)["types"]}
    assert "If" in flat and not any("in subgraph" in k for k in flat)
    assert "LSTM (in subgraph)" in nested
    assert any(k.startswith("Conv") and k.endswith("(in subgraph)") for k in nested)


def test_interleaved_stops_at_the_deadline_after_three_timed_runs():
    from onnxrun.bench.runner import interleaved

    class Sess:
        calls = 0

        def get_outputs(self):
            return []

        def run(self, names, feeds):
            Sess.calls += 1
            return []

    times = [[]]
    interleaved([Sess()], {}, None, {}, 2, 50, times, deadline=0.0)
    assert len(times[0]) == 3 and Sess.calls == 5


def test_bench_takes_a_suite_name_with_its_inputs(tmp_path, monkeypatch, capsys):
    """``onnxrun bench vad --profile``: the suite's file, stream feeds (sr 16000, so the
    16 kHz branch runs) and a profile that looks inside the If."""
    monkeypatch.setenv("ONNXRUN_BENCH_CACHE", str(tmp_path))
    assert main(["bench", "vad", "--runs", "3", "--no-memory", "--threads", "1",
                 "--profile"]) == 0
    out = capsys.readouterr().out
    assert "| vad " in out and "ratio @1 thread" in out
    # the 16 kHz branch: its STFT conv has a 256-sample window (the 8 kHz one 128)
    assert "LSTM (in subgraph)" in out and "Conv (256) (in subgraph)" in out
