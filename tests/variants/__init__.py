"""Answers to try against each chapter's graded tests, kept out of the notebooks.

Each module ``chNN.py`` defines ``TESTS = {answer_id: test_id}`` and ``VARIANTS``: a list of
``(answer_id, label, code, should_pass)``. A wrong variant (a classic mistake) must fail its
exercise's tests; a correct variant in another style must pass them; no variant may change the
outcome of any other exercise's tests. ``SINGLE_MISTAKE = (answer_id, code)`` is the one wrong
answer of the pipeline test's "one mistake" submission.
"""
