"""Every graded test judges behaviour: classic mistakes lose exactly their exercise's points,
correct answers in another style keep them (tests/variants/chNN.py)."""

import importlib

import pytest

from cells import run_tests
from dlfs.build import chapters
from course import REPO
from variants import VISIBLE

CHAPTERS = {int(name[:2]): name for name in chapters(REPO)}
CASES = []
for number, chapter in CHAPTERS.items():
    try:
        module = importlib.import_module(f"variants.ch{number:02d}")
    except ModuleNotFoundError:
        continue
    for answer_id, label, code, should_pass in module.VARIANTS:
        CASES.append(pytest.param(chapter, module.TESTS, answer_id, code, should_pass,
                                  id=f"{chapter}-{answer_id}-{label.replace(' ', '_')}"))


def _results(built_course, chapter, answers=None):
    return run_tests(built_course.source(chapter), built_course.root / "solutions" / chapter, answers)


@pytest.mark.parametrize("chapter", sorted(CHAPTERS.values()))
def test_every_chapter_has_variants_for_every_exercise(chapter, built_course):
    number = int(chapter[:2])
    module = importlib.import_module(f"variants.ch{number:02d}")
    answers = [c.metadata["nbgrader"]["grade_id"] for c in built_course.source(chapter).cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    assert sorted(module.TESTS) == sorted(answers)
    for answer_id in answers:
        kinds = {should_pass for a, _, _, should_pass in module.VARIANTS if a == answer_id}
        assert True in kinds and kinds & {False, VISIBLE}, f"{answer_id} needs at least one wrong and one correct variant"
        assert VISIBLE in kinds, (f"{answer_id} needs an obvious wrong answer (zeros, the input unchanged, the "
                                  "transpose, the wrong axis or shape) that its visible tests catch")


@pytest.mark.parametrize("chapter", sorted(CHAPTERS.values()))
def test_solution_passes_every_test(chapter, built_course):
    failures = {k: v for k, v in _results(built_course, chapter).items() if v}
    assert not failures, failures


@pytest.mark.parametrize("chapter, tests, answer_id, code, should_pass", CASES)
def test_variant(chapter, tests, answer_id, code, should_pass, built_course):
    results = _results(built_course, chapter, {answer_id: code})
    target = tests[answer_id]
    if should_pass is True:
        assert results[target] is None, f"a correct answer failed {target}:\n{results[target]}"
    else:
        assert results[target] is not None, f"a wrong answer passed {target}"
    if should_pass == VISIBLE:
        assert results[target].visible, f"only the hidden tests of {target} catch this obvious mistake"
        assert "hint:" in results[target], f"{target} rejects this obvious mistake without a hint:\n{results[target]}"
    others = {k: v for k, v in results.items() if k != target and v}
    assert not others, f"the variant of {answer_id} also changed other exercises' results: {others}"
