"""Users' own label files and image folders: encodings, ignored columns, splits, and every error."""

import numpy as np
import pytest
from fakes.celeba import ATTRIBUTES, write_fake_celeba
from PIL import Image

import ckgan
from ckgan import CkganError
from ckgan.userdata import UserData, open_user_data, read_label_csv


def write(path, text):
    path.write_text(text)
    return path


def error(path, **options):
    with pytest.raises(CkganError) as e:
        open_user_data(path, **options)
    assert "\n" not in str(e.value)
    return str(e.value)


def test_encodings_ignored_columns_and_node_order(tmp_path):
    csv = write(
        tmp_path / "faces.csv",
        "id,a,b,c,note\n101,0,-1,true,hello\n102,1,1, FALSE ,\n103, 1 ,-1,True,x\n104,0,1,false,\n",
    )
    data = ckgan.load_dataset(csv)
    assert isinstance(data, UserData)
    assert data.name == "faces" and data.truth is None and not data.has_images
    # "id" holds 4 integers: a label if a graph asks for it; "note" has an empty cell
    assert data.attributes == ("id", "a", "b", "c")
    assert data.node_states(["id", "a"]) == {"id": ("101", "102", "103", "104"), "a": ("0", "1")}
    labels = data.labels("train", ["c", "a", "b"])
    assert labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, [[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(data.labels()[:, 1:], labels[:, [1, 2, 0]])
    ds = data.tf_dataset("train", ["b"], images=False, batch_size=4)
    np.testing.assert_array_equal(next(iter(ds)).numpy(), [[0], [1], [0], [1]])
    with pytest.raises(CkganError, match="has no images"):
        data.tf_dataset("train", ["b"])


def test_semicolons_tabs_and_a_byte_order_mark(tmp_path):
    semi = write(tmp_path / "s.csv", "\ufeffx;y\n1;0\n0;1\n")
    tabs = write(tmp_path / "t.csv", "x\ty\n1\t0\n0\t1\n")
    for path in (semi, tabs):
        np.testing.assert_array_equal(
            open_user_data(path).labels("train", ["y", "x"]), [[0, 1], [1, 0]]
        )


def test_a_missing_node_names_the_column_and_the_file(tmp_path):
    csv = write(tmp_path / "l.csv", "a,b\n0,1\n")
    data = open_user_data(csv)
    with pytest.raises(CkganError) as e:
        data.labels("train", ["a", "Smiling"])
    assert "'Smiling'" in str(e.value) and str(csv) in str(e.value) and "a, b" in str(e.value)


def test_a_bad_column_is_an_error_only_when_asked_for(tmp_path):
    csv = write(tmp_path / "l.csv", "a,score,filename2\n1,0,x.png\n0,1,y.png\n1,,z.png\n0,yes,w\n")
    data = open_user_data(csv)
    assert data.attributes == ("a", "filename2")
    np.testing.assert_array_equal(data.labels("train", ["a"]).ravel(), [1, 0, 1, 0])
    with pytest.raises(CkganError) as e:
        data.labels("train", ["a", "score"])
    message = str(e.value)
    assert "'score'" in message and "empty cell on line 4" in message and str(csv) in message


def test_missing_empty_and_headerless_files(tmp_path):
    message = error(tmp_path / "nope.csv")
    assert "no such file" in message and "nope.csv" in message
    with pytest.raises(CkganError, match="no such file"):
        ckgan.load_dataset(tmp_path / "nope.csv")
    assert "no such file or folder" in error(tmp_path / "nope")
    assert "is empty" in error(write(tmp_path / "empty.csv", ""))
    assert "is empty" in error(write(tmp_path / "blank.csv", "\n  \n"))
    message = error(write(tmp_path / "data.csv", "0,1,1\n1,0,0\n"))
    assert "no header" in message and "'0,1,1'" in message
    assert "no rows" in error(write(tmp_path / "header.csv", "a,b\n"))
    assert "twice" in error(write(tmp_path / "dup.csv", "a,b,a\n0,1,0\n"))
    message = error(write(tmp_path / "ragged.csv", "a,b\n0,1\n1\n"))
    assert "line 3" in message and "1 fields" in message
    assert open_user_data(write(tmp_path / "trailing.csv", "a,b\n0,1,\n1,0,\n")).labels().shape == (
        2,
        2,
    )
    assert "unknown option 'sed'" in error(write(tmp_path / "ok.csv", "a\n1\n"), sed=1)


def test_a_split_column(tmp_path):
    csv = write(
        tmp_path / "l.csv",
        "a,split\n1,train\n0,Test\n1,validation\n0,train\n1, test\n",
    )
    data = open_user_data(csv)
    assert data.attributes == ("a",)
    np.testing.assert_array_equal(data.labels("train").ravel(), [1, 0])
    np.testing.assert_array_equal(data.labels("validation").ravel(), [1])
    np.testing.assert_array_equal(data.labels("test").ravel(), [0, 1])
    with pytest.raises(CkganError, match="names files or splits"):
        data.labels("train", ["split"])
    message = error(write(tmp_path / "bad.csv", "a,split\n1,train\n0,dev\n"))
    assert "line 3" in message and "'dev'" in message and "validation" in message


def test_seeded_splits_are_deterministic(tmp_path):
    rows = "".join(f"{i},{i % 2},{(i // 2) % 2}\n" for i in range(50))
    csv = write(tmp_path / "l.csv", "id,a,b\n" + rows)

    def splits(seed):
        data = open_user_data(csv, seed=seed)
        return [data._rows(s) for s in ("train", "validation", "test")]

    first = splits(0)
    assert [len(r) for r in first] == [40, 5, 5]
    assert sorted(np.concatenate(first)) == list(range(50))
    assert all(np.array_equal(x, y) for x, y in zip(first, splits(0), strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(first, splits(1), strict=True))
    small = open_user_data(write(tmp_path / "small.csv", "a\n1\n0\n1\n"))
    assert small.labels("train").shape == (3, 1)
    assert small.labels("validation").shape == (0, 1) and small.labels("test").shape == (0, 1)
    with pytest.raises(CkganError, match="unknown split"):
        small.labels("dev")


def stripes(width, height):
    """Red, green and blue thirds from left to right (or top to bottom when tall)."""
    image = np.zeros((height, width, 3), np.uint8)
    if width >= height:
        for i in range(3):
            image[:, i * width // 3 : (i + 1) * width // 3, i] = 255
    else:
        for i in range(3):
            image[i * height // 3 : (i + 1) * height // 3, :, i] = 255
    return image


def test_a_folder_of_images_with_a_csv(tmp_path):
    folder = tmp_path / "shots"
    (folder / "img").mkdir(parents=True)
    names = []
    for i, (w, h) in enumerate([(60, 20), (20, 60), (90, 30), (30, 90), (45, 15)]):
        names.append(f"img/{i}.png")
        Image.fromarray(stripes(w, h)).save(folder / names[-1])
    write(
        folder / "labels.csv",
        "filename,smile,glasses,split\n"
        + "".join(
            f"{n},{i % 2},{int(i < 2)},{'test' if i == 4 else 'train'}\n"
            for i, n in enumerate(names)
        ),
    )
    data = ckgan.load_dataset(folder)
    assert data.name == "shots" and data.has_images and data.attributes == ("smile", "glasses")
    images, labels = zip(
        *[
            (x.numpy(), y.numpy())
            for x, y in data.tf_dataset("train", ["glasses", "smile"], size=32)
        ],
        strict=True,
    )
    images, labels = np.stack(images), np.stack(labels)
    assert images.shape == (4, 32, 32, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(labels, [[1, 0], [1, 1], [0, 0], [0, 1]])
    # The centre square of each stripe image is its green third.
    np.testing.assert_allclose(images[..., 1], 1.0, atol=1e-5)
    np.testing.assert_allclose(images[..., [0, 2]], -1.0, atol=1e-5)
    batch = next(iter(data.tf_dataset("test", batch_size=8, shuffle=True, augment=True, seed=0)))
    assert batch[0].shape == (1, 64, 64, 3) and batch[1].shape == (1, 2)
    with pytest.raises(CkganError, match="no image size 100"):
        data.tf_dataset("train", size=100)

    (folder / "img" / "3.png").unlink()
    with pytest.raises(CkganError) as e:
        data.tf_dataset("train")
    assert "'img/3.png'" in str(e.value) and "line 5" in str(e.value)
    write(folder / "other.csv", "a\n1\n")
    assert "several CSV files" in error(folder)
    assert "holds no CSV" in error(tmp_path / "shots" / "img")


def test_image_dir_option(tmp_path):
    (tmp_path / "pics").mkdir()
    Image.fromarray(stripes(30, 30)).save(tmp_path / "pics" / "a.png")
    csv = write(tmp_path / "l.csv", "filename,x\na.png,1\n")
    assert "image folder" in error(csv, image_dir=tmp_path / "nowhere")
    data = open_user_data(csv, image_dir=tmp_path / "pics")
    image, label = next(iter(data.tf_dataset("train", size=32)))
    assert image.shape == (32, 32, 3) and label.numpy().tolist() == [1.0]


def test_a_celeba_format_folder(tmp_path):
    written = write_fake_celeba(tmp_path / "mine", n=12, zipped=False)
    data = open_user_data(tmp_path / "mine")
    assert data.attributes == tuple(ATTRIBUTES) and data.has_images
    expected = (written["values"][written["partition"] == 1][:, [20, 31]] + 1) // 2
    np.testing.assert_array_equal(data.labels("validation", ["Male", "Smiling"]), expected)
    assert [len(data.labels(s)) for s in ("train", "validation", "test")] == [8, 2, 2]
    images = [x.numpy() for x, _ in data.tf_dataset("test", ["Male"], size=32)]
    assert len(images) == 2 and images[0].shape == (32, 32, 3)
    # The attribute file alone: a seeded split, images looked for beside it.
    (tmp_path / "mine" / "list_eval_partition.txt").unlink()
    data = open_user_data(tmp_path / "mine" / "list_attr_celeba.txt")
    assert data.name == "list_attr_celeba" and len(data.labels("train")) == 10
    message = error(write(tmp_path / "bad.txt", "2\na b\nx.jpg 1 -1\ny.jpg 1\n"))
    assert "line 4" in message and "1 values" in message


def test_csv_reader_edge_cases_are_errors(tmp_path):
    # Once an AssertionError and a csv.Error with tracebacks.
    assert "no line naming the columns" in error(write(tmp_path / "q.csv", '""\n""\n'))
    message = error(write(tmp_path / "big.csv", "a\n" + "x" * 200_000 + "\n"))
    assert "line 2" in message and "not valid CSV" in message and "field limit" in message
    # Found by tests/test_fuzz_readers.py: a CelebA-format file naming one
    # attribute twice kept the last column; a column name with a newline in
    # it made a two-line message.
    message = error(write(tmp_path / "dup.txt", "1\na b a\nx.jpg 1 -1 1\n"))
    assert message.endswith("names column 'a' twice in its header; rename one")
    table = read_label_csv(write(tmp_path / "nl.csv", '"a\nb",c\n2,1\n'))
    with pytest.raises(CkganError, match=r"column 'a\\nb' of .* holds one value only") as e:
        table.matrix(["a\nb"])
    assert "\n" not in str(e.value)
    folder = tmp_path / "f.csv"
    folder.mkdir()
    with pytest.raises(CkganError, match="is a folder, not a file"):
        read_label_csv(folder)


def test_header_found_after_blank_lines_and_crlf(tmp_path):
    csv = write(tmp_path / "l.csv", "\n  \na;b\r\n1;0\r\n")
    np.testing.assert_array_equal(open_user_data(csv).labels("train", ["a", "b"]), [[1, 0]])


@pytest.mark.parametrize(
    "rows, line, value",
    [
        ("0\n-1\n1\n", 3, "-1"),
        ("-1\n1\n0\n", 4, "0"),
        ("1\ntrue\n", 3, "true"),
        ("false\n0\n", 3, "0"),
        ("+1\n0\n", 3, "0"),
    ],
)
def test_a_column_keeps_to_one_coding(tmp_path, rows, line, value):
    """#12 item 14: -1 next to 0 was read as 0 and 0; now an error naming column, line, value."""
    path = write(tmp_path / "l.csv", "a,ok\n" + rows.replace("\n", ",1\n"))
    table = read_label_csv(path)
    assert table.attributes == ("ok",)
    with pytest.raises(CkganError) as e:
        table.matrix(["a"])
    message = str(e.value)
    assert "\n" not in message
    assert "column 'a'" in message and f"line {line} has '{value}'" in message
    assert "one of 0/1, -1/1 or true/false" in message


def test_an_unreadable_label_file(tmp_path, monkeypatch):
    path = write(tmp_path / "l.csv", "a\n1\n")

    def denied(self):  # the tests run as root, where chmod 000 does not stop a read
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "read_bytes", denied)
    assert error(path).endswith("l.csv: Permission denied")
