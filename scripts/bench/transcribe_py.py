#!/usr/bin/env python3
"""The transcription benchmark's Python half (scripts/bench-transcribe.sh drives it).

  transcribe_py.py run --out RESULTS.json [--repeat R] FILE...
      Transcribes each file with the official basic-pitch 0.4.0 package and its ONNX Runtime
      backend, on one thread, with predict()'s default parameters, and writes the notes and
      timings as JSON: librosa.load at 22,050 Hz mono (prep_s), run_inference (model_s) and
      model_output_to_notes (notes_s), each the fastest of R runs, model load excluded.

  transcribe_py.py score --python PY.json --encore NAME=ENC.json [--encore ...]
      Note-level F1 (mir_eval: same pitch, onset within 50 ms, offsets ignored), summed over
      the files of each set (the folder a file is in), against Python's notes and against the
      ground truth NAME.json beside a NAME.wav where there is one, and speeds; prints a
      markdown table.
"""

import argparse
import contextlib
import io
import json
import math
import os
import pathlib
import sys
import time


def cmd_run(args):
    import logging

    logging.disable(logging.WARNING)  # basic-pitch warns about every backend it lacks
    import numpy as np
    import onnxruntime as ort
    import librosa
    from basic_pitch import ICASSP_2022_MODEL_PATH, inference
    from basic_pitch import note_creation
    from basic_pitch.constants import AUDIO_SAMPLE_RATE, FFT_HOP

    if not str(ICASSP_2022_MODEL_PATH).endswith(".onnx"):
        sys.exit(f"basic-pitch picked {ICASSP_2022_MODEL_PATH}, not its ONNX model")
    t = time.perf_counter()
    model = inference.Model(ICASSP_2022_MODEL_PATH)
    if model.model_type != inference.Model.MODEL_TYPES.ONNX:
        sys.exit(f"basic-pitch loaded a {model.model_type} model, not ONNX")
    # basic-pitch builds its session with ONNX Runtime's default threading; the benchmark runs
    # it on one thread, as encore runs, with the same providers and default optimisations.
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    model.model = ort.InferenceSession(
        str(ICASSP_2022_MODEL_PATH), sess_options=options, providers=["CPUExecutionProvider"]
    )
    load_s = time.perf_counter() - t
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')} x{p.get('num_threads')}"
            for p in threadpool_info()
        )
        print(f"python: numpy/scipy thread pools: {blas or 'none'}", file=sys.stderr)
    except ImportError:
        pass
    print(
        f"python: basic-pitch ONNX backend, onnxruntime {ort.__version__} ({args.threads} thread), "
        f"model loaded in {load_s:.2f} s",
        file=sys.stderr,
    )

    # predict()'s defaults.
    onset_threshold, frame_threshold, minimum_note_length = 0.5, 0.3, 127.70
    min_note_len = int(np.round(minimum_note_length / 1000 * (AUDIO_SAMPLE_RATE / FFT_HOP)))

    results = []
    for i, path in enumerate(args.files):
        best = {"prep_s": math.inf, "model_s": math.inf, "notes_s": math.inf, "cpu_s": math.inf}
        notes = []
        audio_s = 0.0
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            audio, _ = librosa.load(path, sr=AUDIO_SAMPLE_RATE, mono=True)
            best["prep_s"] = min(best["prep_s"], time.perf_counter() - t)
            audio_s = librosa.get_duration(path=path)
            # run_inference loads the file itself; hand it the audio already loaded, so that
            # model_s is windowing, the model and stitching only.
            real_load = inference.librosa.load
            inference.librosa.load = lambda *a, **k: (audio, AUDIO_SAMPLE_RATE)
            try:
                cpu = time.thread_time()  # ONNX Runtime computes on this thread (one intra-op thread)
                t = time.perf_counter()
                output = inference.run_inference(path, model)
                best["model_s"] = min(best["model_s"], time.perf_counter() - t)
            finally:
                inference.librosa.load = real_load
            t = time.perf_counter()
            _, events = note_creation.model_output_to_notes(
                output,
                onset_thresh=onset_threshold,
                frame_thresh=frame_threshold,
                min_note_len=min_note_len,
                min_freq=None,
                max_freq=None,
                multiple_pitch_bends=False,
                melodia_trick=True,
                midi_tempo=120,
            )
            best["notes_s"] = min(best["notes_s"], time.perf_counter() - t)
            best["cpu_s"] = min(best["cpu_s"], time.thread_time() - cpu)
            notes = [[float(s), float(e), int(p), float(a)] for s, e, p, a, _ in events]
        speed = audio_s / max(best["model_s"] + best["notes_s"], 1e-9)
        print(
            f"  [{i + 1}/{len(args.files)}] {os.path.basename(path)}: {len(notes)} notes, "
            f"{audio_s:.1f} s audio, model {best['model_s']:.3f} s + notes {best['notes_s']:.3f} s "
            f"= {speed:.1f}x real time",
            file=sys.stderr,
        )
        results.append({"path": path, "audio_s": audio_s, **best, "notes": notes})

    doc = {
        "engine": "python",
        "backend": f"basic-pitch 0.4.0, onnxruntime {ort.__version__}",
        "threads": args.threads,
        "repeat": args.repeat,
        "load_s": load_s,
        "files": results,
    }
    pathlib.Path(args.out).write_text(json.dumps(doc))


def hz(pitches):
    import numpy as np

    return 440.0 * 2.0 ** ((np.asarray(pitches, dtype=float) - 69.0) / 12.0)


def as_arrays(notes):
    """(intervals, Hz) for mir_eval from [start, end, pitch, ...] rows."""
    import numpy as np

    if not notes:
        return np.zeros((0, 2)), np.zeros(0)
    iv = np.array([[n[0], max(n[1], n[0] + 1e-3)] for n in notes], dtype=float)
    return iv, hz([n[2] for n in notes])


def matches(ref, est):
    """Notes of `est` matched one-to-one to `ref`: same pitch (within 50 cents), onset within 50 ms."""
    import mir_eval

    ri, rp = as_arrays(ref)
    ei, ep = as_arrays(est)
    if len(ri) == 0 or len(ei) == 0:
        return 0
    return len(
        mir_eval.transcription.match_notes(
            ri, rp, ei, ep, onset_tolerance=0.05, pitch_tolerance=50.0, offset_ratio=None
        )
    )


class Tally:
    def __init__(self):
        self.hits = self.ref = self.est = 0

    def add(self, ref, est):
        self.hits += matches(ref, est)
        self.ref += len(ref)
        self.est += len(est)

    def f1(self):
        if self.hits == 0:
            return 0.0
        p, r = self.hits / self.est, self.hits / self.ref
        return 2 * p * r / (p + r)


def load_runs(paths):
    """Several runs of one engine over the same files, merged: each time is the fastest of the
    runs; the notes are the first run's (every run gives the same notes)."""
    docs = [json.loads(pathlib.Path(p).read_text()) for p in paths.split(",") if p]
    merged = docs[0]
    for doc in docs[1:]:
        by_path = {f["path"]: f for f in doc["files"]}
        for f in merged["files"]:
            other = by_path.get(f["path"])
            if other is None:
                continue
            if [n[:3] for n in other["notes"]] != [n[:3] for n in f["notes"]]:
                print(f"warning: runs differ in notes for {f['path']}", file=sys.stderr)
            for k in ("prep_s", "model_s", "notes_s", "cpu_s"):
                f[k] = min(f[k], other[k])
    return merged


def cmd_score(args):
    python = load_runs(args.python)
    engines = []
    for spec in args.encore:
        name, _, paths = spec.partition("=")
        engines.append((name, load_runs(paths)))
    py_by = {f["path"]: f for f in python["files"]}

    def set_of(path):
        return pathlib.Path(path).parent.name  # "known", "known22" or "demo"

    sets = []
    for f in python["files"]:
        s = set_of(f["path"])
        if s not in sets:
            sets.append(s)

    rows = []
    for s in sets:
        py_files = [f for f in python["files"] if set_of(f["path"]) == s]
        audio_s = sum(f["audio_s"] for f in py_files)
        py_t = sum(f["model_s"] + f["notes_s"] for f in py_files)
        py_model = sum(f["model_s"] for f in py_files)
        py_cpu = sum(f["cpu_s"] for f in py_files)
        py_truth = Tally()
        py_prep = sum(f["prep_s"] for f in py_files)
        truths = {}
        for f in py_files:
            # The ground truth, where there is one, lies beside the audio.
            tpath = pathlib.Path(f["path"]).with_suffix(".json")
            if tpath.is_file():
                truth = json.loads(tpath.read_text())
                truths[f["path"]] = [[n["start_s"], n["end_s"], n["pitch"]] for n in truth["notes"]]
                py_truth.add(truths[f["path"]], f["notes"])
        for name, enc in engines:
            enc_files = [f for f in enc["files"] if set_of(f["path"]) == s]
            enc_t = sum(f["model_s"] + f["notes_s"] for f in enc_files)
            enc_model = sum(f["model_s"] for f in enc_files)
            enc_cpu = sum(f["cpu_s"] for f in enc_files)
            vs_py, vs_truth = Tally(), Tally()
            worst = (1.0, "every file")
            for f in enc_files:
                key = f["path"]
                p = py_by[key]["notes"]
                one = Tally()
                one.add(p, f["notes"])
                vs_py.add(p, f["notes"])
                if one.f1() < worst[0]:
                    worst = (one.f1(), key)
                if key in truths:
                    vs_truth.add(truths[key], f["notes"])
            rows.append(
                {
                    "set": s,
                    "files": len(enc_files),
                    "audio_s": audio_s,
                    "engine": name,
                    "enc_x": audio_s / enc_t,
                    "enc_model_x": audio_s / enc_model,
                    "py_x": audio_s / py_t,
                    "py_model_x": audio_s / py_model,
                    "ratio": py_t / enc_t,
                    "ratio_cpu": py_cpu / enc_cpu,
                    "f1_enc_truth": vs_truth.f1() if truths else None,
                    "f1_py_truth": py_truth.f1() if truths else None,
                    "f1_enc_py": vs_py.f1(),
                    "notes_enc": vs_py.est,
                    "notes_py": vs_py.ref,
                    "notes_truth": py_truth.ref if truths else None,
                    "worst": (worst[0], pathlib.Path(worst[1]).name),
                    "prep_enc_s": sum(f["prep_s"] for f in enc_files),
                    "prep_py_s": py_prep,
                }
            )

    def fmt(v, spec):
        return "n/a" if v is None else format(v, spec)

    out = io.StringIO()
    out.write(
        "| material | encore engine | audio | encore x real time (model only) | Python x real time "
        "(model only) | speed ratio encore/Python, wall (thread CPU) | F1 encore vs known | "
        "F1 Python vs known | F1 encore vs Python | notes encore / Python / known |\n"
    )
    out.write("|---|---|---|---|---|---|---|---|---|---|\n")
    for r in rows:
        label = {
            "known": "rendered pieces with known notes, 44.1 kHz stereo",
            "known22": "the same pieces at 22,050 Hz mono (no resampling)",
            "demo": "demo catalog mixes, 44.1 kHz stereo",
        }.get(r["set"], r["set"])
        out.write(
            f"| {label} ({r['files']} files) | {r['engine']} | {r['audio_s']:.0f} s "
            f"| {r['enc_x']:.1f}x ({r['enc_model_x']:.1f}x) | {r['py_x']:.1f}x ({r['py_model_x']:.1f}x) "
            f"| **{r['ratio']:.2f}x** ({r['ratio_cpu']:.2f}x) | {fmt(r['f1_enc_truth'], '.3f')} | {fmt(r['f1_py_truth'], '.3f')} "
            f"| **{r['f1_enc_py']:.3f}** | {r['notes_enc']} / {r['notes_py']} / "
            f"{fmt(r['notes_truth'], 'd')} |\n"
        )
    print(out.getvalue(), end="")
    if args.details:
        for r in rows:
            print(
                f"lowest per-file F1 encore ({r['engine']}) vs Python, {r['set']}: "
                f"{r['worst'][0]:.3f} ({r['worst'][1]}); decoding and resampling, not in the speeds: "
                f"encore {r['prep_enc_s']:.2f} s, Python (librosa.load) {r['prep_py_s']:.2f} s"
            )
    # The noise floor: Python against itself when only the resampler changes (librosa's soxr_hq
    # on the 44.1 kHz file, or encore's, already applied, in the 22,050 Hz twin).
    floor = Tally()
    for f in python["files"]:
        twin = f["path"].replace("/known/", "/known22/")
        if "/known/" in f["path"] and twin in py_by:
            floor.add(f["notes"], py_by[twin]["notes"])
    if args.details and floor.ref:
        print(
            f"Python against itself, only the resampler changed (known vs known22): F1 {floor.f1():.3f}"
        )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--out", required=True)
    r.add_argument("--repeat", type=int, default=1)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("files", nargs="+")
    s = sub.add_parser("score")
    s.add_argument("--python", required=True, help="RESULTS.json[,RESULTS.json...] (runs merged)")
    s.add_argument(
        "--encore", action="append", required=True, help="NAME=RESULTS.json[,RESULTS.json...]"
    )
    s.add_argument("--json", help="also write the rows as JSON here")
    s.add_argument("--details", action="store_true")
    args = ap.parse_args()
    if args.cmd == "run":
        with contextlib.redirect_stdout(sys.stderr):
            cmd_run(args)
    else:
        cmd_score(args)


if __name__ == "__main__":
    main()
