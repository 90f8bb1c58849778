"""The classroom, end to end, by following CLASSROOM.md as written.

Every bash block of the guide is a step: the test runs it, in order, as the user it names (root, the
instructor, each learner), in a clean login-like environment holding the guide's settings with the test's own
folders and user names. The users are real: an instructor and three learners created with useradd (and
removed afterwards); one more learner is on the class list but never hands anything in. Between the guide's
steps the test does what people do: the learners answer chapter 01 (one solves it, one makes one mistake, one
hands in the release untouched) before they submit, and the instructor grades the written answers through
nbgrader's API, as the Formgrader does, before generating feedback. Then it checks every grade, each learner's
feedback, and what each learner can and cannot read. Last, the solver's JupyterLab, started from the class
environment as the solver, is opened in headless Chromium: the Assignments panel lists the submitted chapter,
the Formgrader, "Create assignment" and the course list are absent, and the solver's notebook runs without error.

Needs root (to create users; CI runs as root), bubblewrap, git and the system Python's venv (.ci/run installs
them). About two minutes: the instructor's course install, the release, the class environment, the grading.
"""

import csv
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from course import REPO, free_port, solved, with_answer
from test_browser import ERROR_OUTPUTS, RUN_ALL, chromium_path, open_lab, require_browser, retained
from variants.ch01 import SINGLE_MISTAKE

GUIDE = REPO / "CLASSROOM.md"
CHAPTER = "01_linear_regression"
WRITTEN = "q_learning_rate"
AUTO_POINTS, WRITTEN_POINTS = 16, 2          # chapter 01: seven graded exercises, one written answer
MISTAKE_POINTS = 3                           # SINGLE_MISTAKE: mse_gradients, worth 3
MANUAL = {"solver": 2, "one_mistake": 1}     # the instructor's scores for the written answers
# The machine's own network settings, passed through to pip (the instructor's install reaches the registry).
NETWORK = re.compile(r"^(PIP_.*|.*_PROXY|.*_proxy|SSL_CERT_.*|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creating the class's user accounts needs root "
                                                           "(CI runs as root)")


def guide_steps(text):
    """[(who, commands)] of the guide's bash blocks, in order; who is 'settings', 'root', 'the instructor' or
    'each learner'."""
    steps = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        first, _, commands = block.partition("\n")
        who = re.fullmatch(r"# (settings|as root|as the instructor|as each learner)", first)
        assert who, f"every bash block of CLASSROOM.md is a step this test runs, named by its first line: {first!r}"
        steps.append((who.group(1).removeprefix("as "), commands))
    return steps


def guide_settings(commands):
    """{name: value} of the guide's settings block."""
    return dict(re.match(r"(\w+)=(\S+)", line).groups() for line in commands.splitlines() if line.strip())


def test_the_guide_is_a_sequence_of_steps_with_settings_first():
    steps = guide_steps(GUIDE.read_text())
    assert steps[0][0] == "settings" and [who for who, _ in steps[1:]].count("settings") == 0
    assert {"root", "the instructor", "each learner"} <= {who for who, _ in steps}
    assert set(guide_settings(steps[0][1])) == {"INSTRUCTOR", "LEARNERS", "COURSE_REPO", "COURSE", "CLASS_ENV",
                                                 "EXCHANGE", "COURSE_ID"}


class Machine:
    """The shared server of the test: a root folder every user may enter, users, and a way to run commands as
    each of them."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="dlfs-classroom-", dir="/tmp"))
        self.root.chmod(0o755)
        self.tag = uuid.uuid4().hex[:6]
        self.users = []
        self.said = []          # (user, commands, what they printed) of every step

    def add_user(self, role, home_mode=0o700):
        """A real user with a home folder of the given mode; returns its name."""
        name = f"{role[:7]}{self.tag}"
        home = self.home(name)
        home.parent.mkdir(parents=True, exist_ok=True)
        home.parent.chmod(0o755)
        subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", name],
                       check=True, capture_output=True)
        self.users.append(name)
        home.chmod(home_mode)
        return name

    def home(self, user):
        return Path("/root") if user == "root" else self.root / "home" / user

    def run(self, user, commands, settings, check=True):
        """Run bash ``commands`` as ``user`` from their home, in a login-like environment with ``settings``."""
        home = self.home(user)
        environment = {"PATH": SYSTEM_PATH, "HOME": str(home), "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
                       "OPENBLAS_NUM_THREADS": "1",
                       **{name: value for name, value in os.environ.items() if NETWORK.match(name)}, **settings}
        as_user = [] if user == "root" else ["runuser", "-u", user, "--"]
        done = subprocess.run([*as_user, "env", "-i", *(f"{k}={v}" for k, v in environment.items()),
                               "bash", "-euo", "pipefail", "-c", commands],
                              cwd=home, capture_output=True, text=True, timeout=900)
        self.said.append((user, commands, done.stdout + done.stderr))
        if check:
            assert done.returncode == 0, (f"as {user}, the guide's step\n{commands}\nfailed ({done.returncode}):\n"
                                          f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
        return done

    def remove(self):
        for name in self.users:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def snapshot_of_the_course(destination, owner):
    """A git repository of the course as it stands in this checkout (committed or not): what the instructor
    clones. Owned by the instructor (git refuses to clone another user's repository)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=destination, check=True)
    subprocess.run([*git, "add", "-A"], cwd=destination, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the course"], cwd=destination, check=True)
    subprocess.run(["chown", "-R", owner, str(destination)], check=True)


def root_commands(commands):
    """The root step as run here: its package installation becomes a check that the packages are installed
    (.ci/run installs them on a fresh machine; this test does not touch the machine's packages)."""
    return re.sub(r"^apt-get install -y (.*)$", r"dpkg -s \1 > /dev/null", commands, flags=re.M)


def answer(notebook_path, learner_kind, marker, course):
    """What each kind of learner hands in, written into their fetched notebook (its owner stays the learner)."""
    if learner_kind == "untouched":
        return
    release = nbformat.read(notebook_path, as_version=4)
    source = nbformat.read(course / "solutions" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    notebook = solved(release, source)
    if learner_kind == "one_mistake":
        notebook = with_answer(notebook, *SINGLE_MISTAKE)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN:
            cell.source = f"A learning rate too large makes gradient descent overshoot and diverge. {marker}"
        elif cell.metadata.get("nbgrader", {}).get("grade_id") == "mse_loss":
            cell.source = f"# {marker}\n" + cell.source
    nbformat.write(notebook, notebook_path)


@pytest.fixture(scope="module")
def classroom():
    """The guide followed from start to end; returns what the checks need."""
    machine = Machine()
    try:
        instructor = machine.add_user("teacher", home_mode=0o755)   # the guide's chmod 700 protects the course
        kinds = ["solver", "one_mistake", "untouched"]
        learners = {machine.add_user(f"l{i}{kind[:3]}"): kind for i, kind in enumerate(kinds)}
        absent = f"absent{machine.tag}"                              # on the class list, never hands in
        repo = machine.root / "repo"
        repo.mkdir()
        snapshot_of_the_course(repo, instructor)
        repo.chmod(0o700)                          # (stands for the instructor's private fork)
        settings = {"INSTRUCTOR": instructor, "LEARNERS": " ".join([*learners, absent]),
                    "COURSE_REPO": str(repo), "COURSE": str(machine.home(instructor) / "dlfs"),
                    "CLASS_ENV": str(machine.root / "opt" / "dlfs-class"),
                    "EXCHANGE": str(machine.root / "srv" / "nbgrader" / "exchange"), "COURSE_ID": f"ml{machine.tag}"}
        course = Path(settings["COURSE"])
        for who, commands in guide_steps(GUIDE.read_text())[1:]:
            if "generate_feedback" in commands:         # the Formgrader's part: the written answers, by hand
                grade_written_answers(machine, instructor, settings,
                                      {name: MANUAL[kind] for name, kind in learners.items() if kind in MANUAL})
            if who == "root":
                machine.run("root", root_commands(commands), settings)
            elif who == "the instructor":
                machine.run(instructor, commands, settings)
            else:
                for learner, kind in learners.items():
                    if re.search(r"nbgrader\" submit", commands):
                        answer(machine.home(learner) / CHAPTER / f"{CHAPTER}.ipynb", kind, marker_of(learner), course)
                    machine.run(learner, commands, settings)
                if re.search(r"nbgrader\" submit", commands):
                    hand_in_under_other_names(machine, learners, absent, commands, settings)
        yield machine, settings, instructor, learners, absent, course
    finally:
        machine.remove()


def hand_in_under_other_names(machine, learners, absent, submit, settings):
    """The learner who did nothing submits their untouched notebook as the solver (after the solver did: the
    latest submission is the one collected) and as the absent learner: nbgrader submit takes any --student."""
    idle = next(name for name, kind in learners.items() if kind == "untouched")
    for victim in (next(name for name, kind in learners.items() if kind == "solver"), absent):
        as_victim = re.sub(r"(nbgrader\" submit \S+)", rf"\1 --student={victim}", submit)
        assert as_victim != submit
        machine.run(idle, as_victim, settings)


def marker_of(learner):
    return f"[the answer of {learner}]"


def grade_written_answers(machine, instructor, settings, scores):
    """As the Formgrader's grade API does (a grade's manual_score, committed), as the instructor."""
    script = (f"from nbgrader.api import Gradebook\n"
              f"with Gradebook('sqlite:///autograder/gradebook.db') as gradebook:\n"
              f"    for student, score in {scores!r}.items():\n"
              f"        grade = gradebook.find_grade({WRITTEN!r}, {CHAPTER!r}, {CHAPTER!r}, student)\n"
              f"        gradebook.find_grade_by_id(grade.id).manual_score = score\n"
              f"    gradebook.db.commit()\n")
    machine.run(instructor, f'cd "$COURSE"\n.venv/bin/python -c "$SCRIPT"', {**settings, "SCRIPT": script})


def test_every_grade_is_exported_and_the_absent_learner_is_missing(classroom):
    machine, settings, instructor, learners, absent, course = classroom
    with open(course / "autograder" / "grades.csv", newline="") as export:
        rows = {row["student_id"]: row for row in csv.DictReader(export) if row["assignment"] == CHAPTER}
    expected = {"solver": AUTO_POINTS + MANUAL["solver"],
                "one_mistake": AUTO_POINTS - MISTAKE_POINTS + MANUAL["one_mistake"], "untouched": 0}
    assert {name: float(rows[name]["score"]) for name in learners} == {name: expected[kind]
                                                                        for name, kind in learners.items()}
    assert {rows[name]["max_score"] for name in rows} == {str(float(AUTO_POINTS + WRITTEN_POINTS))}
    assert rows[absent]["status"] == "missing" and rows[absent]["score"] == ""
    assert {rows[name]["status"] for name in learners} == {"ok"}


def test_submissions_under_another_learners_name_are_not_collected(classroom):
    machine, settings, instructor, learners, absent, course = classroom
    (collected,) = [said for user, commands, said in machine.said if "nbgrader collect" in commands]
    idle = next(name for name, kind in learners.items() if kind == "untouched")
    refused = re.findall(r"Not collected: (\S+)\+01_linear_regression\+.* by (\S+), another user", collected)
    solver = next(name for name, kind in learners.items() if kind == "solver")
    assert sorted(refused) == sorted([(solver, idle), (absent, idle)]), collected
    assert not (course / "autograder" / "submitted" / absent).exists()
    # (and the solver's grade is their own: test_every_grade_is_exported_and_the_absent_learner_is_missing)


def test_the_grading_report_has_every_learner(classroom):
    machine, settings, instructor, learners, absent, course = classroom
    with open(course / "autograder" / "reports" / f"{CHAPTER}.csv", newline="") as report:
        rows = {row["student_id"]: row for row in csv.DictReader(report)}
    expected = {"solver": AUTO_POINTS, "one_mistake": AUTO_POINTS - MISTAKE_POINTS, "untouched": 0}
    assert {name: (float(rows[name]["score"]), rows[name]["status"]) for name in learners} == \
        {name: (expected[kind], "ok") for name, kind in learners.items()}
    assert rows[absent]["status"] == "missing"


def test_each_learner_fetched_their_own_feedback_and_no_one_elses(classroom):
    machine, settings, instructor, learners, absent, course = classroom
    for learner, kind in learners.items():
        (feedback,) = (machine.home(learner) / CHAPTER / "feedback").glob(f"*/{CHAPTER}.html")
        page = feedback.read_text()
        others = [marker_of(other) for other in learners if other != learner]
        assert not any(other in page for other in others), f"{learner}'s feedback shows another's answer"
        assert kind == "untouched" or marker_of(learner) in page
        assert "BEGIN HIDDEN TESTS" not in page
        assert feedback.stat().st_uid == machine_uid(learner)


def machine_uid(user):
    return pwd.getpwnam(user).pw_uid


# What a learner finds by walking every folder of the machine's class set-up that they can enter: each
# readable file, as a path. Run as the learner.
WALK = r"""
import os, sys
for top in sys.argv[1:]:
    for folder, folders, files in os.walk(top):
        for name in files:
            path = os.path.join(folder, name)
            if os.access(path, os.R_OK):
                print(path)
"""


def test_a_learner_reads_only_the_release_and_their_own_work(classroom):
    machine, settings, instructor, learners, absent, course = classroom
    exchange, released = Path(settings["EXCHANGE"]), Path(settings["EXCHANGE"]) / settings["COURSE_ID"] / "outbound"
    assert (released / CHAPTER / f"{CHAPTER}.ipynb").is_file(), "released under the class's course id"
    for learner in learners:
        readable = machine.run(learner, f'python3 -c "$WALK" {machine.root / "home"} {exchange}',
                               {**settings, "WALK": WALK})
        readable = [Path(line) for line in readable.stdout.splitlines()]
        assert readable, "the walk found nothing: it did not run as the learner"
        own = machine.home(learner)
        strangers = [p for p in readable if not (p.is_relative_to(own) or p.is_relative_to(released))]
        assert not strangers, f"{learner} can read {strangers[:5]}"
        for secret in [course / "solutions" / CHAPTER / f"{CHAPTER}.pct.py", course / "autograder" / "gradebook.db",
                       *(course / "autograder" / "submitted" / other / CHAPTER / f"{CHAPTER}.ipynb"
                         for other in learners if other != learner),
                       *(machine.home(other) / CHAPTER / f"{CHAPTER}.ipynb" for other in learners if other != learner)]:
            assert secret.exists(), secret
            denied = machine.run(learner, f"cat {secret} > /dev/null", settings, check=False)
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, (learner, secret)
        listing = machine.run(learner, f"ls {exchange / settings['COURSE_ID'] / 'inbound'}", settings, check=False)
        assert "Permission denied" in listing.stderr


def test_the_learners_environment_has_no_instructor_tools_and_no_course(classroom):
    machine, settings, instructor, learners, absent, course = classroom
    learner = next(iter(learners))
    env = Path(settings["CLASS_ENV"])
    shown = machine.run(learner, '"$CLASS_ENV/bin/python" -c "import dlfs, dlfs.data as d; d.load_mnist(n_train=5); '
                                 'print(dlfs.__file__)"\n'
                                 '"$CLASS_ENV/bin/python" -c "import dlfs.judge" 2>&1 || true\n'
                                 '"$CLASS_ENV/bin/jupyter" server extension list 2>&1', settings).stdout
    assert shown.splitlines()[0].startswith(str(env)) and "No module named 'dlfs.judge'" in shown
    enabled = {line.split()[0]: "enabled" in line for line in shown.splitlines()
               if line.strip().startswith("nbgrader.server_extensions.") and ("enabled" in line or "disabled" in line)}
    assert enabled == {"nbgrader.server_extensions.formgrader": False, "nbgrader.server_extensions.course_list": False,
                       "nbgrader.server_extensions.assignment_list": True,
                       "nbgrader.server_extensions.validate_assignment": True}
    labs = machine.run(learner, '"$CLASS_ENV/bin/jupyter" labextension list 2>&1', settings).stdout
    assert set(labs.partition("Disabled extensions:")[2].split()) == {
        "@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:course-list"}


@pytest.fixture
def learners_lab(classroom):
    """The solver's JupyterLab, started from the class environment as the solver (what the JupyterHub spawner or
    the learner runs: `$CLASS_ENV/bin/jupyter lab`), on a free port with a token; yields (url, log path)."""
    require_browser()
    machine, settings, instructor, learners, absent, course = classroom
    solver = next(name for name, kind in learners.items() if kind == "solver")
    port, token = free_port(), secrets.token_hex(16)
    log = machine.root / "solver-lab.log"
    environment = {"PATH": SYSTEM_PATH, "HOME": str(machine.home(solver)), "USER": solver, "LOGNAME": solver,
                   "LANG": "C.UTF-8"}
    with open(log, "w") as output:
        server = subprocess.Popen(["runuser", "-u", solver, "--", "env", "-i",
                                   *(f"{k}={v}" for k, v in environment.items()),
                                   f"{settings['CLASS_ENV']}/bin/jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
                                   f"--port={port}", f"--ServerApp.token={token}",
                                   "--LabApp.expose_app_in_browser=True"],
                                  cwd=machine.home(solver), stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/lab?token={token}"
        deadline = time.monotonic() + 90
        while True:
            assert server.poll() is None, f"the learner's JupyterLab exited:\n{log.read_text()[-3000:]}"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"the learner's JupyterLab did not start:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
        yield url, log
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_a_learner_in_jupyterlab_has_the_assignments_panel_and_no_instructor_tools(learners_lab):
    from playwright.sync_api import sync_playwright

    url, log = learners_lab
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            open_lab(page, url)
            commands = page.evaluate("""(ids) => ids.map(id => window.jupyterapp.commands.hasCommand(id))""",
                                     ["nbgrader:open-assignment-list", "nbgrader:open-formgrader",
                                      "nbgrader:open-create-assignment", "nbgrader:open-course-list"])
            assert commands == [True, False, False, False], commands
            page.evaluate(retained("() => window.jupyterapp.commands.execute('nbgrader:open-assignment-list')"))
            # the panel lists the chapter the learner fetched and submitted, from the class's exchange
            page.wait_for_function(f"""() => document.body.innerText.includes('Submitted assignments')
                && document.body.innerText.includes({CHAPTER!r})""", polling=500)
            page.screenshot(path=str(log.with_suffix(".png")))
            panel = page.evaluate(retained(RUN_ALL), [f"{CHAPTER}/{CHAPTER}.ipynb", 120])
            assert panel
            assert page.evaluate(ERROR_OUTPUTS) == [], "the solver's notebook shows an error in the learner's lab"
            # nbgrader's Validate button sits in the notebook's toolbar (a widget extension, not a command)
            toolbar = page.locator(f"#{panel} .jp-NotebookPanel-toolbar").inner_text()
            assert "Validate" in toolbar, toolbar
            page.screenshot(path=str(log.with_name("solver-notebook.png")))
        finally:
            browser.close()
    logged = log.read_text()
    assert "is not a subdirectory" not in logged and "Traceback" not in logged, logged[-3000:]
