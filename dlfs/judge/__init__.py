"""The trusted side of grading: what decides a grade, where learner code cannot reach.

    hidden.py   the learner's version of a test cell: every expected value taken out
    verdict.py  compares what the learner's kernel observed with what the reference run expected
    kernel.py, sandbox.py, submission.py   run a submission's cells in a sandboxed kernel; read what was handed in
    grade.py    the grading command; cluster.py runs it on Dask; gradebook.py writes nbgrader's gradebook
    class_report.py   what the class got wrong: pass counts and classic mistakes per exercise
    check.py    a learner's own notebook graded as the class is

Code in this package never imports or calls anything from a learner's kernel: it reads plain records
(numbers, strings, arrays as bytes) and decides. The kernel side is dlfs.grading in "observe" mode.
"""
