"""The trusted side of grading: what decides a grade, where learner code cannot reach.

    hidden.py   the learner's version of a test cell: every expected value taken out
    verdict.py  compares what the learner's kernel observed with what the reference run expected

Code in this package never imports or calls anything from a learner's kernel: it reads plain records
(numbers, strings, arrays as bytes) and decides. The kernel side is dlfs.grading in "observe" mode.
"""
