"""LoopConfig is the one source of every loop setting: the CLI and --set read it."""

import argparse

import pytest

from red_app.errors import ConfigError
from red_app.method.config import (
    CHOICES,
    LoopConfig,
    add_loop_arguments,
    config_from_args,
    config_from_dict,
    overrides_from_strings,
)


def test_cli_choices_come_from_the_config():
    ap = argparse.ArgumentParser()
    add_loop_arguments(ap)
    cfg = config_from_args(ap.parse_args(["--uncertainty", "band", "--self-training", "-1", "--budget", "7"]))
    assert cfg.uncertainty == "band" and cfg.self_training is None and cfg.budget == 7
    with pytest.raises(SystemExit):
        ap.parse_args(["--uncertainty", "nonsense"])
    assert "band" in CHOICES["uncertainty"]


def test_key_value_strings_are_typed_and_checked():
    assert overrides_from_strings(["budget=5", "self_training=none", "warm_start=false", "uncertainty=band"]) == {
        "budget": 5, "self_training": None, "warm_start": False, "uncertainty": "band"}
    for bad in (["budget=abc"], ["nope=1"], ["batch=0"], ["uncertainty=nonsense"]):
        with pytest.raises(ConfigError):
            overrides_from_strings(bad)


def test_stored_dicts_round_trip_and_ignore_unknown_keys():
    cfg = LoopConfig(budget=9, on_reject="skip")
    assert config_from_dict({**cfg.to_dict(), "from_a_newer_version": 1}) == cfg


def test_a_run_stored_before_questions_could_be_chosen_resumes_with_binary_ones():
    old = {k: v for k, v in LoopConfig(budget=9).to_dict().items() if k not in ("question", "choose_k")}
    assert LoopConfig().question == "choose"
    assert config_from_dict(old).question == "binary"
    assert config_from_dict({**old, "question": "choose"}).question == "choose"
