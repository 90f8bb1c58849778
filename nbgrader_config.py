"""nbgrader configuration for the course. Run nbgrader commands from this directory.

    solutions/<assignment>/       nbgrader source (instructor version; built by `python3 -m dlfs release`)
    notebooks/<assignment>/       the release learners get (generated; committed)
    autograder/submitted/<student>/<assignment>/   collected submissions      (ignored by git)
    autograder/autograded/...     autograded copies                           (ignored by git)
    autograder/feedback/...       feedback HTML                               (ignored by git)
    autograder/gradebook.db       the SQLite gradebook, unless $DLFS_GRADEBOOK names a database server
    autograder/class.json         a class's course id and exchange (python3 -m dlfs class-env; CLASSROOM.md)
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)
here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "dlfs"
c.CourseDirectory.root = here
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = os.path.join("autograder", "submitted")
c.CourseDirectory.autograded_directory = os.path.join("autograder", "autograded")
c.CourseDirectory.feedback_directory = os.path.join("autograder", "feedback")
c.CourseDirectory.solution_directory = os.path.join("autograder", "solution")
sys.path.insert(0, here)
# The gradebook: autograder/gradebook.db, or the database server $DLFS_GRADEBOOK names (postgresql://...), the one
# python3 -m dlfs grade writes to (dlfs/judge/gradebook.py).
from dlfs.judge.gradebook import url as gradebook_url  # noqa: E402

c.CourseDirectory.db_url = gradebook_url(here)
# A class on a shared server: `python3 -m dlfs class-env` keeps the course id and exchange folder it gave the
# learners' environment in autograder/class.json, so that release, collect and feedback use the same (CLASSROOM.md).
from dlfs.classenv import class_settings  # noqa: E402

CLASS = class_settings(here)
if CLASS is not None:
    c.CourseDirectory.course_id = CLASS["course_id"]
    c.Exchange.root = CLASS["exchange"]
# The text sources (*.pct.py) stay out of the release and of the autograded copies.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.pct.py"]

# Seconds per cell: a looping answer is interrupted and only the cells that need it lose points.
c.Execute.timeout = 60  # nbgrader's ExecutePreprocessor
# Widgets: keep the static figure each widget leaves behind instead of a widget view that
# feedback HTML (which loads no widget script) would render as nothing.
c.Execute.store_widget_state = False

# Feedback HTML must not show the hidden tests (stock nbgrader would): see dlfs/feedback.py.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from dlfs.feedback import TEMPLATES, MATHJAX_CONFIG, FeedbackExporter, HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# Releasing chapter k hands out the earlier chapters' solutions (its provided/): the release step (nbgrader
# release_assignment, the Formgrader's release button) warns while one of them is not yet due (dlfs/classroom.py).
c.ExchangeFactory.release_assignment = "dlfs.classroom.ReleaseAssignment"
# A submission handed in under another learner's name (nbgrader submit --student=bob) is not collected (dlfs/classroom.py).
c.ExchangeFactory.collect = "dlfs.classroom.CollectAssignment"
# nbgrader export: a status column; chapters not yet released left out; no submission is "missing", not a 0.
c.ExportApp.plugin_class = "dlfs.classroom.GradesExport"
# Stock autograde: no "checksum has changed" warning for an untouched test cell (nbgrader issue 1961), only for a
# cell a learner changed (dlfs/classroom.py).
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteKernelspec  # noqa: E402

from dlfs.classroom import OverwriteCells  # noqa: E402

c.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                      CheckCellMetadata]
# nbgrader's API makes SQLAlchemy warn "Object of type <SubmittedAssignment> not in session" whenever it creates a
# submission (autograde of a new learner): it says nothing about the grades, so it is silenced in every nbgrader
# command, as dlfs/judge/gradebook.py does for the grading command.
import warnings  # noqa: E402

from sqlalchemy.exc import SAWarning  # noqa: E402

warnings.filterwarnings("ignore", category=SAWarning, message=".*not in session.*")
# ... names each score after its exercise (dlfs/templates/dlfs_feedback extends nbgrader's page) ...
import nbgrader  # noqa: E402

# (FeedbackExporter, not HTMLExporter: the formgrader renders submissions with an HTMLExporter of its own.)
c.FeedbackExporter.template_name = "dlfs_feedback"
c.FeedbackExporter.template_file = "scores_by_exercise.html.j2"
NBGRADER_TEMPLATES = os.path.join(os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "templates")
c.FeedbackExporter.extra_template_basedirs = [NBGRADER_TEMPLATES, TEMPLATES]
# ... and renders maths offline: feedback loads MathJax from autograder/mathjax/ (a copy of the installed
# jupyter-server-mathjax, made by the first generate_feedback), relative to
# autograder/feedback/<student>/<assignment>/<notebook>.html, not from a CDN.
c.GenerateFeedback.exporter_class = FeedbackExporter
c.FeedbackExporter.mathjax_folder = os.path.join(here, "autograder", "mathjax")
c.FeedbackExporter.mathjax_url = "../../../mathjax/MathJax.js?config=" + MATHJAX_CONFIG
# The formgrader's pages (its own HTMLExporter, template "formgrade") load MathJax from the Jupyter server
# (jupyter-server-mathjax), not a CDN: dlfs/templates/formgrade/offline_maths.html.j2.
c.HTMLExporter.template_file = "offline_maths.html.j2"
c.HTMLExporter.extra_template_basedirs = [NBGRADER_TEMPLATES, TEMPLATES]
c.HTMLExporter.filters = {"offline_mathjax": "dlfs.feedback.offline_mathjax"}
