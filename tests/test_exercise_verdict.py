"""cnn_course.exercises.verdict.check_answer: the verdicts on a hand-worked answer, and what they never show."""

import numpy as np
import pytest

from cnn_course.exercises import verdict


def answer_verdict(capsys, answer, **options):
    options.setdefault("expected", 2)
    passed = verdict.check_answer("check_example", answer, asks="out[2, 1], a number", **options)
    return passed, capsys.readouterr().out


def test_a_missing_answer_says_what_is_asked(capsys):
    passed, text = answer_verdict(capsys, None)
    assert passed is False
    assert text == "check_example: no answer yet. Replace None with out[2, 1], a number.\n"


@pytest.mark.parametrize("answer", [2, 2.0, np.int64(2), np.array(2.0)])
def test_the_right_answer_passes_in_any_numeric_form(capsys, answer):
    passed, text = answer_verdict(capsys, answer)
    assert passed is True
    assert text == "check_example: right. Well done!\n"


def test_a_known_mistake_is_named_without_showing_the_answer(capsys):
    passed, text = answer_verdict(capsys, 6, mistakes=[("the -1 is read as +1.", 6)], hint="row by row")
    assert passed is False
    assert "known mistake: the -1 is read as +1." in text
    assert "2" not in text.replace("[2, 1]", "")  # the expected answer is never printed
    assert "row by row" not in text


def test_an_unknown_wrong_answer_gets_the_hint(capsys):
    passed, text = answer_verdict(capsys, 5, mistakes=[("the -1 is read as +1.", 6)], hint="row by row")
    assert passed is False
    assert "You answered 5, which is not it." in text and "Hint: row by row" in text


def test_a_mistake_equal_to_the_answer_is_skipped(capsys):
    passed, _ = answer_verdict(capsys, 2, mistakes=[("a mistake that gives the same number here.", 2)])
    assert passed is True


@pytest.mark.parametrize(
    "expected, answer, words",
    [
        (2, (2, 1), "The answer is one number"),
        ((24, 24), 24, "2 values in a tuple"),
        (np.zeros((3, 3)), np.zeros((2, 2)), "shape (3, 3), yours has shape (2, 2)"),
        ("max", 3, "The answer is a word"),
        (2, "two", "a number or an array of numbers"),
    ],
)
def test_an_answer_of_the_wrong_form_is_told_the_form(capsys, expected, answer, words):
    passed, text = answer_verdict(capsys, answer, expected=expected)
    assert passed is False
    assert words in text


def test_tolerances_accept_an_answer_rounded_by_hand(capsys):
    assert verdict.check_answer("check_example", 0.436, expected=0.43621, rtol=1e-2)
    assert not verdict.check_answer("check_example", 0.436, expected=0.43621)
    capsys.readouterr()


def test_words_ignore_case_and_spaces(capsys):
    assert verdict.check_answer("check_example", "  Max ", expected="max")
    capsys.readouterr()


def test_a_judge_decides_open_answers_and_its_errors_become_a_verdict(capsys):
    def judge(kernel):
        kernel = np.asarray(kernel, dtype=float)
        if kernel.shape != (3, 3):
            raise ValueError(f"shape {kernel.shape}")
        return None if np.array_equal(kernel, kernel[::-1, ::-1]) else "it changes when turned by 180 degrees."

    assert verdict.check_answer("check_example", [[1, 2, 1], [0, 5, 0], [1, 2, 1]], judge=judge, asks="a 3 x 3 kernel")
    assert not verdict.check_answer("check_example", np.eye(3)[::-1] + np.eye(3) * 0 + [[1, 0, 0], [0, 0, 0], [0, 0, 0]],
                                    judge=judge, asks="a 3 x 3 kernel")
    assert not verdict.check_answer("check_example", [1, 2], judge=judge, asks="a 3 x 3 kernel")
    text = capsys.readouterr().out
    assert "right. Well done!" in text
    assert "turned by 180 degrees" in text
    assert "it could not be used (ValueError: shape (2,)); it must be a 3 x 3 kernel." in text
