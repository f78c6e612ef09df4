"""The `fastconv` command, driven in subprocesses (`python -m fastconv ...`) as a user
would: train on a small slice of real MNIST with --save and --plots, evaluate, predict
on .npy, PGM and PNG files, info, bench, and every error path (exit 2, one line)."""
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fastconv
from fastconv import layers, models
from fastconv.datasets import mnist
from png_files import assert_picture

PACKAGE_ROOT = str(Path(fastconv.__file__).resolve().parents[1])
TRAIN_LIMIT = 1000  # one epoch of the CNN on these takes about a second
PLOTS = ["images.png", "training_curves.png", "confusion_matrix.png", "filters.png",
         "feature_maps.png"]
TIMEOUT_S = 120
FLOAT = r"(\d+\.\d+)"


def fastconv_command(*args, cwd, shadowing=None, timeout=TIMEOUT_S):
    """Run `python -m fastconv args...` with the fastconv under test; the finished process.
    shadowing: a folder searched before everything else, to hide an installed package."""
    paths = [shadowing, PACKAGE_ROOT, os.environ.get("PYTHONPATH")]
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in paths if p))
    return subprocess.run([sys.executable, "-m", "fastconv", *map(str, args)], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=timeout)


def succeeded(process):
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr
    return process.stdout


def accuracy_printed(stdout):
    match = re.search(rf"test loss {FLOAT}, test accuracy {FLOAT}", stdout)
    assert match, stdout
    accuracy = float(match.group(2))
    assert 0 <= accuracy <= 1
    return float(match.group(1)), accuracy


def predictions_printed(stdout):
    """{name: (class, probabilities)} from predict's lines."""
    found = {}
    for line in stdout.splitlines():
        name, rest = line.rsplit(": class ", 1)
        label, probabilities = rest.split(", probabilities ")
        found[name] = (int(label), np.array(probabilities.split(), dtype=float))
    for label, probabilities in found.values():
        assert 0 <= label <= 9 and probabilities.shape == (10,)
        assert label == probabilities.argmax()
        assert probabilities.sum() == pytest.approx(1, abs=1e-3)  # 10 values to 4 decimals
    return found


@pytest.fixture(scope="module")
def mnist_test_images():
    _, (x_test, y_test) = mnist.load_data()
    return x_test[:TRAIN_LIMIT], y_test[:TRAIN_LIMIT]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(folder, stdout) of `fastconv train` with --save model.npz and --plots plots."""
    pytest.importorskip("matplotlib")
    folder = tmp_path_factory.mktemp("train")
    stdout = succeeded(fastconv_command(
        "train", "--dataset", "mnist", "--model", "cnn", "--epochs", 1, "--batch-size", 50,
        "--optimizer", "adam", "--lr", 0.002, "--threads", 2, "--limit", TRAIN_LIMIT,
        "--seed", 1, "--verbose", 2, "--save", "model.npz", "--plots", "plots", cwd=folder))
    return folder, stdout


# ------------------------------------------------------------------------ train

def test_train_reports_learning_and_time(trained):
    _, stdout = trained
    _, accuracy = accuracy_printed(stdout)
    assert accuracy > 0.5, "chance is 0.1; one epoch on 1000 images gives about 0.8"
    assert re.search(rf"trained 1 epoch on {TRAIN_LIMIT} mnist images in {FLOAT} s", stdout)
    assert re.search(r"^Epoch 1/1 .* val_accuracy: ", stdout, re.MULTILINE), "progress line"


def test_train_saves_a_loadable_model(trained, mnist_test_images):
    folder, stdout = trained
    model = models.load_model(folder / "model.npz")
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert model.epoch == 1
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.002)
    x, y = mnist_test_images
    accuracy = np.mean(model.predict(x[..., None] / 255).argmax(axis=1) == y)
    assert accuracy == pytest.approx(accuracy_printed(stdout)[1], abs=1e-4)


def test_train_saves_every_picture(trained):
    folder, stdout = trained
    for name in PLOTS:
        assert f"saved {Path('plots') / name}" in stdout
        assert_picture(folder / "plots" / name)


def test_train_mlp_saves_no_filters_for_a_model_without_convolutions(tmp_path):
    pytest.importorskip("matplotlib")
    stdout = succeeded(fastconv_command("train", "--model", "mlp", "--limit", 300,
                                        "--epochs", 2, "--validation-split", 0.2,
                                        "--verbose", 0, "--plots", "out", cwd=tmp_path))
    assert re.search(r"trained 2 epochs on 240 mnist images", stdout)
    accuracy_printed(stdout)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(PLOTS[:3])
    assert "no Conv2D layer" in stdout


# ------------------------------------------------------------------------ evaluate

def test_evaluate_prints_the_accuracy_training_reported(trained):
    folder, train_stdout = trained
    stdout = succeeded(fastconv_command("evaluate", "model.npz", "--dataset", "mnist",
                                        "--limit", TRAIN_LIMIT, cwd=folder))
    loss, accuracy = accuracy_printed(stdout)
    train_loss, train_accuracy = accuracy_printed(train_stdout)
    assert accuracy == train_accuracy
    assert loss == pytest.approx(train_loss, abs=2e-4)  # other batch size, other rounding
    assert f"({TRAIN_LIMIT} mnist images)" in stdout


# ------------------------------------------------------------------------ predict

def test_predict_npy_image_and_batch(trained, mnist_test_images):
    folder, _ = trained
    x, _ = mnist_test_images
    np.save(folder / "batch.npy", x[:4])  # uint8 pixels
    np.save(folder / "one.npy", (x[4] / 255).astype(np.float32)[..., None])
    found = predictions_printed(succeeded(fastconv_command(
        "predict", "model.npz", "batch.npy", "one.npy", cwd=folder)))
    assert list(found) == ["batch.npy[0]", "batch.npy[1]", "batch.npy[2]", "batch.npy[3]",
                           "one.npy"]
    expected = models.load_model(folder / "model.npz").predict(x[:5, ..., None] / 255)
    for (label, probabilities), want in zip(found.values(), expected):
        assert label == want.argmax()
        np.testing.assert_allclose(probabilities, want, atol=6e-5)


def write_pgm(path, image, plain):
    """`image` (uint8, H x W) as a P2 (plain) or P5 (raw) PGM, with a comment line."""
    height, width = image.shape
    header = f"{'P2' if plain else 'P5'}\n# written by test_cli\n{width} {height}\n255\n"
    body = ("\n".join(" ".join(map(str, row)) for row in image).encode() if plain
            else image.tobytes())
    path.write_bytes(header.encode() + body)


def test_predict_pgm_without_pillow_inverts_dark_ink_on_paper(trained, mnist_test_images,
                                                              tmp_path):
    folder, _ = trained
    x, _ = mnist_test_images
    write_pgm(folder / "raw.pgm", 255 - x[5], plain=False)  # dark digit on a light page
    write_pgm(folder / "plain.pgm", x[6], plain=True)
    np.save(folder / "two.npy", x[5:7])
    blocker = tmp_path / "no_pillow"  # `import PIL` fails in the subprocess
    (blocker / "PIL").mkdir(parents=True)
    (blocker / "PIL" / "__init__.py").write_text("raise ImportError('PIL blocked by test')\n")
    found = predictions_printed(succeeded(fastconv_command(
        "predict", "model.npz", "raw.pgm", "plain.pgm", "two.npy", cwd=folder,
        shadowing=blocker)))
    for pgm, npy in (("raw.pgm", "two.npy[0]"), ("plain.pgm", "two.npy[1]")):
        assert found[pgm][0] == found[npy][0]
        np.testing.assert_allclose(found[pgm][1], found[npy][1], atol=2e-4)

    Image = pytest.importorskip("PIL.Image")
    Image.fromarray(x[5]).save(folder / "digit.png")
    process = fastconv_command("predict", "model.npz", "digit.png", cwd=folder,
                               shadowing=blocker)
    assert process.returncode == 2
    assert process.stderr.strip() == (
        'fastconv: error: digit.png: not a .npy or PGM file; reading PNG, JPEG and other '
        'image formats needs Pillow: pip install "fastconv[image]"')


def test_predict_png_and_jpeg_are_resized_to_the_model_input(trained, mnist_test_images):
    Image = pytest.importorskip("PIL.Image")
    folder, _ = trained
    x, _ = mnist_test_images
    # A light page twice MNIST's size, in colour, and black ink on transparent paper: both
    # become the 28x28 white-on-black digit.
    twice = np.ones((2, 2), np.uint8)
    paper = np.kron(255 - x[7], twice)
    Image.fromarray(np.stack([paper] * 3, axis=-1)).save(folder / "big.png")
    Image.fromarray(paper).save(folder / "big.jpg", quality=95)
    ink = np.zeros((56, 56, 4), np.uint8)
    ink[..., 3] = np.kron(x[7], twice)  # opaque where the digit is
    Image.fromarray(ink, "RGBA").save(folder / "ink.png")
    np.save(folder / "digit.npy", x[7])
    found = predictions_printed(succeeded(fastconv_command(
        "predict", "model.npz", "big.png", "big.jpg", "ink.png", "digit.npy", cwd=folder)))
    for name in ("big.png", "ink.png"):
        assert found[name][0] == found["digit.npy"][0]
        np.testing.assert_allclose(found[name][1], found["digit.npy"][1], atol=2e-4)
    assert found["big.jpg"][0] == found["digit.npy"][0]  # lossy, but the same digit


# ------------------------------------------------------------------------ info, bench

def test_info_prints_the_configuration(tmp_path):
    stdout = succeeded(fastconv_command("info", cwd=tmp_path))
    assert stdout.splitlines()[0] == f"fastconv {fastconv.__version__}"
    assert re.search(r"threads:\s+\d+", stdout) and "conv kernel:" in stdout


def test_bench_quick_prints_the_table(tmp_path):
    stdout = succeeded(fastconv_command("bench", "--quick", "--shapes", "pool-24",
                                        "--rounds", 1, cwd=tmp_path))
    rows = [line.split(" | ") for line in stdout.splitlines()
            if line.startswith("| `pool-24`")]
    assert [row[1] for row in rows] == ["forward", "backward"]
    assert all(float(row[3]) > 0 for row in rows), "fastconv ms"


# ------------------------------------------------------------------------ errors

@pytest.fixture(scope="module")
def bad_files(trained):
    """Files for the error paths, in the trained model's folder."""
    folder, _ = trained
    (folder / "corrupt.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "short.pgm").write_bytes(b"P5\n28 28\n255\n" + bytes(100))
    (folder / "header.pgm").write_bytes(b"P2\n# no size\n")
    (folder / "text.png").write_text("not an image")
    np.save(folder / "wrong.npy", np.zeros((3, 5, 5)))
    np.save(folder / "words.npy", np.array(["a", "b"]))
    np.random.seed(0)
    for name, input_shape in (("wide.npz", (32, 32, 1)), ("rgb.npz", (28, 28, 3))):
        model = models.Sequential([layers.Conv2D(2, 3, input_shape=input_shape),
                                   layers.Flatten(), layers.Dense(10, activation="softmax")])
        model.save(folder / name)
    models.Sequential([layers.Dense(3, input_shape=(784,))]).save(folder / "three.npz")
    return folder


ERROR_CASES = {
    "no command": ([], "the following arguments are required: COMMAND"),
    "unknown command": (["fly"], "invalid choice: 'fly'"),
    "bad int": (["train", "--epochs", "two"], "--epochs: a positive integer expected"),
    "zero": (["train", "--limit", "0"], "--limit: a positive integer expected, got '0'"),
    "negative lr": (["train", "--lr", "-1"], "--lr: a positive number expected"),
    "split": (["train", "--validation-split", "1"], "--validation-split: a fraction"),
    "split too small": (["train", "--limit", "1", "--validation-split", "0.5"],
                        "--validation-split: validation_split=0.5 leaves no samples"),
    "model": (["train", "--model", "resnet"], "--model: invalid choice: 'resnet'"),
    "dataset": (["evaluate", "model.npz", "--dataset", "cifar10"], "invalid choice"),
    "unknown option": (["train", "--epoch-count", "3"], "unrecognized arguments"),
    "no files": (["predict", "model.npz"], "required: FILE"),
    "save dir": (["train", "--save", "nowhere/m.npz"], "cannot save the model to"),
    "plots file": (["train", "--plots", "model.npz"], "is a file, not a directory"),
    "missing model": (["evaluate", "absent.npz"], "no model file 'absent.npz'"),
    "corrupt model": (["evaluate", "corrupt.npz"], "not a readable fastconv file"),
    "model is a folder": (["predict", ".", "wrong.npy"], "not a readable fastconv file"),
    "input shape": (["evaluate", "wide.npz", "--limit", "10"],
                    "the model takes 32x32 images, but mnist's images are 28x28"),
    "channels": (["predict", "rgb.npz", "wrong.npy"], "the model takes inputs of shape"),
    "classes": (["evaluate", "three.npz", "--limit", "10"], "outputs shape (3,)"),
    "missing file": (["predict", "model.npz", "absent.png"], "cannot read absent.png"),
    "short pgm": (["predict", "model.npz", "short.pgm"], "truncated PGM"),
    "pgm header": (["predict", "model.npz", "header.pgm"], "no width"),
    "not an image": (["predict", "model.npz", "text.png"], "text.png: not"),
    "npy shape": (["predict", "model.npz", "wrong.npy"], "shape (3, 5, 5) is neither"),
    "npy dtype": (["predict", "model.npz", "words.npy"], "needs a numeric array"),
    "bench option": (["bench", "--shapes", "huge"], "bench: argument --shapes"),
}


@pytest.mark.parametrize("argv, message", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_errors_are_one_line_and_exit_2(bad_files, argv, message):
    process = fastconv_command(*argv, cwd=bad_files)
    assert process.returncode == 2, process.stdout + process.stderr
    assert "Traceback" not in process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastconv: error: "), process.stderr
    assert message in lines[0]


def test_ctrl_c_exits_130_with_one_line(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "fastconv", "train", "--model", "tutorial", "--limit", "20000",
         "--epochs", "50", "--verbose", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONUNBUFFERED="1"))
    try:
        for line in process.stdout:  # the summary is printed just before training starts
            if line.startswith("Total params"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=TIMEOUT_S)
    finally:
        process.kill()
    assert process.returncode == 130, stderr[-2000:]
    assert stderr.splitlines() == ["fastconv: interrupted"]


def test_main_returns_the_exit_code_in_process(capsys):
    from fastconv.cli import main
    assert main(["info"]) == 0
    assert capsys.readouterr().out.startswith("fastconv ")
    assert main(["train", "--epochs", "-3"]) == 2
    assert capsys.readouterr().err.startswith("fastconv: error: argument --epochs")
