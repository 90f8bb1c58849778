"""Answers to try against each chapter's graded tests, kept out of the notebooks.

Each module ``chNN.py`` defines ``TESTS = {answer_id: test_id}`` and ``VARIANTS``: a list of
``(answer_id, label, code, should_pass)``. A wrong variant (a classic mistake, ``should_pass`` False)
must fail its exercise's tests; a correct variant in another style (True) must pass them; no variant
may change the outcome of any other exercise's tests. An obvious wrong answer (``should_pass`` is
``VISIBLE``: zeros, the input unchanged, the transpose, the wrong axis, the wrong shape) must already
fail the *visible* tests, the ones the learner runs before handing in, with a hint; every exercise
has one. ``SINGLE_MISTAKE = (answer_id, code)`` is the one wrong answer of the pipeline test's "one
mistake" submission.
"""

VISIBLE = "fails a visible test"
