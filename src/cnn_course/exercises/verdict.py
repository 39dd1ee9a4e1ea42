"""The engine of the exercise checks: run the student's work, compare, print one verdict.

Two kinds of check share it. A *function check* (:func:`check_function`)
runs the student's function on cases from small to large against the
course's reference; an *answer check* (:func:`check_answer`) compares a
number, a tuple, an array or a word the student worked out by hand, and
:func:`check_parts` does so part by part for an answer of several parts
(a shape, a count and a word...), saying which parts are right. All of them
print one friendly verdict, return True or False, and name the mistake when
the student's work equals a known wrong variant (:func:`recognise`; for
answers, every known mistake that gives the student's answer). An answer
check never prints the expected answer, so it does not give the solution
away; a function check shows the expected output of its smallest failing
case, which shows what to compute, not how.

The checks of each chapter are in ``chapterNN`` modules beside this one,
and ``cnn_course.exercises`` re-exports them all.
"""

import textwrap

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
    "check_parts",
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
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return repr(value.item())  # 0.5, not NumPy 2's np.float64(0.5)
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


def _plain(value):
    """``value`` with NumPy scalars as Python numbers and tuples kept, or None if it holds an array."""
    if isinstance(value, (tuple, list)):
        parts = [_plain(part) for part in value]
        if any(part is None and item is not None for part, item in zip(parts, value)):
            return None
        return tuple(parts) if isinstance(value, tuple) else parts
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    if isinstance(value, np.ndarray):
        return None
    return value


def _show_answer(answer):
    """An answer as the student would write it: a (nested) tuple of numbers and words on one line."""
    plain = _plain(answer) if isinstance(answer, (tuple, list)) else None
    return repr(plain) if plain is not None else show(answer)


def _is_missing(answer):
    return answer is None or answer is Ellipsis


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def _word(text):
    """A word as answers compare it: lower case, without spaces, hyphens and underscores ("One-hot" is "onehot")."""
    return "".join(text.lower().split()).replace("-", "").replace("_", "")


def _numbers(value, squeeze):
    """``value`` as a float array, without its axes of length 1 if ``squeeze``; TypeError/ValueError if it is not numbers."""
    array = np.asarray(value, dtype=float)
    return np.squeeze(array) if squeeze else array


def _answers_equal(expected, answer, rtol=TOLERANCE, atol=TOLERANCE, squeeze=False):
    """True if ``answer`` is ``expected``.

    Words compare without case, spaces, hyphens and underscores; True and
    False only equal a bool (and a bool never equals a number); tuples
    compare item by item; numbers and arrays with ``rtol`` and ``atol``, of
    the same shape (once their axes of length 1 are dropped, if ``squeeze``).
    """
    if isinstance(expected, str):
        return isinstance(answer, str) and _word(answer) == _word(expected)
    if _is_bool(expected):
        return _is_bool(answer) and bool(answer) == bool(expected)
    if isinstance(answer, str) or _is_bool(answer) or _is_missing(answer):
        return False
    if isinstance(expected, tuple):
        return isinstance(answer, (tuple, list)) and len(answer) == len(expected) and all(
            _answers_equal(e, a, rtol, atol, squeeze) for e, a in zip(expected, answer))
    try:
        expected_array, answer_array = _numbers(expected, squeeze), _numbers(answer, squeeze)
    except (TypeError, ValueError):
        return False
    return expected_array.shape == answer_array.shape and bool(np.allclose(answer_array, expected_array, rtol=rtol, atol=atol))


def _named_mistakes(answer, mistakes, is_right, equal):
    """The explanations of the known mistakes that ``answer`` is, in their order and each once.

    ``mistakes`` holds ``(explanation, wrong_answer)`` pairs; a wrong answer
    for which ``is_right(wrong_answer)`` (a mistake that does not show on
    this exercise's data) is skipped, and ``equal(wrong_answer, answer)``
    compares. Several explanations come back when two mistakes give the same
    wrong answer on these data.
    """
    explanations = []
    for explanation, wrong in mistakes:
        if not is_right(wrong) and equal(wrong, answer) and explanation not in explanations:
            explanations.append(explanation)
    return explanations


def _mistake_verdict(name, answer, explanations):
    return (f"{name}: not yet. You answered {_show_answer(answer)}.\n  This looks like a known mistake: "
            + " Or perhaps ".join(explanations))


def _answer_verdict(name, answer, expected=None, mistakes=(), asks="your answer", hint=None, judge=None,
                    rtol=TOLERANCE, atol=TOLERANCE, squeeze=False):
    """``(passed, verdict)`` of :func:`check_answer`, the verdict as text instead of printed."""
    if _is_missing(answer):
        return False, f"{name}: no answer yet. Replace None with {asks}."
    explanations = _named_mistakes(
        answer, mistakes,
        is_right=lambda wrong: expected is not None and _answers_equal(expected, wrong, rtol, atol, squeeze),
        equal=lambda wrong, given: _answers_equal(wrong, given, rtol, atol, squeeze))
    if explanations:
        return False, _mistake_verdict(name, answer, explanations)
    if judge is not None:
        try:
            with np.errstate(all="ignore"):
                problem = judge(answer)
        except Exception as error:  # an answer of the wrong kind: say so, do not crash
            problem = f"it could not be used ({type(error).__name__}: {error}); it must be {asks}."
        if problem is None:
            return True, f"{name}: right. Well done!"
        return False, f"{name}: not yet. You answered {_show_answer(answer)}.\n  {problem}"
    if _answers_equal(expected, answer, rtol, atol, squeeze):
        return True, f"{name}: right. Well done!"
    lines = [f"{name}: not yet. You answered {_show_answer(answer)}, which is not it."]
    form = _form_hint(expected, answer, squeeze)
    if form:
        lines.append("  " + form.replace("{asks}", asks))
    elif hint:
        lines.append("  Hint: " + hint)
    return False, "\n".join(lines)


def check_answer(name, answer, expected=None, mistakes=(), asks="your answer", hint=None, judge=None,
                 rtol=TOLERANCE, atol=TOLERANCE, squeeze=False):
    """Check an answer worked out by hand; print one verdict; return True if it is right.

    The verdict never shows the expected answer. It says that no answer was
    given yet (``answer`` is None), that the answer is right, which known
    mistake it equals, or, failing those, that it is not right yet, with
    what its form should be or ``hint``. When several known mistakes give
    the student's answer (two mistakes can give one number on the
    exercise's data), the verdict names them all: "... Or perhaps ...".
    An answer of several parts, each judged on its own, is for
    :func:`check_parts`.

    Parameters
    ----------
    name : str
        The check's name, printed first.
    answer : object
        The student's answer: a number, a tuple of numbers, an array, a word, True or False.
    expected : object, optional
        The right answer, computed by the course's code (never typed in).
        Numbers and arrays compare with ``rtol``/``atol``; words ignore case,
        spaces, hyphens and underscores; True and False equal only a bool;
        tuples compare item by item.
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
    squeeze : bool
        Compare numbers and arrays without their axes of length 1, so that
        ``[a, b]`` answers an array of shape (1, 2).

    Returns
    -------
    bool
    """
    passed, verdict = _answer_verdict(name, answer, expected, mistakes, asks, hint, judge, rtol, atol, squeeze)
    print(verdict)
    return passed


def _as_parts(answer):
    """The items of a tuple, a list or an array (along its first axis) as a list, or None."""
    if isinstance(answer, (tuple, list)) or (isinstance(answer, np.ndarray) and answer.ndim >= 1):
        return list(answer)
    return None


def _tolerances(options):
    """The comparison options of one part's :func:`check_answer` options."""
    return {"rtol": options.get("rtol", TOLERANCE), "atol": options.get("atol", TOLERANCE),
            "squeeze": options.get("squeeze", False)}


def check_parts(name, answer, parts, asks, mistakes=(), in_order=False):
    """Check an answer of several parts, each as :func:`check_answer` would; print one verdict.

    The answer is a tuple (or a list, or an array: one part per item along
    its first axis) with one value per part. The verdict says that no answer
    was given yet, that the answer has the wrong number of parts, which
    known mistake of the whole answer it is (``mistakes``), that it is
    right, or else which parts are right, followed by the verdict of
    :func:`check_answer` on each part that is not, indented under it, so
    that every wrong part gets its own named mistake, form or hint. No right
    value is shown::

        check_channels_count: not yet. Right: kernel shape.
          parameters: not yet. You answered 51200.
            This looks like a known mistake: the biases are missing: ...

    Parameters
    ----------
    name : str
        The check's name, printed first.
    answer : tuple, list, ndarray or None
        The student's answer, one item per part.
    parts : sequence of (str, dict)
        For each part, in order, its label (printed before its verdict, and
        in the list of right parts) and the keyword arguments of
        :func:`check_answer` for it: ``expected`` (or ``judge``),
        ``mistakes``, ``asks``, ``hint``, ``rtol``, ``atol``, ``squeeze``.
    asks : str
        What the whole answer is, for the verdict on a missing one or one
        with the wrong number of parts.
    mistakes : sequence of (str, object)
        ``(explanation, wrong_answer)`` pairs for mistakes that show in
        several parts at once, each wrong answer one item per part: an
        answer equal to one, part by part with each part's tolerances, is
        told its explanation (all of them when several are equal) instead of
        a verdict per part. A wrong answer whose every part is that part's
        ``expected`` is skipped.
    in_order : bool
        For parts that build on each other (a forward pass, then its loss):
        judge them in order and stop at the first that is not right, saying
        that the parts after it are checked once it is right. A part's
        ``judge`` may then rely on the parts before it being right.

    Returns
    -------
    bool
        True if every part is right.
    """
    if _is_missing(answer):
        print(f"{name}: no answer yet. Replace None with {asks}.")
        return False
    values = _as_parts(answer)
    if values is None or len(values) != len(parts):
        print(f"{name}: not yet. The answer is {len(parts)} values in a tuple: {asks}.")
        return False

    def is_right(wrong):
        items = _as_parts(wrong)
        return items is not None and len(items) == len(parts) and all(
            options.get("expected") is not None and _answers_equal(options["expected"], item, **_tolerances(options))
            for item, (_, options) in zip(items, parts))

    def equal(wrong, given):
        items = _as_parts(wrong)
        return items is not None and len(items) == len(given) and all(
            _answers_equal(item, value, **_tolerances(options)) for item, value, (_, options) in zip(items, given, parts))

    explanations = _named_mistakes(values, mistakes, is_right, equal)
    if explanations:
        print(_mistake_verdict(name, answer, explanations))
        return False
    right, wrong = [], []
    for index, ((label, options), value) in enumerate(zip(parts, values)):
        passed, verdict = _answer_verdict(label, value, **options)
        if passed:
            right.append(label)
            continue
        wrong.append(textwrap.indent(verdict, "  "))
        if in_order:
            if index + 1 < len(parts):
                wrong.append("  The parts after this one are checked once it is right.")
            break
    if not wrong:
        print(f"{name}: right. Well done!")
        return True
    print(f"{name}: not yet." + (f" Right: {', '.join(right)}." if right else "") + "\n" + "\n".join(wrong))
    return False


def _form_hint(expected, answer, squeeze=False):
    """A sentence when the answer has the wrong form (a number for a pair, a shape...), or None."""
    if isinstance(expected, str):
        return None if isinstance(answer, str) else "The answer is a word: {asks}."
    if _is_bool(expected):
        return None if _is_bool(answer) else "The answer is True or False: {asks}."
    if isinstance(expected, tuple):
        if not isinstance(answer, (tuple, list)) or len(answer) != len(expected):
            return f"The answer is {len(expected)} values in a tuple: {{asks}}."
        return None
    expected_shape = np.shape(_numbers(expected, squeeze))
    if isinstance(answer, str) or _is_bool(answer):
        what = "one number" if expected_shape == () else "an array of numbers"
        return f"The answer is {what}, not {'a word' if isinstance(answer, str) else 'True or False'}: {{asks}}."
    try:
        answer_shape = np.shape(_numbers(answer, squeeze))
    except (TypeError, ValueError):
        return "The answer is a number or an array of numbers: {asks}."
    if answer_shape != expected_shape:
        if expected_shape == ():
            return "The answer is one number: {asks}."
        return f"The answer has shape {expected_shape}, yours has shape {answer_shape}: {{asks}}."
    return None
