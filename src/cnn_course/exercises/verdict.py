"""The engine of the exercise checks: run the student's work, compare, print one verdict.

Two kinds of check share it. A *function check* (:func:`check_function`)
runs the student's function on cases from small to large against the
course's reference; an *answer check* (:func:`check_answer`) compares a
number, a tuple, an array or a word the student worked out by hand. Both
print one friendly verdict, return True or False, and name the mistake when
the student's work equals a known wrong variant (:func:`recognise`). An
answer check never prints the expected answer, so it does not give the
solution away; a function check shows the expected output of its smallest
failing case, which shows what to compute, not how.

The checks of each chapter are in ``chapterNN`` modules beside this one,
and ``cnn_course.exercises`` re-exports them all.
"""

import numpy as np

__all__ = [
    "TOLERANCE",
    "run_case",
    "as_arrays",
    "same",
    "show",
    "shape_hint",
    "is_function",
    "check_function",
    "extra_hint",
    "recognise",
    "check_answer",
]

TOLERANCE = 1e-9  # the cases are float64 with small numbers: only rounding could be this small


def run_case(function, case):
    """Call ``function`` on a copy of the case's arguments; return (result, error, changed_input).

    The arguments are passed by position, in the order of the exercise's
    signature, so a student may name the parameters as they like.
    """
    arguments = {name: np.copy(value) if isinstance(value, np.ndarray) else value for name, value in case.items()}
    try:
        # Overflow in the student's code is reported by the verdict, not as a warning.
        with np.errstate(all="ignore"):
            result = function(*arguments.values())
    except Exception as error:  # the student's code may raise anything: report it, do not crash
        return None, error, None
    changed = [name for name, value in case.items()
               if isinstance(value, np.ndarray) and not np.array_equal(arguments[name], value)]
    return result, None, changed


def as_arrays(result):
    """The result as a tuple of float arrays (a function may return one array or several)."""
    parts = result if isinstance(result, tuple) else (result,)
    return tuple(np.asarray(part, dtype=float) for part in parts)


def same(expected, received):
    """Equal shapes and values up to rounding (NaN equals NaN: the references never give one)."""
    try:
        expected, received = as_arrays(expected), as_arrays(received)
    except (TypeError, ValueError):
        return False
    return len(expected) == len(received) and all(
        e.shape == r.shape and np.allclose(e, r, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True) for e, r in zip(expected, received)
    )


def show(value):
    if isinstance(value, np.ndarray) and value.ndim == 4 and value.size <= 120:
        # (N, H, W, C): one H x W grid per image and channel reads better than NumPy's nesting.
        parts = [f"array of shape {value.shape}, shown as [n, :, :, c] slices:"]
        for n in range(value.shape[0]):
            for c in range(value.shape[3]):
                grid = np.array2string(value[n, :, :, c], precision=4, suppress_small=True, max_line_width=100)
                parts.append(f"      [{n}, :, :, {c}] =")
                parts += ["        " + line for line in grid.splitlines()]
        return "\n".join(parts)
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, suppress_small=True, max_line_width=100, threshold=60)
        return f"array of shape {value.shape}:\n" + "\n".join("      " + line for line in text.splitlines())
    if isinstance(value, tuple):
        return "a tuple of " + str(len(value)) + ":\n" + "\n".join("    - " + show(part) for part in value)
    return repr(value)


def shape_hint(expected, received):
    """A sentence about a wrong shape, or None."""
    try:
        expected, received = as_arrays(expected), as_arrays(received)
    except (TypeError, ValueError):
        return None
    if len(expected) != len(received):
        return f"your function returned {len(received)} value(s); it must return {len(expected)}."
    for index, (e, r) in enumerate(zip(expected, received)):
        if e.shape == r.shape:
            continue
        which = f"value {index + 1} has" if len(expected) > 1 else "the result has"
        if r.shape == e.shape[::-1] and r.ndim == 2:
            return f"{which} shape {r.shape}, the transpose of the {e.shape} it needs."
        if sorted(r.shape) == sorted(e.shape):
            return (f"{which} shape {r.shape} instead of {e.shape}: the same axes in another order. The course "
                    "is channels-last, (N, H, W, C), not channels-first (N, C, H, W).")
        return f"{which} shape {r.shape}; it needs shape {e.shape}."
    return None


def is_function(name, function):
    """True if ``function`` can be called; otherwise print why not (a common slip: passing its result)."""
    if callable(function):
        return True
    print(f"{name}: expected a function, got {type(function).__name__}. Pass the function itself, without ().")
    return False


def check_function(name, function, cases, reference, mistakes, extra_check=None):
    """Run the cases, print one verdict, return True if every case passes.

    ``mistakes`` is a list of ``(explanation, wrong_function)``: a mistake is
    named when the student's results equal the wrong function's on every case
    where the two differ from the reference, and at least on the first failing one.
    """
    if not is_function(name, function):
        return False
    results = []
    failing = None
    for index, case in enumerate(cases):
        expected = reference(**case)
        received, error, changed = run_case(function, case)
        results.append((case, expected, received, error))
        if failing is None and (
            error is not None or received is None or changed
            or not same(expected, received) or extra_hint(extra_check, case, received)
        ):
            failing, changed_at_failure = index, changed
    if failing is None:
        print(f"{name}: all {len(cases)} cases pass. Well done!")
        return True
    case, expected, received, error = results[failing]
    lines = [f"{name}: case {failing + 1} of {len(cases)} fails (the cases run from small to large)."]
    lines += [f"  {argument} = {show(value)}" for argument, value in case.items() if argument != "rng"]
    lines.append(f"  expected: {show(expected)}")
    if error is not None:
        lines.append(f"  your function raised {type(error).__name__}: {error}")
        hint = recognise(results, failing, mistakes)
        if hint:
            lines.append("  " + hint)
    elif received is None:
        lines.append("  your function returned None: is a `return` missing?")
    else:
        lines.append(f"  received: {show(received)}")
        if changed_at_failure:
            lines.append(f"  Your function changed its input {', '.join(changed_at_failure)} in place; work on a copy.")
        hint = extra_hint(extra_check, case, received) or recognise(results, failing, mistakes) or shape_hint(expected, received)
        if hint:
            lines.append("  " + hint)
    print("\n".join(lines))
    return False


def extra_hint(extra_check, case, received):
    """A check's own test of a result (a float where an int belongs, NaN...), or None."""
    if extra_check is None:
        return None
    try:
        return extra_check(case, received)
    except (TypeError, ValueError):  # a result that is not even an array: the comparison reports it
        return None


def recognise(results, failing, mistakes):
    """The explanation of the mistake that the student's results reproduce, or None.

    A wrong function reproduces the student's when, on every case where it
    differs from the reference, both give the same result or raise the same
    error, and the failing case is one of them.
    """
    for explanation, wrong in mistakes:
        agrees, shown = True, False
        for index, (case, expected, received, error) in enumerate(results):
            wrong_result, wrong_error, _ = run_case(wrong, case)
            if wrong_error is None and same(wrong_result, expected):
                continue  # the mistake does not show on this case
            if wrong_error is not None:
                matches = error is not None and (type(error), str(error)) == (type(wrong_error), str(wrong_error))
            else:
                matches = error is None and received is not None and same(wrong_result, received)
            if not matches:
                agrees = False
                break
            shown = shown or index == failing
        if agrees and shown:
            return "This looks like a known mistake: " + explanation
    return None


def _show_answer(answer):
    """An answer as the student would write it: a tuple of numbers on one line."""
    if isinstance(answer, (tuple, list)) and all(np.ndim(part) == 0 for part in answer):
        return repr(tuple(answer)) if isinstance(answer, tuple) else repr(list(answer))
    return show(answer)


def _is_missing(answer):
    return answer is None or answer is Ellipsis


def _answers_equal(expected, answer, rtol, atol):
    """True if ``answer`` is ``expected``: words compared without case and spaces, numbers and arrays with tolerances."""
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
    if isinstance(answer, str) or _is_missing(answer):
        return False
    if isinstance(expected, tuple):
        return isinstance(answer, (tuple, list)) and len(answer) == len(expected) and all(
            _answers_equal(e, a, rtol, atol) for e, a in zip(expected, answer))
    try:
        expected_array, answer_array = np.asarray(expected, dtype=float), np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False
    return expected_array.shape == answer_array.shape and bool(np.allclose(answer_array, expected_array, rtol=rtol, atol=atol))


def check_answer(name, answer, expected=None, mistakes=(), asks="your answer", hint=None, judge=None,
                 rtol=1e-9, atol=1e-9):
    """Check an answer worked out by hand; print one verdict; return True if it is right.

    The verdict never shows the expected answer. It says that no answer was
    given yet (``answer`` is None), that the answer is right, which known
    mistake it equals, or, failing those, that it is not right yet, with
    ``hint``.

    Parameters
    ----------
    name : str
        The check's name, printed first.
    answer : object
        The student's answer: a number, a tuple of numbers, an array, a word.
    expected : object, optional
        The right answer, computed by the course's code (never typed in).
        Numbers and arrays compare with ``rtol``/``atol``; words ignore case
        and surrounding spaces; tuples compare item by item.
    mistakes : sequence of (str, object)
        ``(explanation, wrong_answer)`` pairs: an answer equal to a wrong
        answer is told the explanation. Wrong answers equal to ``expected``
        (a mistake that does not show here) are skipped.
    asks : str
        What the answer is, for the verdict on a missing one ("out[2, 1], a number").
    hint : str, optional
        A nudge for a wrong answer that matches no known mistake.
    judge : callable, optional
        For exercises with many right answers: ``judge(answer)`` returns None
        when the answer is right, or a sentence saying what is wrong with it.
        Used instead of ``expected``.
    rtol, atol : float
        Tolerances for numbers; an answer rounded by hand needs a looser ``rtol``.

    Returns
    -------
    bool
    """
    if _is_missing(answer):
        print(f"{name}: no answer yet. Replace None with {asks}.")
        return False
    for explanation, wrong in mistakes:
        if expected is not None and _answers_equal(expected, wrong, rtol, atol):
            continue
        if _answers_equal(wrong, answer, rtol, atol):
            print(f"{name}: not yet. You answered {_show_answer(answer)}.\n  This looks like a known mistake: {explanation}")
            return False
    if judge is not None:
        try:
            with np.errstate(all="ignore"):
                problem = judge(answer)
        except Exception as error:  # an answer of the wrong kind: say so, do not crash
            problem = f"it could not be used ({type(error).__name__}: {error}); it must be {asks}."
        if problem is None:
            print(f"{name}: right. Well done!")
            return True
        print(f"{name}: not yet. You answered {_show_answer(answer)}.\n  {problem}")
        return False
    if _answers_equal(expected, answer, rtol, atol):
        print(f"{name}: right. Well done!")
        return True
    lines = [f"{name}: not yet. You answered {_show_answer(answer)}, which is not it."]
    form = _form_hint(expected, answer)
    if form:
        lines.append("  " + form.replace("{asks}", asks))
    elif hint:
        lines.append("  Hint: " + hint)
    print("\n".join(lines))
    return False


def _form_hint(expected, answer):
    """A sentence when the answer has the wrong form (a number for a pair, a shape...), or None."""
    if isinstance(expected, str):
        return None if isinstance(answer, str) else "The answer is a word: {asks}."
    if isinstance(expected, tuple):
        if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
            return f"The answer is {len(expected)} values in a tuple: {{asks}}."
        return None
    expected_array = np.asarray(expected)
    try:
        answer_array = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return "The answer is a number or an array of numbers: {asks}."
    if answer_array.shape != expected_array.shape:
        if expected_array.ndim == 0:
            return "The answer is one number: {asks}."
        return f"The answer has shape {expected_array.shape}, yours has shape {answer_array.shape}: {{asks}}."
    return None
