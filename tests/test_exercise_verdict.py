"""cnn_course.exercises.verdict: the verdicts on a hand-worked answer, whole or part by part, and what they never show."""

import numpy as np
import pytest

from cnn_course.exercises import verdict


@pytest.fixture
def answer_verdict(run_check):
    """``(passed, text)`` of check_answer on an answer to "out[2, 1], a number" (expected 2 unless given)."""
    def verdict_on(answer, **options):
        options.setdefault("expected", 2)
        return run_check(verdict.check_answer, "check_example", answer, asks="out[2, 1], a number", **options)
    return verdict_on


def test_a_missing_answer_says_what_is_asked(answer_verdict):
    passed, text = answer_verdict(None)
    assert passed is False
    assert text == "check_example: no answer yet. Replace None with out[2, 1], a number.\n"


@pytest.mark.parametrize("answer", [2, 2.0, np.int64(2), np.array(2.0)])
def test_the_right_answer_passes_in_any_numeric_form(answer_verdict, answer):
    passed, text = answer_verdict(answer)
    assert passed is True
    assert text == "check_example: right. Well done!\n"


def test_a_known_mistake_is_named_without_showing_the_answer(answer_verdict):
    passed, text = answer_verdict(6, mistakes=[("the -1 is read as +1.", 6)], hint="row by row")
    assert passed is False
    assert "known mistake: the -1 is read as +1." in text
    assert "2" not in text.replace("[2, 1]", "")  # the expected answer is never printed
    assert "row by row" not in text


def test_an_unknown_wrong_answer_gets_the_hint(answer_verdict):
    passed, text = answer_verdict(5, mistakes=[("the -1 is read as +1.", 6)], hint="row by row")
    assert passed is False
    assert "You answered 5, which is not it." in text and "Hint: row by row" in text


def test_a_mistake_equal_to_the_answer_is_skipped(answer_verdict):
    passed, _ = answer_verdict(2, mistakes=[("a mistake that gives the same number here.", 2)])
    assert passed is True


@pytest.mark.parametrize(
    "expected, answer, words",
    [
        (2, (2, 1), "The answer is one number"),
        ((24, 24), 24, "2 values in a tuple"),
        (np.zeros((3, 3)), np.zeros((2, 2)), "shape (3, 3), yours has shape (2, 2)"),
        ("max", 3, "The answer is a word"),
        (2, "two", "The answer is one number, not a word"),
        (2, True, "The answer is one number, not True or False"),
        (np.zeros(2), "0, 0", "The answer is an array of numbers, not a word"),
        (2, {"x": 2}, "a number or an array of numbers"),
        (True, 1, "The answer is True or False"),
    ],
)
def test_an_answer_of_the_wrong_form_is_told_the_form(answer_verdict, expected, answer, words):
    passed, text = answer_verdict(answer, expected=expected)
    assert passed is False
    assert words in text


def test_tolerances_accept_an_answer_rounded_by_hand(capsys):
    assert verdict.check_answer("check_example", 0.436, expected=0.43621, rtol=1e-2)
    assert not verdict.check_answer("check_example", 0.436, expected=0.43621)
    capsys.readouterr()


@pytest.mark.parametrize("answer", ["  Max ", "MAX", "one-hot", "One Hot", "one_hot", "onehot"])
def test_words_ignore_case_spaces_hyphens_and_underscores(run_check, answer):
    expected = "max" if answer.strip().lower() == "max" else "one-hot"
    assert run_check(verdict.check_answer, "check_example", answer, expected=expected)[0] is True
    assert run_check(verdict.check_answer, "check_example", answer, expected="min")[0] is False


def test_true_and_false_only_equal_a_bool(run_check):
    assert run_check(verdict.check_answer, "check_example", np.bool_(True), expected=True)[0] is True
    for answer in (1, 1.0, "True"):
        assert run_check(verdict.check_answer, "check_example", answer, expected=True)[0] is False
    assert run_check(verdict.check_answer, "check_example", True, expected=1)[0] is False


def test_squeeze_lets_a_list_answer_a_row(run_check):
    row = np.array([[-1.0, 3.0]])
    assert run_check(verdict.check_answer, "check_example", [-1, 3], expected=row, squeeze=True)[0] is True
    passed, text = run_check(verdict.check_answer, "check_example", [-1, 3], expected=row, asks="z")
    assert passed is False and "The answer has shape (1, 2), yours has shape (2,): z." in text


def test_mistakes_with_the_same_wrong_answer_are_named_together(answer_verdict):
    mistakes = [("the -1 is read as +1.", 6), ("the weights are left out.", 6.0), ("the -1 is read as +1.", 6),
                ("the kernel is flipped.", 4)]
    passed, text = answer_verdict(6, mistakes=mistakes)
    assert passed is False
    assert text == ("check_example: not yet. You answered 6.\n  This looks like a known mistake: the -1 is read as +1. "
                    "Or perhaps the weights are left out.\n")
    passed, text = answer_verdict(4, mistakes=mistakes)
    assert "known mistake: the kernel is flipped.\n" in text and "Or perhaps" not in text


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


# --- check_parts: an answer of several parts ------------------------------------------------------

PARTS = [
    ("shape", dict(expected=(3, 3), asks="the shape, a tuple", hint="count the rows.",
                   mistakes=[("that is the input's shape.", (5, 5))])),
    ("count", dict(expected=12, asks="the count, a number", hint="add them up.",
                   mistakes=[("the bias is missing.", 9), ("the channels are missing.", 9)])),
    ("word", dict(expected="same", asks='"same" or "valid"', mistakes=[("that is without padding.", "valid")])),
]
RIGHT_PARTS = ((3, 3), 12, "same")


def parts_verdict(run_check, answer, **options):
    return run_check(verdict.check_parts, "check_example", answer, PARTS, "(shape, count, word)", **options)


def test_parts_right_answer_passes_in_any_sequence(run_check):
    for answer in (RIGHT_PARTS, list(RIGHT_PARTS), ([3, 3], 12.0, " Same")):
        assert parts_verdict(run_check, answer) == (True, "check_example: right. Well done!\n")


def test_parts_missing_answer_or_wrong_number_of_parts(run_check):
    assert parts_verdict(run_check, None) == (False, "check_example: no answer yet. Replace None with (shape, count, word).\n")
    for answer in (12, RIGHT_PARTS[:2], "same"):
        passed, text = parts_verdict(run_check, answer)
        assert passed is False and text == "check_example: not yet. The answer is 3 values in a tuple: (shape, count, word).\n"


def test_parts_each_wrong_part_gets_its_own_verdict_and_no_right_value_is_shown(run_check):
    passed, text = parts_verdict(run_check, ((5, 5), 11, "same"))
    assert passed is False
    assert text == ("check_example: not yet. Right: word.\n"
                    "  shape: not yet. You answered (5, 5).\n"
                    "    This looks like a known mistake: that is the input's shape.\n"
                    "  count: not yet. You answered 11, which is not it.\n"
                    "    Hint: add them up.\n")
    passed, text = parts_verdict(run_check, ((3, 3), 9, None))
    assert "Right: shape.\n" in text and "known mistake: the bias is missing. Or perhaps the channels are missing." in text
    assert "  word: no answer yet. Replace None with \"same\" or \"valid\"." in text
    assert "12" not in text and "(3, 3)" not in text


def test_parts_in_order_stop_at_the_first_wrong_part(run_check):
    passed, text = parts_verdict(run_check, ((3, 3), 11, "valid"), in_order=True)
    assert passed is False
    assert text == ("check_example: not yet. Right: shape.\n"
                    "  count: not yet. You answered 11, which is not it.\n"
                    "    Hint: add them up.\n"
                    "  The parts after this one are checked once it is right.\n")
    passed, text = parts_verdict(run_check, ((3, 3), 12, "valid"), in_order=True)
    assert "known mistake: that is without padding." in text and "checked once it is right" not in text


def test_parts_a_mistake_of_the_whole_answer_is_named_first(run_check):
    mistakes = [("both are from the input.", ((5, 5), 25, "same")), ("a mistake that gives the right answer.", RIGHT_PARTS),
                ("the same, said again.", [[5, 5], 25.0, "SAME"])]
    passed, text = parts_verdict(run_check, ((5, 5), 25, "same"), mistakes=mistakes)
    assert passed is False and text == ("check_example: not yet. You answered ((5, 5), 25, 'same').\n"
                                        "  This looks like a known mistake: both are from the input. Or perhaps the same, "
                                        "said again.\n")
    assert parts_verdict(run_check, RIGHT_PARTS, mistakes=mistakes)[0] is True


def test_parts_of_an_array_answer_are_its_rows_with_each_parts_options(run_check):
    parts = [(f"row {i}", dict(expected=np.array([i, 2.0 * i]), rtol=0.01, asks="two numbers")) for i in range(2)]
    assert run_check(verdict.check_parts, "check_rows", np.array([[0, 0], [1, 2.01]]), parts, "two rows")[0] is True
    passed, text = run_check(verdict.check_parts, "check_rows", np.array([[0, 0], [1, 2.1]]), parts, "two rows")
    assert passed is False and text.startswith("check_rows: not yet. Right: row 0.\n  row 1: not yet.")


def test_parts_a_part_may_have_a_judge(run_check):
    parts = [("even", dict(judge=lambda n: None if n % 2 == 0 else "it is odd.", asks="an even number")),
             ("odd", dict(judge=lambda n: None if n % 2 == 1 else "it is even.", asks="an odd number"))]
    assert run_check(verdict.check_parts, "check_judged", (4, 7), parts, "(even, odd)")[0] is True
    passed, text = run_check(verdict.check_parts, "check_judged", (4, "7"), parts, "(even, odd)")
    assert passed is False and "  odd: not yet. You answered '7'.\n    it could not be used (TypeError" in text
