import os

import pytest

from course import REPO, Course

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def built_course(tmp_path_factory):
    """The course's text sources built in a temporary directory (source notebooks, provided/, release)."""
    course = Course.copy_of(REPO, tmp_path_factory.mktemp("course"))
    course.build()
    return course
