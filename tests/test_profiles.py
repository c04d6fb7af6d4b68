"""The Hypothesis profiles of tests/conftest.py and the check level they imply."""
from hypothesis import settings

from tests.conftest import default_level


def _with_profile(name):
    previous = settings.get_current_profile_name()
    settings.load_profile(name)
    try:
        return settings(), default_level()
    finally:
        settings.load_profile(previous)


def test_thorough_profile_means_many_examples_and_thorough_level():
    s, level = _with_profile("thorough")
    assert s.max_examples >= 100 and not s.derandomize and level == "thorough"


def test_ci_profile_is_derandomised_at_the_default_level():
    s, level = _with_profile("ci")
    assert s.derandomize and s.deadline is None and level == "default"


def test_dev_profile_draws_random_examples_at_the_default_level():
    s, level = _with_profile("dev")
    assert not s.derandomize and s.deadline is None and level == "default"


def test_expensive_property_tests_scale_with_the_profile():
    from tests.strategies import expensive

    def count(name):
        previous = settings.get_current_profile_name()
        settings.load_profile(name)
        try:
            return expensive(2).max_examples
        finally:
            settings.load_profile(previous)

    assert count("ci") == count("dev") == 2
    assert count("thorough") == 25
