"""Categorical labels in users' CSV files: state names, integers, declared orders, errors."""

import numpy as np
import pytest

from ckgan import CkganError
from ckgan.states import MAX_STATES
from ckgan.userdata import open_user_data


def write(path, text):
    path.write_text(text)
    return path


def error(call):
    with pytest.raises(CkganError) as e:
        call()
    assert "\n" not in str(e.value)
    return str(e.value)


ROWS = "smoke,age,n\nyes,old,2\nno,young,0\nyes,adult,1\nno,young,2\nno,old,10\n"


def test_state_names_and_integers_read_in_a_documented_order(tmp_path):
    data = open_user_data(write(tmp_path / "p.csv", ROWS))
    assert data.attributes == ("smoke", "age", "n")
    states = data.node_states(["smoke", "age", "n"])
    # names sorted as text; integers in numeric order
    assert states == {
        "smoke": ("no", "yes"),
        "age": ("adult", "old", "young"),
        "n": ("0", "1", "2", "10"),
    }
    np.testing.assert_array_equal(
        data.labels("train", ["smoke", "age", "n"]),
        [[1, 1, 2], [0, 2, 0], [1, 0, 1], [0, 2, 2], [0, 1, 3]],
    )
    # a column's order does not depend on the order of its rows
    shuffled = "smoke,age,n\n" + "".join(reversed(ROWS.splitlines(True)[1:]))
    again = open_user_data(write(tmp_path / "q.csv", shuffled))
    assert again.node_states(["age", "n"]) == {k: states[k] for k in ("age", "n")}


def test_declared_states_set_the_codes(tmp_path):
    data = open_user_data(write(tmp_path / "p.csv", ROWS))
    data.use_states({"age": ("young", "adult", "old"), "smoke": ("yes", "no")})
    assert data.node_states(["age", "smoke"]) == {
        "age": ("young", "adult", "old"),
        "smoke": ("yes", "no"),
    }
    np.testing.assert_array_equal(
        data.labels("train", ["smoke", "age"]), [[0, 2], [1, 0], [0, 1], [1, 0], [1, 2]]
    )
    # integers that name no declared state are codes 0 .. k-1
    ints = open_user_data(write(tmp_path / "i.csv", "age,b\n0,1\n2,0\n1,1\n"))
    ints.use_states({"age": ("young", "adult", "old"), "b": ("yes", "no")})
    np.testing.assert_array_equal(ints.labels("train"), [[0, 1], [2, 0], [1, 1]])


def test_a_value_outside_the_declared_states_names_column_line_and_value(tmp_path):
    data = open_user_data(write(tmp_path / "p.csv", ROWS))
    message = error(lambda: data.use_states({"age": ("young", "old", "ancient")}))
    assert "column 'age'" in message and "line 4 has 'adult'" in message
    assert "not a state of 'age' (young, old, ancient" in message
    message = error(lambda: data.use_states({"n": ("a", "b", "c")}))
    assert "line 6 has '10'" in message and "code 0-2" in message


def test_errors_name_the_column_the_line_and_the_value(tmp_path):
    many = "".join(f"s{i}\n" for i in range(MAX_STATES + 5))
    cases = {
        "a,b\nx,1\n,0\n": "column 'a' of {p} has an empty cell on line 3",
        "a,b\nx,1\n   ,0\n": "column 'a' of {p} has an empty cell on line 3",
        "a,b\n"
        + many.replace(
            "\n", ",1\n"
        ): f"line {MAX_STATES + 2} has 's{MAX_STATES}', distinct value number 33",
        'a,b\nx,1\n"y,z",0\n': "line 3 has 'y,z', which cannot be a state name",
        "a,b\nx,1\nx,0\n": "holds one value only ('x' on every row)",
        "a,b\n0,1\n-1,0\n1,1\n": "mixes codings: line 3 has '-1'",
    }
    for i, (text, expected) in enumerate(cases.items()):
        path = write(tmp_path / f"e{i}.csv", text)
        data = open_user_data(path)
        message = error(lambda data=data: data.labels("train", ["a", "b"]))
        assert expected.format(p=path) in message, (text, message)


def test_binary_spellings_keep_their_coding_and_case(tmp_path):
    # -1/1 and true/false are binary as before; "True" and "true" are one state
    data = open_user_data(write(tmp_path / "b.csv", "a,b,c\n-1,True,yes\n1,maybe,no\n1,false,no\n"))
    states = data.node_states(["a", "b", "c"])
    assert states == {"a": ("0", "1"), "b": ("false", "maybe", "true"), "c": ("no", "yes")}
    np.testing.assert_array_equal(
        data.labels("train", ["a", "b", "c"]), [[0, 2, 1], [1, 1, 0], [1, 0, 0]]
    )


def test_images_get_model_vectors(tmp_path):
    data = open_user_data(write(tmp_path / "p.csv", ROWS))
    assert data.columns == (
        "smoke", "age=adult", "age=old", "age=young", "n=0", "n=1", "n=2", "n=10",
    )  # fmt: skip
    rows = np.arange(5)
    vectors = data._vectors(["smoke", "age", "age=old"], rows)
    np.testing.assert_array_equal(
        vectors,
        [[1, 0, 1, 0, 1], [0, 0, 0, 1, 0], [1, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 1]],
    )
    assert "'ancient' is not a state of column 'age'" in error(
        lambda: data._vectors(["age=ancient"], rows)
    )


def test_declared_names_match_ignoring_case_and_true_false_is_a_name(tmp_path):
    # bnlearn's alarm declares { TRUE, FALSE }: TRUE is the first state, code 0
    data = open_user_data(write(tmp_path / "t.csv", "a,b,c\nTRUE,Yes,1\nFALSE,no,0\nTRUE,yes,1\n"))
    assert data.node_states(["a"]) == {"a": ("0", "1")}  # undeclared: binary as always
    data.use_states({"a": ("TRUE", "FALSE"), "c": ("TRUE", "FALSE")})
    # c's integers are codes: 1 is FALSE
    np.testing.assert_array_equal(data.labels("train", ["a", "c"]), [[0, 1], [1, 0], [0, 1]])
    # "Yes" and "yes" are one state once declared; undeclared they are two
    assert data.node_states(["b"]) == {"b": ("Yes", "no", "yes")}
    data.use_states({"b": ("yes", "no")})
    np.testing.assert_array_equal(data.labels("train", ["b"]).ravel(), [0, 1, 0])
