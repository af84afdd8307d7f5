from __future__ import annotations

from pathlib import Path

import pytest

from liveeval.config import Settings, load_settings
from liveeval.config.settings import SECTIONS, ConfigError, env_var

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_documented_with_its_environment_variable() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"| `{name}` |" in text, f"{name} is missing from docs/configuration.md"
        if name not in SECTIONS:
            assert f"`{env_var(name)}`" in text


def test_every_documented_setting_exists() -> None:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    documented = {row.split("`")[1] for row in rows}
    assert documented == set(Settings.model_fields)


def test_precedence_is_defaults_then_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text('port = 9000\nhost = "127.0.0.2"\ndefault_project = "from-file"\n')
    settings = load_settings(
        config,
        environ={"LIVEEVAL_PORT": "9100", "LIVEEVAL_DEFAULT_PROJECT": "from-env"},
        overrides={"port": 9200, "host": None},
    )
    assert settings.port == 9200
    assert settings.host == "127.0.0.2"
    assert settings.default_project == "from-env"
    assert settings.max_body_bytes == 16 * 1024 * 1024


def test_allowed_hosts_are_a_toml_list_or_comma_separated_in_the_environment(
    tmp_path: Path,
) -> None:
    config = tmp_path / "liveeval.toml"
    config.write_text('allowed_hosts = ["evals.lan", "*.corp.example"]\n')
    assert load_settings(config, environ={}).allowed_hosts == ["evals.lan", "*.corp.example"]
    from_env = load_settings(config, environ={"LIVEEVAL_ALLOWED_HOSTS": " a.lan, b.lan ,"})
    assert from_env.allowed_hosts == ["a.lan", "b.lan"]
    assert Settings().allowed_hosts == []


def test_prices_are_read_from_toml_tables(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[prices."gpt-4o-mini"]\ninput_per_mtok = 0.15\noutput_per_mtok = 0.6\n')
    price = load_settings(config, environ={}).prices["gpt-4o-mini"]
    assert (price.input_per_mtok, price.output_per_mtok, price.cache_read_per_mtok) == (
        0.15,
        0.6,
        None,
    )


@pytest.mark.parametrize(
    ("toml", "environ", "expected"),
    [
        ("prot = 1\n", {}, "prot: Extra inputs are not permitted"),
        ('port = "high"\n', {}, "port: Input should be a valid integer"),
        ("", {"LIVEEVAL_PORT": "70000"}, "port: Input should be less than or equal to 65535"),
        ("", {"LIVEEVAL_REQUIRE_KEYS": "maybe"}, "require_keys: Input should be a valid boolean"),
        ("[prices.m]\ninput_per_mtok = -1\noutput_per_mtok = 1\n", {}, "prices.m.input_per_mtok"),
        ("port = \n", {}, "Invalid value"),
    ],
)
def test_broken_config_is_refused_with_the_key_and_the_problem(
    tmp_path: Path, toml: str, environ: dict[str, str], expected: str
) -> None:
    config = tmp_path / "c.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ=environ)
    assert expected in str(error.value)


def test_a_missing_config_file_is_an_error_not_a_silent_default(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_settings_survive_the_json_round_trip_serve_workers_use(tmp_path: Path) -> None:
    """`serve --workers N` hands its settings to each process as JSON."""
    config = tmp_path / "liveeval.toml"
    config.write_text(
        "[checks]\n"
        'default = ["not_empty", { check = "contains", name = "greets", values = ["hi"] }]\n'
        "[sampling.stratified]\n"
        'window = "15m"\n'
        'floors = { "route=billing" = 20 }\n'
        "[sampling.budget]\n"
        "max_cost_usd_per_day = 2.5\n"
        "[judge]\n"
        'provider = "openai"\n'
        'model = "gpt-4o-mini-2024-07-18"\n'
        'run = ["quality", "tone"]\n'
        "[judge.rubrics.tone]\n"
        'template = "Is it polite?"\n'
        'scale = "labels"\n'
        'labels = ["polite", "rude"]\n'
        "[judge.price]\n"
        "input_per_mtok = 0.15\n"
        "output_per_mtok = 0.6\n"
        "[worker]\n"
        "in_process = false\n"
    )
    settings = load_settings(config, environ={})
    assert Settings.model_validate_json(settings.model_dump_json()) == settings
    assert Settings.model_validate_json(Settings().model_dump_json()) == Settings()
