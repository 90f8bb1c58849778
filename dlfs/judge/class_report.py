"""What the class got wrong in a chapter: per exercise, how many learners passed, and the classic mistakes the
checks recognised, ranked by how many learners made them.

    python3 -m dlfs.judge.class_report 01_linear_regression [--root COURSE] [--db URL]

The grading command writes it after every run (from its report and each learner's verdicts), so it is rarely
run by hand:

    autograder/reports/<chapter>.mistakes.csv   exercise, test_cell, graded, passed, mistake, learners, students
    autograder/reports/<chapter>.html           a page with a chart of the pass counts and the ranked mistakes,
                                                each learner linked to their submission in the Formgrader

A mistake is named by the check that failed (dlfs.judge.verdict): a classic mistake of the chapter's tests (its
explanation, e.g. "average over the batch (divide by N), do not sum."), a telling relation to the expected
values ("transposed", "off by a constant factor"), "returned None", or an exercise not attempted. A test cell
fails at its first failing check, so each learner counts once per test cell. Learners the grader could not grade
(no score) and those with no submission are not counted; an unreadable notebook fails every test, unnamed.
"""

import argparse
import csv
import html
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import nbformat

from dlfs.feedback import exercise_labels
from dlfs.judge import gradebook
from dlfs.judge.submission import test_cells

ROOT = Path(__file__).resolve().parent.parent.parent
HEADER = ["exercise", "test_cell", "graded", "passed", "mistake", "learners", "students"]
UNNAMED = "(no classic mistake recognised)"
FORMGRADER = "../../../formgrader/submissions/{}/"   # from <server>/files/autograder/reports/<chapter>.html


def tally(root, chapter):
    """(graded students, {test: [passed students]}, {test: {mistake: [students]}}, statuses) of a chapter, from its
    grading report and the learners' verdicts."""
    root = Path(root)
    with (root / "autograder" / "reports" / f"{chapter}.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    statuses = Counter(row["status"] for row in rows)
    graded, passed, mistakes = [], defaultdict(list), defaultdict(lambda: defaultdict(list))
    for row in rows:
        verdicts = root / "autograder" / "verdicts" / row["student_id"] / f"{chapter}.json"
        if not row["score"] or not verdicts.is_file():        # missing, or the grader failed: no verdict to count
            continue
        graded.append(row["student_id"])
        for test, verdict in json.loads(verdicts.read_text()).items():
            if verdict["passed"]:
                passed[test].append(row["student_id"])
            else:
                mistakes[test][verdict.get("mistake") or UNNAMED].append(row["student_id"])
    return graded, passed, mistakes, statuses


def ranked(mistakes):
    """[(mistake, students)] most frequent first; the unnamed failures last."""
    return sorted(mistakes.items(), key=lambda item: (item[0] == UNNAMED, -len(item[1]), item[0]))


def write(root, chapter, db_url=None):
    """Write the chapter's class report (CSV and page); returns the page's path."""
    root = Path(root)
    release = nbformat.read(root / "notebooks" / chapter / f"{chapter}.ipynb", as_version=4)
    labels = exercise_labels(release.cells)
    tested = test_cells(release)
    tests = [grade_id for grade_id in labels if grade_id in tested]
    graded, passed, mistakes, statuses = tally(root, chapter)
    reports = root / "autograder" / "reports"
    rows = []
    for test in tests:
        for mistake, students in ranked(mistakes[test]) or [("", [])]:
            rows.append([labels[test], test, len(graded), len(passed[test]), mistake, len(students), " ".join(students)])
    with (reports / f"{chapter}.mistakes.csv").open("w", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    links = _submission_ids(gradebook.url(root, db_url), chapter, graded)
    page = reports / f"{chapter}.html"
    page.write_text(_page(chapter, labels, tests, graded, passed, mistakes, statuses, links))
    return page


def _submission_ids(db_url, chapter, students):
    """{student: the Formgrader's id of their graded notebook}."""
    from nbgrader.api import MissingEntry
    ids = {}
    with gradebook.open_gradebook(db_url) as book:
        for student in students:
            try:
                ids[student] = book.find_submission_notebook(chapter, chapter, student).id
            except MissingEntry:
                pass
    return ids


def _bar_chart(bars, total, width=360):
    """An inline SVG of horizontal bars: [(label, count)] against ``total``."""
    height, rows = 22, []
    for i, (label, count) in enumerate(bars):
        length = width * count / total if total else 0
        y = i * height
        rows.append(f'<text x="0" y="{y + 15}" class="label">{html.escape(label)}</text>'
                    f'<rect x="330" y="{y + 4}" width="{width}" height="14" class="track"/>'
                    f'<rect x="330" y="{y + 4}" width="{length:.1f}" height="14" class="bar"/>'
                    f'<text x="{336 + width}" y="{y + 15}">{count} of {total}</text>')
    return (f'<svg role="img" width="{330 + width + 90}" height="{height * len(bars) + 4}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>')


def _page(chapter, labels, tests, graded, passed, mistakes, statuses, links):
    def learner(student):
        name = html.escape(student)
        return f'<a href="{FORMGRADER.format(links[student])}">{name}</a>' if student in links else name

    total = len(graded)
    named = sorted(((mistake, test, students) for test in tests for mistake, students in mistakes[test].items()
                    if mistake != UNNAMED), key=lambda item: (-len(item[2]), labels[item[1]], item[0]))
    rows = "".join(f"<tr><td>{html.escape(mistake)}</td><td>{html.escape(labels[test])}</td>"
                   f"<td class=count>{len(students)} of {total}</td><td>{', '.join(map(learner, students))}</td></tr>"
                   for mistake, test, students in named)
    details = []
    for test in tests:
        failures = "".join(f"<li>{html.escape(mistake)} — {len(students)} of {total} "
                           f"({', '.join(map(learner, students))})</li>" for mistake, students in ranked(mistakes[test]))
        details.append(f"<h3>{html.escape(labels[test])}: {len(passed[test])} of {total} passed</h3>"
                       f"<ul>{failures or '<li>nobody failed it</li>'}</ul>")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(chapter)}: what the class got wrong</title>
<style>
body {{ font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }}
svg text {{ font-size: 13px; }} svg .track {{ fill: #eee; }} svg .bar {{ fill: #3a7d44; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: .3em .6em; text-align: left;
  vertical-align: top; }} td.count {{ white-space: nowrap; }} .note {{ color: #555; font-size: .9em; }}
</style></head><body>
<h1>{html.escape(chapter)}: what the class got wrong</h1>
<p>{total} learners graded ({html.escape(counts)}).</p>
<p class="note">The learners' names link to their graded notebook in the Formgrader when this page is opened from the
Jupyter server of the course folder (JupyterLab: right-click the file, Open in New Browser Tab). Not counted: learners
who handed nothing in, and those the grader could not grade (no score in the report; grade again). A notebook that
could not be read counts as failing every test, with no mistake named.</p>
<h2>Passed, per exercise</h2>
{_bar_chart([(labels[test], len(passed[test])) for test in tests], total)}
<h2>Classic mistakes, most frequent first</h2>
<table><tr><th>mistake</th><th>exercise</th><th>learners</th><th>who</th></tr>{rows or
 '<tr><td colspan=4>none recognised</td></tr>'}</table>
<h2>Per exercise</h2>
{''.join(details)}
</body></html>
"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m dlfs.judge.class_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("chapter", help="e.g. 01_linear_regression")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder (default: this course)")
    parser.add_argument("--db", help="the gradebook's database URL (default: as the grading command)")
    args = parser.parse_args(argv)
    if not (args.root / "autograder" / "reports" / f"{args.chapter}.csv").is_file():
        raise SystemExit(f"{args.chapter} has not been graded yet: run `python3 -m dlfs grade {args.chapter}` first.")
    print(f"class report: {write(args.root, args.chapter, args.db)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
